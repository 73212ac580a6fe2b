#!/usr/bin/env python3
"""Validates in-toto Statement v1 documents, and SLSA provenance v1 predicates in them, against
the official protobuf definitions (in-toto/attestation and slsa-framework/slsa), which are the
only machine-readable definitions upstream publishes: there is no official JSON Schema.

    validate_intoto.py [--shared DIR] FILE...

Each FILE is a statement (JSON), a Sigstore bundle whose `dsseEnvelope` carries one, or JSON
lines of either (`gh attestation download`). The protos are compiled at run time with
grpcio-tools into a temporary folder; each statement is parsed with protobuf's JSON parser with
unknown fields refused, and then checked for what the specifications require beyond the
message shapes. One line per file: `ok FILE` or `FAIL FILE: REASON`. Exit 0 when all files
pass, 1 when any fails, 2 on a usage or setup error.

`--shared DIR` is the shared test data folder (holding `schemas/`) or its `schemas/` folder;
the default is $VOUCH_SHARED_DIR, else `shared/` beside the repository.
"""

import argparse
import base64
import binascii
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

# The protos as stored in the shared folder, and the path each is imported by (the include tree
# must match the `import` lines inside them).
IN_TOTO_PROTOS = [
    ("in-toto/v1_resource_descriptor.proto", "in_toto_attestation/v1/resource_descriptor.proto"),
    ("in-toto/v1_statement.proto", "in_toto_attestation/v1/statement.proto"),
    (
        "in-toto/predicates_provenance_v1_provenance.proto",
        "in_toto_attestation/predicates/provenance/v1/provenance.proto",
    ),
]
SLSA_PROTOS = [("slsa/provenance-v1.proto", "slsa/v1/provenance.proto")]

# Well-known types whose JSON form is not an object of their fields.
OPAQUE_MESSAGES = {
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
}


class SetupError(Exception):
    """The protos cannot be found, compiled or imported (exit 2)."""


class Invalid(Exception):
    """A document does not conform (exit 1)."""


def default_shared() -> Path:
    env = os.environ.get("VOUCH_SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared"


def schemas_dir(shared: Path) -> Path:
    for candidate in (shared / "schemas", shared):
        if (candidate / "in-toto").is_dir():
            return candidate
    raise SetupError(
        f"no in-toto protos under `{shared}` (expected schemas/in-toto/); use --shared DIR"
    )


def compile_protos(schemas: Path, protos, include: Path, out: Path) -> None:
    """Lays `protos` out under `include` by their import paths and compiles them into `out`."""
    for stored, import_path in protos:
        source = schemas / stored
        if not source.is_file():
            raise SetupError(f"`{source}` is missing")
        target = include / import_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    out.mkdir(parents=True, exist_ok=True)
    # `python -m grpc_tools.protoc` adds the well-known types (google/protobuf/*.proto) it ships.
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{include}",
        f"--python_out={out}",
        *[import_path for _, import_path in protos],
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        names = ", ".join(stored for stored, _ in protos)
        raise SetupError(f"protoc failed on {names}: {done.stderr.strip() or done.stdout.strip()}")
    # Regular packages, so that no installed package of the same name can shadow them.
    for folder in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()


def import_generated(out: Path, module: str):
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    loaded = importlib.import_module(module)
    if not Path(loaded.__file__).resolve().is_relative_to(out.resolve()):
        raise SetupError(
            f"`{module}` was imported from `{loaded.__file__}`, not from the compiled protos"
        )
    return loaded


class Schemas:
    """The message classes: the in-toto Statement and Provenance, and the SLSA Provenance when
    its proto compiles."""

    def __init__(self, shared: Path, work: Path):
        schemas = schemas_dir(shared)
        try:
            importlib.import_module("grpc_tools.protoc")
        except ImportError as e:
            raise SetupError(
                f"grpcio-tools is not installed ({e}); run scripts/install-test-tools.sh"
            ) from e
        include, out = work / "include", work / "gen"
        compile_protos(schemas, IN_TOTO_PROTOS, include, out)
        self.statement = import_generated(out, "in_toto_attestation.v1.statement_pb2").Statement
        provenance = import_generated(
            out, "in_toto_attestation.predicates.provenance.v1.provenance_pb2"
        )
        self.provenances = [("in-toto", provenance.Provenance)]
        try:
            compile_protos(schemas, SLSA_PROTOS, include, out)
            slsa = import_generated(out, "slsa.v1.provenance_pb2")
            self.provenances.append(("slsa", slsa.Provenance))
        except (SetupError, ImportError) as e:
            print(f"note: the SLSA proto is not checked: {e}", file=sys.stderr)


def check_json_names(value, descriptor, path: str) -> None:
    """What protobuf's JSON parser lets through but the specifications' JSON form does not:
    a field under its proto name (`predicate_type`, `type`) instead of its JSON name
    (`predicateType`, `_type`). Also names the field whose value has the wrong JSON kind for a
    message, list or map, which the parser reports obscurely. Unknown keys are left to the
    parser."""
    if not isinstance(value, dict):
        raise Invalid(
            f"`{path}` must be a JSON object ({descriptor.full_name}), found {kind(value)}"
        )
    for key, item in value.items():
        field = next((f for f in descriptor.fields if f.json_name == key), None)
        if field is None:
            by_name = descriptor.fields_by_name.get(key)
            if by_name is not None and by_name.json_name != key:
                raise Invalid(
                    f"`{path}.{key}`: the JSON name of this field is `{by_name.json_name}`"
                )
            continue
        if item is None:
            continue
        where = f"{path}.{key}"
        message = field.message_type
        if is_map(field):
            if not isinstance(item, dict):
                raise Invalid(f"`{where}` must be a JSON object (a map), found {kind(item)}")
            value_message = message.fields_by_name["value"].message_type
            if value_message is not None and value_message.full_name not in OPAQUE_MESSAGES:
                for k, v in item.items():
                    check_json_names(v, value_message, f"{where}.{k}")
        elif is_repeated(field):
            if not isinstance(item, list):
                raise Invalid(f"`{where}` must be a JSON array, found {kind(item)}")
            if message is not None and message.full_name not in OPAQUE_MESSAGES:
                for i, element in enumerate(item):
                    check_json_names(element, message, f"{where}[{i}]")
        elif message is not None and message.full_name not in OPAQUE_MESSAGES:
            check_json_names(item, message, where)


def is_repeated(field) -> bool:
    # `label` is deprecated in recent protobuf releases in favour of `is_repeated`.
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return repeated
    return field.label == field.LABEL_REPEATED


def is_map(field) -> bool:
    message = field.message_type
    return is_repeated(field) and message is not None and message.GetOptions().map_entry


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def parse(json_format, text: str, message_class, path: str):
    message = message_class()
    try:
        json_format.Parse(text, message, ignore_unknown_fields=False)
    except json_format.ParseError as e:
        reason = " ".join(str(e).split())
        raise Invalid(f"`{path}` ({message.DESCRIPTOR.full_name}): {reason}") from None
    return message


def validate_statement(schemas: Schemas, text: str) -> None:
    from google.protobuf import json_format

    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise Invalid(f"not JSON: {e}") from None
    check_json_names(document, schemas.statement.DESCRIPTOR, "statement")
    statement = parse(json_format, text, schemas.statement, "statement")
    if statement.type != STATEMENT_TYPE:
        raise Invalid(f"`_type` is `{statement.type}`, expected `{STATEMENT_TYPE}`")
    if not statement.subject:
        raise Invalid("`subject` is empty: a statement is about at least one artifact")
    for i, subject in enumerate(statement.subject):
        if not subject.digest:
            raise Invalid(f"`subject[{i}].digest` is empty")
        for algorithm, value in subject.digest.items():
            if not algorithm or not value:
                raise Invalid(
                    f"`subject[{i}].digest` has an empty algorithm or value: "
                    f"`{algorithm}`: `{value}`"
                )
    if not statement.predicate_type:
        raise Invalid("`predicateType` is missing or empty")
    if statement.predicate_type != SLSA_PROVENANCE_V1:
        return
    predicate = document.get("predicate")
    if not isinstance(predicate, dict):
        raise Invalid(f"`predicate` must be a SLSA provenance v1 object, found {kind(predicate)}")
    predicate_text = json.dumps(predicate)
    for source, provenance_class in schemas.provenances:
        check_json_names(predicate, provenance_class.DESCRIPTOR, "predicate")
        provenance = parse(
            json_format, predicate_text, provenance_class, f"predicate ({source} proto)"
        )
        definition = provenance.build_definition
        if not definition.build_type:
            raise Invalid("`predicate.buildDefinition.buildType` is required and missing or empty")
        if not definition.HasField("external_parameters"):
            raise Invalid("`predicate.buildDefinition.externalParameters` is required and missing")
        if not provenance.run_details.builder.id:
            raise Invalid("`predicate.runDetails.builder.id` is required and missing or empty")


def statement_of(document: dict, text: str) -> str:
    """The statement text of a document: a Sigstore bundle's DSSE payload, or the document."""
    if "dsseEnvelope" in document:
        envelope = document["dsseEnvelope"]
        if not isinstance(envelope, dict):
            raise Invalid(f"`dsseEnvelope` must be an object, found {kind(envelope)}")
        payload_type = envelope.get("payloadType")
        if payload_type != IN_TOTO_PAYLOAD_TYPE:
            raise Invalid(
                f"`dsseEnvelope.payloadType` is `{payload_type}`, "
                f"expected `{IN_TOTO_PAYLOAD_TYPE}`"
            )
        payload = envelope.get("payload")
        if not isinstance(payload, str):
            raise Invalid(f"`dsseEnvelope.payload` must be a base64 string, found {kind(payload)}")
        try:
            return base64.b64decode(payload, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as e:
            raise Invalid(f"`dsseEnvelope.payload` is not base64 of UTF-8 text: {e}") from None
    if "messageSignature" in document:
        raise Invalid(
            "the bundle has a `messageSignature`, not a `dsseEnvelope`: it carries no statement"
        )
    return text


def validate_file(schemas: Schemas, path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise Invalid(f"cannot read: {e}") from None
    try:
        documents = [("", json.loads(text), text)]
    except json.JSONDecodeError as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise Invalid(f"not JSON: {whole}") from None
        documents = []
        for n, line in lines:
            try:
                documents.append((f"line {n}: ", json.loads(line), line))
            except json.JSONDecodeError as e:
                raise Invalid(f"line {n}: not JSON: {e}") from None
    for where, document, document_text in documents:
        try:
            if not isinstance(document, dict):
                raise Invalid(f"expected a JSON object, found {kind(document)}")
            validate_statement(schemas, statement_of(document, document_text))
        except Invalid as e:
            raise Invalid(f"{where}{e}") from None


def main(argv) -> int:
    parser = argparse.ArgumentParser(
        description="Validate in-toto Statement v1 and SLSA provenance v1 documents "
        "against the official protos."
    )
    parser.add_argument(
        "--shared", type=Path, default=None, help="the shared test data folder (or its schemas/)"
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="validate-intoto-") as work:
        try:
            schemas = Schemas(args.shared or default_shared(), Path(work))
        except SetupError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        failed = False
        for path in args.files:
            try:
                validate_file(schemas, path)
                print(f"ok {path}")
            except Invalid as e:
                failed = True
                print(f"FAIL {path}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
