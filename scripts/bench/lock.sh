#!/usr/bin/env bash
# Benchmark: `vouch lock check`.
#  1. Checking the largest npm lockfile of the corpus, against lockfile-lint (npm) with its
#     equivalent validators, in the same run (hyperfine medians).
#  2. Artifact hashing throughput of `--verify-artifacts`: a temporary cargo home holding
#     SIZE_MB of `.crate` files and a Cargo.lock pinning them, against `sha256sum` of the same
#     files (one process, and one per core with xargs -P), files in the page cache.
# Results go to target/bench/lock.md (copy the table into docs/benchmarks.md).
#
# Usage: scripts/bench/lock.sh [RUNS] [SIZE_MB]   (default 10 runs, 1024 MB)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-10}"
size_mb="${2:-1024}"
shared="${VOUCH_SHARED_DIR:-$repo/../shared}"
corpus="$shared/corpus/lockfiles"
out="$repo/target/bench"
work="$out/lock-work"
mkdir -p "$out" "$work"
[ -d "$corpus" ] || { echo "benchmark needs the lockfile corpus at $corpus" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "benchmark needs hyperfine" >&2; exit 2; }

lint="$repo/target/test-tools/node_modules/.bin/lockfile-lint"
if [ ! -x "$lint" ]; then
    npm install --silent --no-audit --no-fund --prefix "$repo/target/test-tools" 'lockfile-lint@5.0.1'
fi
if [ -z "${VOUCH_BIN:-}" ]; then
    cargo build --release --locked -p vouch-cli
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    VOUCH_BIN="$target_dir/release/vouch"
fi
vouch="$VOUCH_BIN"

# --- 1. the largest npm lockfile --------------------------------------------------------------
largest=$(find "$corpus" -name 'package-lock.json' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
bytes=$(stat -c %s "$largest")
rel=${largest#"$corpus"/}
# vouch exits 0 or 1 by its findings; -i keeps hyperfine from treating 1 as a failure.
hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$out/lock-check.json" \
    -n "vouch lock check" "$vouch lock check --skip-manifest --format json $largest" \
    -n "lockfile-lint" "$lint --path $largest --type npm --validate-https --allowed-hosts npm yarn --validate-package-names --validate-integrity --format plain" \
    >"$out/lock-check.txt"
median() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (1000*[r for r in d["results"] if r["command"]==sys.argv[2]][0]["median"]))' "$1" "$2"; }
v_ms=$(median "$out/lock-check.json" "vouch lock check")
l_ms=$(median "$out/lock-check.json" "lockfile-lint")

# --- 2. artifact hashing ----------------------------------------------------------------------
home="$work/cargo-home"
cache="$home/registry/cache/index.crates.io-0000000000000000"
project="$work/project"
files=64
per_mb=$(( size_mb / files ))
mkdir -p "$cache" "$project"
if [ "$(find "$cache" -name '*.crate' | wc -l)" != "$files" ] || [ "$(stat -c %s "$cache/bench-0-1.0.0.crate" 2>/dev/null || echo 0)" != $(( per_mb * 1048576 )) ]; then
    rm -f "$cache"/*.crate
    for i in $(seq 0 $(( files - 1 ))); do
        head -c $(( per_mb * 1048576 )) /dev/urandom >"$cache/bench-$i-1.0.0.crate"
    done
fi
{
    echo 'version = 4'
    for i in $(seq 0 $(( files - 1 ))); do
        sum=$(sha256sum "$cache/bench-$i-1.0.0.crate" | cut -d' ' -f1)
        printf '\n[[package]]\nname = "bench-%s"\nversion = "1.0.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "%s"\n' "$i" "$sum"
    done
} >"$project/Cargo.lock"
total=$(( files * per_mb * 1048576 ))
cores=$(nproc)
hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/lock-hash.json" \
    -n "vouch --verify-artifacts" "$vouch lock check --skip-manifest --verify-artifacts --cargo-home $home $project/Cargo.lock" \
    -n "sha256sum" "sh -c 'sha256sum $cache/*.crate >/dev/null'" \
    -n "sha256sum x$cores" "sh -c 'ls $cache/*.crate | xargs -P $cores -n 8 sha256sum >/dev/null'" \
    >"$out/lock-hash.txt"
gbs() { python3 -c 'import sys; print("%.2f" % (int(sys.argv[1]) / (float(sys.argv[2]) / 1000) / 1e9))' "$total" "$1"; }
h_ms=$(median "$out/lock-hash.json" "vouch --verify-artifacts")
s_ms=$(median "$out/lock-hash.json" "sha256sum")
p_ms=$(median "$out/lock-hash.json" "sha256sum x$cores")

cat >"$out/lock.md" <<EOF
| what | input | vouch | peer | peer time |
|---|---|---|---|---|
| check | \`$rel\` ($bytes bytes) | $v_ms ms | lockfile-lint 5.0.1 | $l_ms ms |
| hash artifacts | $files \`.crate\` files, $(( files * per_mb )) MiB, $cores cores | $h_ms ms ($(gbs "$h_ms") GB/s) | sha256sum, 1 process | $s_ms ms ($(gbs "$s_ms") GB/s) |
| hash artifacts | same | | sha256sum, $cores processes | $p_ms ms ($(gbs "$p_ms") GB/s) |
EOF
cat "$out/lock.md"
