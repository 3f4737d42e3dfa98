"""Checks KServe's resources in built manifests offline: each serving.kserve.io document
against deploy/k8s/schemas/kserve.schema.json (an unknown field fails), then what one
schema cannot see: an InferenceService's runtime is a ServingRuntime of the same build that
takes its model format and protocol.

Usage: python scripts/check_kserve.py BUILT.yaml...   (scripts/lint_k8s.sh runs it)
Exit status 1, with one line per problem, when anything is wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "deploy/k8s/schemas/kserve.schema.json"
GROUP = "serving.kserve.io/"


def _where(path: Any) -> str:
    return "/".join(str(part) for part in path) or "(document)"


def _message(error: ValidationError) -> str:
    """jsonschema's message, without the whole list when no item matched `contains`."""
    if error.validator == "contains":
        return f"no item as required: {error.schema['contains'].get('description', '')}"
    return error.message


def check_documents(documents: list[dict[str, Any]], schema: dict[str, Any]) -> list[str]:
    """Problems, one line each; none when every KServe document is valid."""
    problems: list[str] = []
    kserve = [d for d in documents if str(d.get("apiVersion", "")).startswith(GROUP)]
    for doc in kserve:
        kind = str(doc.get("kind"))
        label = f"{kind}/{doc.get('metadata', {}).get('name', '?')}"
        if kind not in schema["$defs"]:
            problems.append(f"{label}: no schema for {doc.get('apiVersion')} {kind}")
            continue
        validator = Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]})
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            problems.append(f"{label}: {_where(error.absolute_path)}: {_message(error)}")
    if not problems:
        problems += _check_references(kserve)
    return problems


def _check_references(kserve: list[dict[str, Any]]) -> list[str]:
    runtimes = {d["metadata"]["name"]: d["spec"] for d in kserve if d["kind"] == "ServingRuntime"}
    problems = []
    for doc in (d for d in kserve if d["kind"] == "InferenceService"):
        label = f"InferenceService/{doc['metadata']['name']}"
        model = doc["spec"]["predictor"]["model"]
        runtime = runtimes.get(model["runtime"])
        if runtime is None:
            problems.append(f"{label}: runtime {model['runtime']!r} is no ServingRuntime here")
            continue
        formats = {f["name"] for f in runtime["supportedModelFormats"]}
        if model["modelFormat"]["name"] not in formats:
            problems.append(
                f"{label}: modelFormat {model['modelFormat']['name']!r} is not among "
                f"runtime {model['runtime']!r}'s {sorted(formats)}"
            )
        if model["protocolVersion"] not in runtime["protocolVersions"]:
            problems.append(
                f"{label}: protocolVersion {model['protocolVersion']!r} is not among "
                f"runtime {model['runtime']!r}'s {runtime['protocolVersions']}"
            )
    return problems


def main(paths: list[str]) -> int:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    failed = False
    for path in paths:
        documents = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
        problems = check_documents(documents, schema)
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        if not problems:
            count = sum(str(d.get("apiVersion", "")).startswith(GROUP) for d in documents)
            print(f"{path}: {count} KServe resources ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
