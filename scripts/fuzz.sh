#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 10) from its committed seeds, on the nightly
# toolchain that cargo-fuzz needs. New inputs go to fuzz/target/corpus/, never into the seeds.
# vouch's crates forbid `unsafe`, so the sanitizer is off: the fuzzers hunt panics, overflows
# and runaway memory, which need no sanitizer to show.
set -euo pipefail
secs="${1:-10}"
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
toolchain="${VOUCH_FUZZ_TOOLCHAIN:-+nightly}"
if ! cargo "$toolchain" --version >/dev/null 2>&1; then
    echo "SKIPPED: fuzzing needs the $toolchain toolchain, which is not installed; no target ran"
    exit 0
fi

cargo "$toolchain" fuzz build --sanitizer none -O

# The Sigstore target's fixed material and extra seeds come from the sigstore-conformance cases
# of the shared corpus, copied into the (uncommitted) working corpus, not into the seeds.
shared="${VOUCH_SHARED_DIR:-$PWD/../../shared}"
conformance="$shared/corpus/sigstore-conformance/bundle-verify"
if [ -f "$conformance/a.txt" ]; then
    export VOUCH_FUZZ_CONFORMANCE="$conformance"
    work="target/corpus/sigstore_verify"
    mkdir -p "$work"
    for case in happy-path-v0.3 happy-path-intoto-in-dsse-v3 rekor2-happy-path; do
        cp "$conformance/$case/bundle.sigstore.json" "$work/seed-$case.json"
    done
    # A DSSE bundle whose entry is labelled `intoto` 0.0.1, the kind whose last check vouch
    # makes itself.
    sed 's/"kind": *"dsse"/"kind": "intoto"/' \
        "$conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json" > "$work/seed-intoto-v001.json"
    { printf '\x00'; cat "$conformance/rekor2-happy-path/trusted_root.json"; } > "$work/seed-root.bin"
    { printf '\x02'; cat "$conformance/managed-key-happy-path/bundle.sigstore.json"; } > "$work/seed-key.bin"
else
    echo "note: sigstore-conformance cases not found; the Sigstore fuzz target runs without them"
fi
status=0
for target in $(cargo "$toolchain" fuzz list); do
    work="target/corpus/$target"
    mkdir -p "$work" "seeds/$target"
    if cargo "$toolchain" fuzz run --sanitizer none -O "$target" "$work" "seeds/$target" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -max_len=262144 -print_final_stats=0 \
        > "target/$target.log" 2>&1; then
        echo "fuzz $target: ok ($(ls "$work" | wc -l) corpus inputs)"
    else
        echo "fuzz $target: FAILED (see fuzz/target/$target.log)"
        tail -n 30 "target/$target.log"
        status=1
    fi
done
exit "$status"
