#!/usr/bin/env bash
# Benchmark: `vouch verify` against sigstore-python 4.5.1 (`sigstore verify identity`), the
# verifier a user would otherwise run, on the same bundles with the same trust configuration,
# in the same run, offline. Medians from hyperfine, peak memory from GNU time; results go to
# target/bench/verify.md (copy the table into docs/benchmarks.md).
#
# Inputs: bundles of the sigstore-conformance suite (public-good production instance): a
# message-signature bundle (v0.3) and a DSSE in-toto bundle; and a batch of 1,000 artifact and
# bundle pairs (copies of one pair under different names, so the work per pair is the same).
#
# Usage: scripts/bench/verify.sh [RUNS]   (default 10 runs per command)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-10}"
shared="${VOUCH_SHARED_DIR:-$repo/../shared}"
cases="$shared/corpus/sigstore-conformance/bundle-verify"
trust="$shared/corpus/trust/production"
tools="$repo/target/bench-tools"
out="$repo/target/bench"
work="$out/verify-work"
mkdir -p "$tools" "$out"
[ -d "$cases" ] || { echo "benchmark needs the conformance cases at $cases" >&2; exit 2; }

# --- install the tools --------------------------------------------------------------------
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
if [ ! -x "$tools/sigstore-venv/bin/sigstore" ]; then
    python3 -m venv "$tools/sigstore-venv"
    "$tools/sigstore-venv/bin/pip" install --quiet 'sigstore==4.5.1'
fi
cargo build --release --locked -p vouch-cli
vouch="$repo/target/release/vouch"
sigstore="$tools/sigstore-venv/bin/sigstore"

# --- the inputs -----------------------------------------------------------------------------
rm -rf "$work" && mkdir -p "$work/batch"
# The client trust configuration both tools read: the production trusted root and signing
# configuration, so neither reaches for TUF.
python3 - "$trust" "$work/trust-config.json" <<'EOF'
import json, sys
trust, out = sys.argv[1], sys.argv[2]
cfg = {
    "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
    "trustedRoot": json.load(open(f"{trust}/trusted_root.json")),
    "signingConfig": json.load(open(f"{trust}/signing_config.v0.2.json")),
}
json.dump(cfg, open(out, "w"))
EOF
cfg="$work/trust-config.json"
identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
issuer="https://token.actions.githubusercontent.com"
cp "$cases/a.txt" "$work/a.txt"
for i in $(seq 1 1000); do
    cp "$cases/a.txt" "$work/batch/f$i.txt"
    cp "$cases/happy-path-v0.3/bundle.sigstore.json" "$work/batch/f$i.txt.sigstore.json"
done

peak_mb() { # peak RSS in MB of one run of the command
    /usr/bin/time -f '%M' "$@" >/dev/null 2>"$out/time.txt" || true
    awk 'END { printf "%.1f", $1 / 1024 }' "$out/time.txt"
}
median_ms() { # median wall time in ms from a hyperfine JSON export, by command index
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print(round(r['median']*1000, 2))" "$1" "$2"
}

{
echo "| input | vouch median | vouch peak | sigstore-python median | sigstore-python peak | sigstore-python / vouch |"
echo "|---|---|---|---|---|---|"
} > "$out/verify.md"

cd "$work"
for case in happy-path-v0.3 happy-path-intoto-in-dsse-v3; do
    bundle="$cases/$case/bundle.sigstore.json"
    v=("$vouch" verify a.txt --offline --trust-config "$cfg" --bundle "$bundle" --certificate-identity "$identity" --certificate-oidc-issuer "$issuer")
    p=("$sigstore" --trust-config "$cfg" verify identity --bundle "$bundle" --cert-identity "$identity" --cert-oidc-issuer "$issuer" a.txt)
    # Both must accept before their times mean anything.
    "${v[@]}" >/dev/null
    "${p[@]}" >/dev/null 2>&1 || { echo "sigstore-python rejected $case" >&2; "${p[@]}"; exit 1; }
    hyperfine --warmup 2 --runs "$runs" --export-json "$out/verify-$case.json" -N \
        "$(printf '%q ' "${v[@]}")" "$(printf '%q ' "${p[@]}")" >/dev/null
    vm=$(median_ms "$out/verify-$case.json" 0)
    pm=$(median_ms "$out/verify-$case.json" 1)
    vp=$(peak_mb "${v[@]}")
    pp=$(peak_mb "${p[@]}")
    ratio=$(python3 -c "print(round($pm / $vm))")
    echo "| \`$case\` | $vm ms | $vp MB | $pm ms | $pp MB | ${ratio}x |" >> "$out/verify.md"
done

# The batch: 1,000 pairs in one process each.
files=(batch/f*.txt)
v=("$vouch" verify "${files[@]}" --offline --trust-config "$cfg" --certificate-identity "$identity" --certificate-oidc-issuer "$issuer")
p=("$sigstore" --trust-config "$cfg" verify identity --cert-identity "$identity" --cert-oidc-issuer "$issuer" "${files[@]}")
"${v[@]}" >/dev/null
"${p[@]}" >/dev/null 2>&1 || { echo "sigstore-python rejected the batch" >&2; exit 1; }
batch_runs=$(( runs < 3 ? runs : 3 ))
hyperfine --warmup 1 --runs "$batch_runs" --export-json "$out/verify-batch.json" -N \
    "$(printf '%q ' "${v[@]}")" "$(printf '%q ' "${p[@]}")" >/dev/null
vm=$(median_ms "$out/verify-batch.json" 0)
pm=$(median_ms "$out/verify-batch.json" 1)
vp=$(peak_mb "${v[@]}")
pp=$(peak_mb "${p[@]}")
ratio=$(python3 -c "print(round($pm / $vm))")
rate=$(python3 -c "print(round(1000 / ($vm / 1000)))")
prate=$(python3 -c "print(round(1000 / ($pm / 1000)))")
echo "| 1,000 pairs in one process | $vm ms ($rate/s) | $vp MB | $pm ms ($prate/s) | $pp MB | ${ratio}x |" >> "$out/verify.md"

echo "cores: $(nproc); runs: $runs (batch: $batch_runs)" >> "$out/verify.md"
cat "$out/verify.md"
