#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs
# formatting, lints, unit and integration tests, the official SBOM validators over the corpus,
# cargo-deny, and a short fuzzing pass over every parser.
#
# Environment:
#   VOUCH_SHARED_DIR      shared test data (schemas, corpus); default: ../shared beside the checkout
#   VOUCH_FUZZ_SECONDS    seconds per fuzz target (default 10; 0 skips fuzzing)
#   VOUCH_SKIP_INSTALL=1  use the tools already on PATH and in .venv
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export VOUCH_SHARED_DIR="${VOUCH_SHARED_DIR:-$repo/../shared}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# One build from scratch: incremental state would only take disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fuzz_seconds="${VOUCH_FUZZ_SECONDS:-10}"

passed=0
failed=0
step() {
    local name=$1
    shift
    echo
    echo "==> $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "<== $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        echo "<== $name: FAILED ($((SECONDS - start)) s)"
    fi
}

echo "disk: $(df -h . | tail -1 | awk '{print $4}') free at the start"
if [ ! -d "$VOUCH_SHARED_DIR/schemas" ]; then
    echo "WARNING: shared test data not found at $VOUCH_SHARED_DIR: corpus and schema tests will say SKIPPED"
fi

if [ "${VOUCH_SKIP_INSTALL:-0}" != 1 ]; then
    scripts/install-test-tools.sh
fi
# shellcheck disable=SC1091
export PATH="$repo/.venv/bin:$HOME/.cargo/bin:$PATH"

# The Debian image the image tests and benchmarks read (built once, cached in target/).
scripts/build-test-images.sh
# The image tests fail, rather than skip, without their real registry, once it is installed.
if command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ]; then
    export VOUCH_REQUIRE_REGISTRY=1
else
    echo "WARNING: docker-registry is not installed: the registry tests will say SKIPPED"
fi
# The cosign interoperability tests likewise, once cosign is unpacked (apt may not reach the
# Debian release it comes from).
if [ -x target/test-tools/cosign/usr/bin/cosign ]; then
    export VOUCH_REQUIRE_COSIGN=1
else
    echo "WARNING: cosign is not installed: the cosign interoperability tests will say SKIPPED"
fi
# Tests that need an installed peer (grpcio-tools for the in-toto protos) fail without it.
export VOUCH_REQUIRE_TOOLS=1

step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo nextest" cargo nextest run --workspace --locked --no-fail-fast
step "doc tests" cargo test --workspace --locked --doc
step "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
step "SBOM validation (official validators)" \
    .venv/bin/python scripts/validate_sboms.py --vouch target/debug/vouch \
    --shared "$VOUCH_SHARED_DIR" --out target/sbom-validation
self_sbom() {
    # The project describes its own dependencies and checks the result.
    local schemas=()
    [ -d "$VOUCH_SHARED_DIR/schemas" ] && schemas=(--schema-dir "$VOUCH_SHARED_DIR/schemas")
    target/debug/vouch sbom Cargo.lock --name vouch -o target/vouch.cdx.json &&
        target/debug/vouch sbom check target/vouch.cdx.json "${schemas[@]}"
}
step "own SBOM" self_sbom
# The README's main job, as written there: the offline release rehearsal on the bundled example.
step "quick start (release rehearsal)" target/debug/vouch release --devstack \
    --sbom examples/demo-app --out target/release-rehearsal examples/demo-app/dist/demo-app-0.1.0.tar.gz
step "cargo deny (licenses, bans, sources)" cargo deny --locked check licenses bans sources
if [ "$fuzz_seconds" != 0 ]; then
    step "fuzz (${fuzz_seconds}s per target)" scripts/fuzz.sh "$fuzz_seconds"
fi

echo
df -h . | tail -1 | awk '{print "disk: " $4 " free, target/ holds " t}' t="$(du -sh target 2>/dev/null | cut -f1)"
echo "steps: $passed passed, $failed failed"
[ "$failed" = 0 ]
