#!/usr/bin/env bash
# How fast could `vouch sbom` be on the two lockfiles where it is short of 200 times cdxgen
# (npm-cli's package-lock.json, vite's pnpm-lock.yaml) if it gave up its design? Times, in one
# run on the same inputs: cdxgen, vouch, and a transcoder for that one format with no shared
# model that does less than vouch (scripts/bench/sbom-bound), and the start and exit of both
# binaries. Prints a table in Markdown and each transcoder's phases.
#
# Usage: scripts/bench/bound.sh [RUNS]   (default 200 runs of the fast commands; cdxgen 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-200}"
shared="${VOUCH_SHARED_DIR:-$repo/../shared}"
corpus="$shared/corpus/lockfiles"
tools="$repo/target/bench-tools"
out="$repo/target/bench/bound"
[ -d "$corpus" ] || { echo "benchmark needs the lockfile corpus at $corpus" >&2; exit 2; }

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ ! -x "$tools/npm/node_modules/.bin/cdxgen" ]; then
    mkdir -p "$tools/npm"
    (cd "$tools/npm" && npm install --silent --no-audit --no-fund @cyclonedx/cdxgen >/dev/null)
fi
cargo build --release --locked -p vouch-cli
cargo build --release --locked --manifest-path scripts/bench/sbom-bound/Cargo.toml \
    --target-dir target/sbom-bound
export CDXGEN_NO_BANNER=true FETCH_LICENSE=false

rm -rf "$out" && mkdir -p "$out"
# Copies, so that no binary timed is one cargo may be rewriting.
cp target/release/vouch target/sbom-bound/release/npm-bound target/sbom-bound/release/pnpm-bound \
    "$out/"
cdxgen="$tools/npm/node_modules/.bin/cdxgen"

cases=(
  "npm|npm/npm-cli-v3/package-lock.json"
  "pnpm|pnpm/vite-v9/pnpm-lock.yaml"
)
for case in "${cases[@]}"; do
    eco="${case%%|*}"
    dir="$out/input/$eco"
    mkdir -p "$dir"
    cp "$corpus/${case#*|}" "$dir/"
    file="$dir/$(basename "${case#*|}")"
    (cd "$dir" && hyperfine -N --warmup 1 --runs 5 --style none \
        --export-json "$out/$eco-cdxgen.json" --prepare "rm -f $out/cdxgen-out.json" \
        "$cdxgen -o $out/cdxgen-out.json --no-recurse $dir" >/dev/null)
    # Both write the document to a file that does not exist yet, as in scripts/bench/sbom.sh
    # (vouch's `-o` streams the document, where standard output holds it whole).
    (cd "$dir" && hyperfine -N --warmup 10 --runs "$runs" --style none \
        --export-json "$out/$eco-fast.json" --prepare "rm -f $out/doc.json" \
        "$out/vouch sbom $file -o $out/doc.json" "$out/$eco-bound $file $out/doc.json" >/dev/null)
    for _ in $(seq 50); do
        rm -f "$out/doc.json"
        SBOM_BOUND_PHASES=1 "$out/$eco-bound" "$file" "$out/doc.json" 2>&1 >/dev/null
    done > "$out/$eco-phases.txt"
done
hyperfine -N --warmup 10 --runs "$runs" --style none --export-json "$out/start.json" \
    "$out/vouch --version" "$out/npm-bound --noop" >/dev/null

python3 - "$out" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
def medians(name):
    return [r["median"] * 1000 for r in json.load(open(f"{out}/{name}.json"))["results"]]
vouch_start, bound_start = medians("start")
print(f"start and exit: `vouch --version` {vouch_start:.2f} ms, `npm-bound --noop` {bound_start:.2f} ms")
print()
print("| lockfile | cdxgen | 200x needs | vouch | cdxgen / vouch | bound | cdxgen / bound | bound above its start and exit |")
print("|---|---|---|---|---|---|---|---|")
for eco in ("npm", "pnpm"):
    (cdxgen,) = medians(f"{eco}-cdxgen")
    vouch, bound = medians(f"{eco}-fast")
    print(f"| {eco} | {cdxgen:.2f} ms | {cdxgen / 200:.2f} ms | {vouch:.2f} ms | {cdxgen / vouch:.0f}x "
          f"| {bound:.2f} ms | {cdxgen / bound:.0f}x | {bound - bound_start:.2f} ms |")
print()
for eco in ("npm", "pnpm"):
    rows = [line.split() for line in open(f"{out}/{eco}-phases.txt")]
    names = rows[0][0::2]
    cells = [f"{n} {statistics.median(float(r[2 * i + 1]) for r in rows):.2f}" for i, n in enumerate(names)]
    print(f"{eco}-bound's phases inside main, medians of {len(rows)} runs in ms: " + ", ".join(cells))
EOF
