#!/usr/bin/env bash
# Benchmark: `vouch release` of 20 artifacts (1 MiB each) against `vouch devstack` on loopback:
# the SBOM of the bundled example, provenance, 20 keyless signatures and two signed
# attestations. Reports hyperfine's median for the whole command and the per-stage times
# `vouch release` prints (from one further run). Results go to target/bench/release.md (copy
# into docs/benchmarks.md).
#
# Usage: scripts/bench/release.sh [RUNS] [ARTIFACTS]   (default 5 runs, 20 artifacts)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-5}"
count="${2:-20}"
out="$repo/target/bench"
work="$out/release-work"
mkdir -p "$out"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --locked -p vouch-cli
vouch="$repo/target/release/vouch"

rm -rf "$work" && mkdir -p "$work/dist" "$work/state"
for i in $(seq 1 "$count"); do head -c 1048576 /dev/urandom > "$work/dist/artifact-$i.bin"; done
"$vouch" devstack --state-dir "$work/state" --addr 127.0.0.1:0 >"$work/devstack.log" 2>&1 &
stack=$!
trap 'kill $stack 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -f "$work/state/ready" ] && break; sleep 0.1; done
[ -f "$work/state/ready" ] || { echo "devstack did not start" >&2; exit 2; }
token=$("$vouch" devstack token --state-dir "$work/state" --email bench@example.com --ttl 3600)
cmd="$vouch release --sbom examples/demo-app --out $work/out --builder-id urn:example:bench \
--identity-token $token --trust-config $work/state/trust_config.json $work/dist/*.bin"

hyperfine --runs "$runs" --warmup 1 --export-json "$out/release.json" -n "vouch release ($count artifacts)" "$cmd"
median=$(python3 -c "import json; print(round(json.load(open('$out/release.json'))['results'][0]['median']*1000, 1))")
{
    echo "whole command, median of $runs: $median ms"
    echo
    $cmd
} | tee "$out/release.md"
