#!/usr/bin/env bash
# How fast could `vouch sbom` be on npm-cli's package-lock.json if it gave up its design?
# Times, in one run on the same input: cdxgen, vouch, `npm-bound` (scripts/bench/npm-bound: a
# transcoder for this one format with no shared model, which does less than vouch), and the
# start and exit of both binaries. Prints a table in Markdown and npm-bound's phases.
#
# Usage: scripts/bench/bound.sh [RUNS]   (default 200 runs of the fast commands; cdxgen 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-200}"
shared="${VOUCH_SHARED_DIR:-$repo/../shared}"
lockfile="$shared/corpus/lockfiles/npm/npm-cli-v3/package-lock.json"
tools="$repo/target/bench-tools"
out="$repo/target/bench/bound"
[ -f "$lockfile" ] || { echo "benchmark needs the lockfile corpus at $shared" >&2; exit 2; }

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ ! -x "$tools/npm/node_modules/.bin/cdxgen" ]; then
    mkdir -p "$tools/npm"
    (cd "$tools/npm" && npm install --silent --no-audit --no-fund @cyclonedx/cdxgen >/dev/null)
fi
cargo build --release --locked -p vouch-cli
cargo build --release --locked --manifest-path scripts/bench/npm-bound/Cargo.toml \
    --target-dir target/npm-bound
export CDXGEN_NO_BANNER=true FETCH_LICENSE=false

rm -rf "$out" && mkdir -p "$out/input"
cp "$lockfile" "$out/input/"
file="$out/input/package-lock.json"
# Copies, so that neither binary is the one cargo may be rewriting.
cp target/release/vouch "$out/vouch"
cp target/npm-bound/release/npm-bound "$out/npm-bound"
cdxgen="$tools/npm/node_modules/.bin/cdxgen"

(cd "$out" && hyperfine -N --warmup 1 --runs 5 --style none --export-json "$out/cdxgen.json" \
    --prepare "rm -f $out/cdxgen-out.json" "$cdxgen -o $out/cdxgen-out.json --no-recurse $out/input" \
    >/dev/null)
# Both write the document to standard output, which hyperfine sends to /dev/null.
(cd "$out" && hyperfine -N --warmup 10 --runs "$runs" --style none --export-json "$out/fast.json" \
    "$out/vouch sbom $file" "$out/npm-bound $file" "$out/vouch --version" "$out/npm-bound --noop" \
    >/dev/null)

python3 - "$out/cdxgen.json" "$out/fast.json" <<'EOF'
import json, sys
cdxgen = json.load(open(sys.argv[1]))["results"][0]["median"] * 1000
names = ["vouch sbom", "npm-bound", "vouch --version", "npm-bound --noop"]
fast = [r["median"] * 1000 for r in json.load(open(sys.argv[2]))["results"]]
print(f"cdxgen: {cdxgen:.2f} ms; 200x needs {cdxgen / 200:.2f} ms or less")
print()
print("| command | median | cdxgen / command | above its binary's start and exit |")
print("|---|---|---|---|")
for i, (name, ms) in enumerate(zip(names, fast)):
    above = f"{ms - fast[i + 2]:.2f} ms" if i < 2 else ""
    print(f"| `{name}` | {ms:.2f} ms | {cdxgen / ms:.0f}x | {above} |")
EOF

# npm-bound's own phases (medians of 50 runs): they add up to its time inside main.
for _ in $(seq 50); do NPM_BOUND_PHASES=1 "$out/npm-bound" "$file" 2>&1 >/dev/null; done |
    python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin]
phases = {rows[0][i]: statistics.median(float(r[i + 1]) for r in rows) for i in range(0, 8, 2)}
print()
print("npm-bound, medians in ms: " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
'
