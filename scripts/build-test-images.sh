#!/usr/bin/env bash
# Builds the real container images the image tests and benchmarks read, once, and caches them
# under target/test-images:
#   debian-bookworm/   an OCI layout (tag `bookworm`) of a minimal Debian 12 root filesystem
#                      made with debootstrap from Debian's packages and packed with umoci
#
# Needs root (debootstrap), debootstrap and umoci (installed by install-test-tools.sh), and
# Debian's package mirror. Without them it says so and exits 0: the tests that need the image
# then report SKIPPED.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/test-images
mkdir -p "$out"

need() { command -v "$1" >/dev/null 2>&1; }

debian="$out/debian-bookworm"
if [ ! -f "$debian/index.json" ]; then
    if ! need debootstrap || ! need umoci || [ "$(id -u)" != 0 ]; then
        echo "warning: debootstrap, umoci or root missing: the Debian test image is not built" >&2
        exit 0
    fi
    work=$(mktemp -d "$out/.debian.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    mirror="${VOUCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -20 "$work/debootstrap.log" >&2
        echo "warning: debootstrap failed: the Debian test image is not built" >&2
        exit 0
    }
    umoci init --layout "$work/oci"
    umoci new --image "$work/oci:bookworm"
    umoci insert --image "$work/oci:bookworm" "$work/rootfs" /
    rm -rf "$debian"
    mv "$work/oci" "$debian"
    echo "built $debian"
fi
