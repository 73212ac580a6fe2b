#!/usr/bin/env bash
# Benchmark: sustained Rekor v1 appends per second against `vouch devstack`, with persistence on
# (every append is acknowledged only after its entry is synced to disk), over loopback HTTP,
# for a bounded time. Issue 4's target: at least 500 appends/s on 2 cores.
#
# The load generator is the ignored `bench_appends` test of crates/vouch-devstack/tests/rekor.rs,
# built in release mode: it starts the devstack in-process on 127.0.0.1, runs CLIENTS concurrent
# clients that sign and submit hashedrekord entries for SECS seconds, and prints one JSON line
# (appends, appends per second, p50 and p99 latency). The state directory is under target/, on
# the build machine's disk, not a tmpfs, so that the syncs are real. Server and clients share
# the machine's cores; with `taskset` present they are pinned to CPUs 0 and 1.
#
# Usage: scripts/bench/devstack.sh [SECS] [CLIENTS]   (default 10 s, 8 clients; at most 60 s)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"
clients="${2:-8}"
out="$PWD/target/bench"
mkdir -p "$out/devstack-state"

cargo test --release -p vouch-devstack --test rekor --no-run
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0,1); fi
VOUCH_REKOR_BENCH_SECS="$secs" VOUCH_REKOR_BENCH_CLIENTS="$clients" \
VOUCH_REKOR_BENCH_DIR="$out/devstack-state" \
    "${pin[@]}" timeout 300 cargo test --release -p vouch-devstack --test rekor -- \
    --ignored --exact bench_appends --nocapture --test-threads=1 2>/dev/null \
    | grep -o '{"appends".*}' | tee "$out/devstack.json"
rm -rf "$out/devstack-state"
