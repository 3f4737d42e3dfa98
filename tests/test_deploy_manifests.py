"""KServe's resources in deploy/k8s are checked offline against
deploy/k8s/schemas/kserve.schema.json (scripts/check_kserve.py, run by
scripts/lint_k8s.sh), and the check can fail: each broken copy of the InferenceService or
the ServingRuntime below is refused, naming the field."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KSERVE = ROOT / "deploy/k8s/overlays/kserve"
CHECKER = ROOT / "scripts/check_kserve.py"
SCHEMA = json.loads((ROOT / "deploy/k8s/schemas/kserve.schema.json").read_text())
Doc = dict[str, Any]


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_kserve", CHECKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_kserve = _load_checker()


def ours() -> tuple[Doc, Doc]:
    runtime = yaml.safe_load((KSERVE / "servingruntime.yaml").read_text())
    service = yaml.safe_load((KSERVE / "inferenceservice.yaml").read_text())
    return runtime, service


def test_our_kserve_resources_pass() -> None:
    runtime, service = ours()
    assert check_kserve.check_documents([runtime, service], SCHEMA) == []


def _model(doc: Doc) -> Doc:
    return doc["spec"]["predictor"]["model"]  # type: ignore[no-any-return]


def _container(doc: Doc) -> Doc:
    return doc["spec"]["containers"][0]  # type: ignore[no-any-return]


BROKEN_SERVICE: dict[str, tuple[Callable[[Doc], None], str]] = {
    "protocol v1": (
        lambda d: _model(d).update(protocolVersion="v1"),
        "spec/predictor/model/protocolVersion: 'v2' was expected",
    ),
    "protocol unknown to KServe": (
        lambda d: _model(d).update(protocolVersion="v3"),
        "spec/predictor/model/protocolVersion",
    ),
    "unknown field in the model": (
        lambda d: _model(d).update(protocolVersions=["v2"]),
        "Additional properties are not allowed ('protocolVersions' was unexpected)",
    ),
    "unknown field in the spec": (
        lambda d: d["spec"].update(predicter={}),
        "spec: Additional properties are not allowed ('predicter' was unexpected)",
    ),
    "wrong API version": (
        lambda d: d.update(apiVersion="serving.kserve.io/v1alpha1"),
        "apiVersion: 'serving.kserve.io/v1beta1' was expected",
    ),
    "no model format": (
        lambda d: _model(d).pop("modelFormat"),
        "spec/predictor/model: 'modelFormat' is a required property",
    ),
    "env value not a string": (
        lambda d: _model(d)["env"][0].update(value=3),
        "spec/predictor/model/env/0/value: 3 is not of type 'string'",
    ),
    "a runtime that is not in the build": (
        lambda d: _model(d).update(runtime="kserve-sklearnserver"),
        "runtime 'kserve-sklearnserver' is no ServingRuntime here",
    ),
    "a format the runtime does not take": (
        lambda d: _model(d)["modelFormat"].update(name="onnx"),
        "modelFormat 'onnx' is not among runtime 'aesvc'",
    ),
}


@pytest.mark.parametrize("case", BROKEN_SERVICE)
def test_a_broken_inference_service_fails(case: str) -> None:
    runtime, service = ours()
    broken = copy.deepcopy(service)
    change, expected = BROKEN_SERVICE[case]
    change(broken)
    problems = check_kserve.check_documents([runtime, broken], SCHEMA)
    assert any(expected in p and p.startswith("InferenceService/digits-ae") for p in problems), (
        problems
    )


BROKEN_RUNTIME: dict[str, tuple[Callable[[Doc], None], str]] = {
    "grpc protocol": (
        lambda d: d["spec"].update(protocolVersions=["grpc-v2"]),
        "spec/protocolVersions/0: 'grpc-v2' is not one of ['v2']",
    ),
    "port as a string": (
        lambda d: _container(d)["ports"][0].update(containerPort="8080"),
        "spec/containers/0/ports/0/containerPort: '8080' is not of type 'integer'",
    ),
    "bad memory quantity": (
        lambda d: _container(d)["resources"]["limits"].update(memory="3 gigabytes"),
        "spec/containers/0/resources/limits/memory",
    ),
    "container not named kserve-container": (
        lambda d: _container(d).update(name="server"),
        "spec/containers: no item as required: KServe runs the model server in the container",
    ),
    "pull policy Kubernetes does not know": (
        lambda d: _container(d).update(imagePullPolicy="Sometimes"),
        "spec/containers/0/imagePullPolicy: 'Sometimes' is not one of",
    ),
    "unknown container field": (
        lambda d: _container(d).update(volumeMount=[]),
        "spec/containers/0: Additional properties are not allowed ('volumeMount' was unexpected)",
    ),
}


@pytest.mark.parametrize("case", BROKEN_RUNTIME)
def test_a_broken_serving_runtime_fails(case: str) -> None:
    runtime, service = ours()
    broken = copy.deepcopy(runtime)
    change, expected = BROKEN_RUNTIME[case]
    change(broken)
    problems = check_kserve.check_documents([broken, service], SCHEMA)
    assert any(expected in p and p.startswith("ServingRuntime/aesvc") for p in problems), problems


def test_an_unknown_kserve_kind_fails() -> None:
    runtime, service = ours()
    service["kind"] = "InferenceGraph"
    problems = check_kserve.check_documents([runtime, service], SCHEMA)
    expected = "InferenceGraph/digits-ae: no schema for serving.kserve.io/v1beta1 InferenceGraph"
    assert problems == [expected]


def _lint(k8s_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/lint_k8s.sh"],
        cwd=ROOT,
        env={**os.environ, "K8S_DIR": str(k8s_dir)},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow  # kubectl and kubernetes-validate as processes
def test_lint_k8s_fails_on_a_broken_copy_of_the_inference_service(tmp_path: Path) -> None:
    """The whole script as CI runs it: kustomize builds the copy, then the check refuses it.
    Its tools (kubectl, kubernetes-validate) come from PyPI; .ci/run installs them first."""
    venv = ROOT / ".venv/bin"
    if not ((venv / "kubectl").exists() and (venv / "kubernetes-validate").exists()):
        message = "needs kubectl and kubernetes-validate in .venv (bash scripts/lint_k8s.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    good = _lint(ROOT / "deploy/k8s")
    assert good.returncode == 0, good.stderr
    assert "overlays_kserve.yaml: 2 KServe resources ok" in good.stdout
    copy_dir = tmp_path / "k8s"
    shutil.copytree(ROOT / "deploy/k8s", copy_dir)
    path = copy_dir / "overlays/kserve/inferenceservice.yaml"
    service = yaml.safe_load(path.read_text())
    _model(service)["protocolVersion"] = "v1"
    path.write_text(yaml.safe_dump(service))
    broken = _lint(copy_dir)
    assert broken.returncode != 0
    assert "spec/predictor/model/protocolVersion: 'v2' was expected" in broken.stderr
    assert f"{copy_dir}/overlays/kserve: invalid" in broken.stderr


def test_check_kserve_exits_non_zero_naming_the_problem(tmp_path: Path) -> None:
    runtime, service = ours()
    _model(service)["storageUri"] = "gs://models/digits"
    built = tmp_path / "built.yaml"
    built.write_text(yaml.safe_dump_all([runtime, service]))
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(built)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "'storageUri' was unexpected" in result.stderr
