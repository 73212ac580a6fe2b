#!/usr/bin/env python3
"""Generate SBOMs for every corpus lockfile and the bundled example, then judge them with the
official validators: check-jsonschema against the official JSON schemas, pyspdxtools (spdx-tools)
for SPDX 2.3 semantics, pyshacl against the SPDX 3.0.1 SHACL model, and cyclonedx-python-lib's
strict validator. Also checks that output is byte-for-byte reproducible.

Usage: validate_sboms.py --vouch PATH --shared DIR --out DIR
Exit status: 0 when every document passes every validator, 1 otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

FORMATS = {"cdx": "cyclonedx-json", "spdx": "spdx-json", "spdx3": "spdx3-json"}
# pyshacl and cyclonedx-python-lib's strict validator take minutes on documents of thousands
# of elements (see the shared schemas README); run them on documents up to this many packages.
SHACL_MAX_PACKAGES = 400
CDX_LIB_MAX_COMPONENTS = 400
# The SPDX 3.0.1 JSON schema is slow in python-jsonschema (6 to 15 s even for a small
# document); larger documents are judged against the same official schema by
# `vouch sbom check --schema-dir` (step 6) and by the SHACL shapes.
SPDX3_SCHEMA_MAX_PACKAGES = 10


def package_count(path):
    doc = json.loads(Path(path).read_text())
    if "@graph" in doc:
        return sum(1 for e in doc["@graph"] if e.get("type") == "software_Package")
    return len(doc.get("components", doc.get("packages", [])))


START = time.monotonic()


def elapsed():
    return f"{time.monotonic() - START:.0f} s"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def lockfile_inputs(shared: Path, repo: Path):
    lock_dir = shared / "corpus" / "lockfiles"
    inputs = []
    if lock_dir.is_dir():
        for p in sorted(lock_dir.rglob("*")):
            if p.is_file() and p.name != "MANIFEST.md" and "/edge/os/" not in p.as_posix():
                inputs.append(p)
    else:
        print(f"SKIPPED: corpus not found at {lock_dir}; validating the bundled example only", flush=True)
    inputs.append(repo / "examples" / "demo-app")
    # The Debian image of scripts/build-test-images.sh: an SBOM with container and operating
    # system components and OS packages.
    debian = repo / "target" / "test-images" / "debian-bookworm"
    if (debian / "index.json").is_file():
        inputs.append(f"oci:{debian}")
    else:
        print(f"note: {debian} not built; image SBOMs are not validated", flush=True)
    return inputs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vouch", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    repo = Path(__file__).resolve().parent.parent
    shared = Path(args.shared)
    schemas = shared / "schemas"
    if not schemas.is_dir():
        print(f"SKIPPED: official schemas not found at {schemas}; SBOM validation did not run", flush=True)
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    bin_dir = Path(sys.executable).parent
    failures = []
    docs = {k: [] for k in FORMATS}

    # 1. Generate, twice, and compare bytes.
    for i, src in enumerate(lockfile_inputs(shared, repo)):
        stem = f"{i:03d}-{Path(str(src)).name}"
        for short, fmt in FORMATS.items():
            target = out / f"{stem}.{short}.json"
            r = run([args.vouch, "sbom", str(src), "--format", fmt, "-o", str(target)], env=env)
            if r.returncode != 0:
                failures.append(f"vouch sbom {src} --format {fmt}: exit {r.returncode}: {r.stderr.strip()}")
                continue
            again = run([args.vouch, "sbom", str(src), "--format", fmt], env=env)
            if again.stdout.encode() != target.read_bytes():
                failures.append(f"{src} ({fmt}): output differs between two runs")
            docs[short].append(target)
    total = sum(len(v) for v in docs.values())
    print(f"generated {total} documents [{elapsed()}]", flush=True)

    # 2. Official JSON schemas, one check-jsonschema process per format.
    cjs = str(bin_dir / "check-jsonschema")
    checks = [
        ("cdx", [cjs, "--disable-formats", "iri-reference", "--schemafile",
                 str(schemas / "cyclonedx" / "bom-1.6.schema.json"),
                 "--base-uri", (schemas / "cyclonedx").resolve().as_uri() + "/"]),
        ("spdx", [cjs, "--schemafile", str(schemas / "spdx-2.3" / "spdx-schema.json")]),
        ("spdx3", [cjs, "--disable-formats", "iri-reference", "--schemafile",
                   str(schemas / "spdx-3.0.1" / "spdx-json-schema.json")]),
    ]
    for short, cmd in checks:
        targets = docs[short]
        if short == "spdx3":
            targets = [d for d in targets if package_count(d) <= SPDX3_SCHEMA_MAX_PACKAGES]
        if not targets:
            continue
        r = run(cmd + [str(d) for d in targets])
        status = "ok" if r.returncode == 0 else "FAILED"
        print(f"check-jsonschema {short}: {len(targets)} documents {status} [{elapsed()}]", flush=True)
        if r.returncode != 0:
            failures.append(f"check-jsonschema {short}:\n{r.stdout[-4000:]}{r.stderr[-2000:]}")

    # 3. SPDX 2.3 semantics with spdx-tools.
    bad = 0
    for d in docs["spdx"]:
        r = run([str(bin_dir / "pyspdxtools"), "-i", str(d)])
        if r.returncode != 0:
            bad += 1
            failures.append(f"pyspdxtools {d.name}:\n{(r.stdout + r.stderr)[-3000:]}")
    print(f"pyspdxtools: {len(docs['spdx']) - bad}/{len(docs['spdx'])} valid [{elapsed()}]", flush=True)

    # 4. SPDX 3.0.1 SHACL shapes, with the context pointed at the local copy.
    context = (schemas / "spdx-3.0.1" / "spdx-context.jsonld").resolve().as_uri()
    model = str(schemas / "spdx-3.0.1" / "spdx-model.ttl")
    shacl_run = 0
    for d in docs["spdx3"]:
        if package_count(d) > SHACL_MAX_PACKAGES:
            continue
        local = d.with_suffix(".local.jsonld")
        local.write_text(d.read_text().replace("https://spdx.org/rdf/3.0.1/spdx-context.jsonld", context))
        r = run([str(bin_dir / "pyshacl"), "-s", model, "-e", model, "-sf", "turtle", "-ef", "turtle",
                 "-df", "json-ld", str(local)])
        shacl_run += 1
        if r.returncode != 0:
            failures.append(f"pyshacl {d.name}:\n{r.stdout[-3000:]}")
    print(f"pyshacl: {shacl_run} documents checked (those with at most {SHACL_MAX_PACKAGES} packages) [{elapsed()}]", flush=True)

    # 5. cyclonedx-python-lib's strict validator.
    small = [str(d) for d in docs["cdx"] if package_count(d) <= CDX_LIB_MAX_COMPONENTS]
    code = (
        "import sys\n"
        "from cyclonedx.validation.json import JsonStrictValidator\n"
        "from cyclonedx.schema import SchemaVersion\n"
        "v = JsonStrictValidator(SchemaVersion.V1_6)\n"
        "bad = 0\n"
        "for f in sys.argv[1:]:\n"
        "    e = v.validate_str(open(f).read())\n"
        "    if e is not None:\n"
        "        bad += 1\n"
        "        print(f, e)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    if small:
        r = run([sys.executable, "-c", code] + small)
        print(f"cyclonedx-python-lib: {len(small)} documents {'ok' if r.returncode == 0 else 'FAILED'} [{elapsed()}]", flush=True)
        if r.returncode != 0:
            failures.append(f"cyclonedx-python-lib:\n{(r.stdout + r.stderr)[-3000:]}")

    # 6. vouch's own checker agrees.
    bad = 0
    for short in FORMATS:
        for d in docs[short]:
            r = run([args.vouch, "sbom", "check", str(d), "--schema-dir", str(schemas)])
            if r.returncode != 0:
                bad += 1
                failures.append(f"vouch sbom check {d.name}: exit {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-1000:]}")
    print(f"vouch sbom check: {total - bad}/{total} valid [{elapsed()}]", flush=True)

    for f in failures:
        print(f"FAIL: {f}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
