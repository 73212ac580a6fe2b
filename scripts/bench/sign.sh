#!/usr/bin/env bash
# Benchmark: signing 100 files keylessly with `vouch sign` against sigstore-python 4.5.1
# (`sigstore sign`), the signer a user would otherwise run, on the same files, against the same
# `vouch devstack` on loopback, in the same run. Both tools take all files in one invocation and
# write FILE.sigstore.json beside each; both use Rekor v1 (and then v2) and the timestamp
# authority. Medians from hyperfine; results go to target/bench/sign.md (copy the table into
# docs/benchmarks.md).
#
# Usage: scripts/bench/sign.sh [RUNS] [FILES]   (default 5 runs, 100 files)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-5}"
count="${2:-100}"
tools="$repo/target/bench-tools"
out="$repo/target/bench"
work="$out/sign-work"
mkdir -p "$tools" "$out"

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ ! -x "$tools/sigstore-venv/bin/sigstore" ]; then
    python3 -m venv "$tools/sigstore-venv"
    "$tools/sigstore-venv/bin/pip" install --quiet 'sigstore==4.5.1'
fi
cargo build --release --locked -p vouch-cli
vouch="$repo/target/release/vouch"
sigstore="$tools/sigstore-venv/bin/sigstore"

rm -rf "$work" && mkdir -p "$work/files" "$work/state"
for i in $(seq 1 "$count"); do
    head -c 65536 /dev/urandom > "$work/files/f$i.bin"
done
# The devstack on loopback, stopped on exit whatever happens.
"$vouch" devstack --state-dir "$work/state" --addr 127.0.0.1:0 >"$work/devstack.log" 2>&1 &
stack=$!
trap 'kill $stack 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -f "$work/state/ready" ] && break; sleep 0.1; done
[ -f "$work/state/ready" ] || { echo "devstack did not start" >&2; cat "$work/devstack.log" >&2; exit 2; }
cfg="$work/state/trust_config.json"
token=$("$vouch" devstack token --state-dir "$work/state" --email bench@example.com --ttl 3600)

median_ms() {
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print(round(r['median']*1000, 1))" "$1" "$2"
}
{
echo "| workload | vouch median | sigstore-python median | sigstore-python / vouch |"
echo "|---|---|---|---|"
} > "$out/sign.md"
for rekor in 1 2; do
    # Every run writes bundles that do not exist yet (for both tools; the removal is not timed):
    # replacing the previous run's bundles would make each run wait for the disk to finish
    # writing them, a cost of back-to-back runs, not of the tool.
    hyperfine --runs "$runs" --warmup 1 --export-json "$out/sign-v$rekor.json" \
        --prepare "rm -f $work/files/*.sigstore.json" \
        -n "vouch sign ($count files, Rekor v$rekor)" \
        "$vouch sign --identity-token $token --trust-config $cfg --rekor-version $rekor $work/files/*.bin" \
        -n "sigstore-python sign ($count files, Rekor v$rekor)" \
        "$sigstore --trust-config $cfg sign --identity-token $token --rekor-version $rekor --overwrite $work/files/*.bin"
    v=$(median_ms "$out/sign-v$rekor.json" 0)
    p=$(median_ms "$out/sign-v$rekor.json" 1)
    ratio=$(python3 -c "print(round($p / $v, 1))")
    echo "| $count files of 64 KiB, Rekor v$rekor | $v ms | $p ms | ${ratio}x |" >> "$out/sign.md"
done
# Both tools' last bundles verify with vouch (a benchmark of broken output would mean nothing).
"$vouch" verify "$work"/files/*.bin --trust-config "$cfg" \
    --certificate-identity bench@example.com --certificate-oidc-issuer "$(python3 -c "import json;print(json.load(open('$work/state/devstack.json'))['url'])")" >/dev/null
cat "$out/sign.md"
