"""The backends (service.inference.backends): ONNX Runtime and torch answer the same for
every kind of model and every operation; ONNX Runtime is checked against torch when a
version loads, and a version it cannot run falls back to torch with the reason logged;
the plan follows AESVC_INFERENCE_BACKEND."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from service.inference.backends import onnxruntime as ort_backend
from service.inference.backends.base import (
    OPERATIONS,
    BackendUnavailable,
    disagreement,
    input_width,
)
from service.inference.backends.onnxruntime import OnnxRuntimeBackend
from service.inference.backends.torch import TorchBackend
from service.inference.runtime.cache import LoadedModel
from service.inference.runtime.engine import BackendOptions, load_backend
from service.zoo.serving import ServingModel, build_serving_model
from service.zoo.spec import ModelSpec
from tests.factories import loaded_version

# kind -> (spec, n_features, image_shape); sparse and denoising train differently and serve
# as the dense net they are
KINDS: dict[str, tuple[dict[str, Any], int, tuple[int, int, int] | None]] = {
    "linear": ({"architecture": {"kind": "linear", "code_size": 3}}, 10, None),
    "dense": ({"architecture": {"kind": "dense", "code_size": 3}}, 10, None),
    "dense_tied": (
        {"architecture": {"kind": "dense", "code_size": 3, "tied_weights": True}},
        10,
        None,
    ),
    "dense_sigmoid": (
        {
            "architecture": {
                "kind": "dense",
                "code_size": 3,
                "activation": "selu",
                "output_activation": "sigmoid",
            }
        },
        10,
        None,
    ),
    "dense_tanh": (
        {"architecture": {"kind": "dense", "code_size": 3, "activation": "tanh"}},
        10,
        None,
    ),
    "sparse": (
        {
            "architecture": {"kind": "dense", "code_size": 3},
            "regularization": {"sparsity": {"kind": "l1", "weight": 0.01}},
        },
        10,
        None,
    ),
    "denoising": (
        {
            "architecture": {"kind": "dense", "code_size": 3},
            "regularization": {"denoising": {"gaussian_std": 0.1}},
        },
        10,
        None,
    ),
    "dense_linear_path": (
        {"architecture": {"kind": "dense", "code_size": 3, "linear_path": True}},
        10,
        None,
    ),
    "dense_linear_path_clip": (
        {
            "architecture": {
                "kind": "dense",
                "code_size": 3,
                "linear_path": True,
                "output_activation": "clip",
            }
        },
        10,
        None,
    ),
    "conv_clip": (
        {"architecture": {"kind": "conv", "code_size": 4, "output_activation": "clip"}},
        64,
        (8, 8, 1),
    ),
    "vae": ({"architecture": {"kind": "vae", "code_size": 2}}, 10, None),
    "conv": ({"architecture": {"kind": "conv", "code_size": 4}}, 64, (8, 8, 1)),
    "conv_vae": ({"architecture": {"kind": "conv_vae", "code_size": 4}}, 64, (8, 8, 1)),
}
OPS = OPERATIONS


def serving_model(kind: str) -> tuple[ServingModel, bool]:
    """Untrained, seeded weights and a preprocessing that changes the rows, so it shows."""
    spec, n_features, image_shape = KINDS[kind]
    spec = {**spec, "architecture": {"hidden_sizes": [16, 8], **spec["architecture"]}}
    torch.manual_seed(0)
    model = build_serving_model(ModelSpec.stored(spec), n_features, image_shape).eval()
    with torch.no_grad():
        model.preprocessor.shift.uniform_(-1, 1)
        model.preprocessor.scale.uniform_(0.5, 2)
        # the score's statistics, as fit_score sets them: a mean, a precision, a scale
        half = torch.randn(model.coding_mean.shape[0], model.coding_mean.shape[0])
        model.coding_precision.copy_(half @ half.T)
        model.coding_mean.uniform_(-1, 1)
        model.error_scale.fill_(0.5)
        if model.autoencoder.linear_path is not None:  # its layers start at zero: not here
            for p in model.autoencoder.parameters():
                p.normal_(0, 0.5)
    return model, spec["architecture"]["kind"] in ("vae", "conv_vae")


def loaded_model(kind: str) -> LoadedModel:
    model, variational = serving_model(kind)
    return loaded_version(model, name=kind, variational=variational)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_onnxruntime_and_torch_agree_on_every_operation(kind: str) -> None:
    model, variational = serving_model(kind)
    ort = OnnxRuntimeBackend(model, device="cpu")
    eager = TorchBackend(model, device="cpu")
    rng = np.random.default_rng(1)
    for op in OPS:
        for rows in (1, 7, 300):
            x = rng.standard_normal((rows, input_width(model, op)), dtype=np.float32)
            got, want = ort.run(op, x), eager.run(op, x)
            n_outputs = {"encode": 2 if variational else 1, "reconstruct": 3}.get(op, 1)
            assert len(got) == len(want) == n_outputs, (op, len(got))
            assert all(len(g) == rows for g in got)
            assert disagreement(got, want, rtol=1e-4, atol=1e-5) == "", (kind, op, rows)


@pytest.mark.parametrize("kind", ["dense", "vae", "conv"])
def test_reconstruct_gives_what_encode_and_the_model_give(kind: str) -> None:
    """The codings beside a reconstruction (an OIP request for both) are encode's."""
    model, _ = serving_model(kind)
    backend = OnnxRuntimeBackend(model, device="cpu")
    x = np.random.default_rng(2).standard_normal((5, model.autoencoder.n_features), np.float32)
    recon, errors, codings = backend.run("reconstruct", x)
    assert disagreement((codings,), backend.run("encode", x)[:1]) == ""
    with torch.inference_mode():
        want_recon = model.reconstruct(torch.from_numpy(x)).numpy()
    want_errors = ((want_recon - x) ** 2).mean(axis=1)  # in the data's units
    assert disagreement((recon, errors), (want_recon, want_errors)) == ""


class Noisy(nn.Module):
    """Exports and runs, but answers differently from its own torch run every time."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (x + torch.rand_like(x),)


class FixedBatch(nn.Module):
    """Exports with the traced row count baked into a reshape: runs at 8 rows, no other."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (x.reshape(8, -1) * 2,)


@pytest.mark.parametrize(
    ("module", "why"),
    [(Noisy(), "answers differently from torch"), (FixedBatch(), "encode: running it")],
)
def test_a_session_that_does_not_answer_as_torch_on_the_probe_is_refused(
    module: nn.Module, why: str
) -> None:
    """Other values than torch's, or none at another row count than the traced one."""
    backend = OnnxRuntimeBackend.__new__(OnnxRuntimeBackend)  # one operation, by hand
    backend._providers, backend._options = ["CPUExecutionProvider"], ort_backend.session_options(1)
    backend._sessions = {}
    with pytest.raises(BackendUnavailable, match=why):
        backend._load("encode", module, torch.randn(8, 3))


def test_a_version_onnxruntime_cannot_run_falls_back_to_torch_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("an operator the exporter does not know")

    monkeypatch.setattr(ort_backend, "export", refuse)
    model, _ = serving_model("dense")
    caplog.set_level(logging.WARNING, logger="service.inference.runtime.engine")
    backend, plan = load_backend(model, label="m@1", device="cpu", options=BackendOptions())
    assert isinstance(backend, TorchBackend)
    assert (plan.backend, plan.asked) == ("torch", "onnxruntime")
    assert "an operator the exporter does not know" in plan.fallback
    assert any(
        "m@1 runs on torch" in r.getMessage() and "exporter does not know" in r.getMessage()
        for r in caplog.records
    )
    x = np.zeros((2, 10), np.float32)
    assert backend.run("encode", x)[0].shape == (2, 3)


@pytest.mark.parametrize(
    ("setting", "backend"),
    [("auto", "onnxruntime"), ("onnxruntime", "onnxruntime"), ("torch", "torch")],
)
def test_the_plan_follows_the_setting_on_a_cpu(setting: Any, backend: str) -> None:
    model, _ = serving_model("vae")
    _, plan = load_backend(
        model,
        label="m@1",
        device="cpu",
        options=BackendOptions(setting=setting),
    )
    assert (plan.backend, plan.device, plan.fallback, plan.cuda_graph_sizes) == (
        backend,
        "cpu",
        "",
        (),
    )


def test_onnxruntime_on_a_gpu_without_its_cuda_provider_falls_back_to_torch() -> None:
    if "CUDAExecutionProvider" in ort_backend.ort.get_available_providers():
        pytest.skip("this onnxruntime has a CUDA execution provider")
    model, _ = serving_model("dense")
    with pytest.raises(BackendUnavailable, match="no CUDAExecutionProvider"):
        OnnxRuntimeBackend(model, device="cuda:0")
