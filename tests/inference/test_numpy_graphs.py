"""Small batches in numpy (service.inference.numpy_graphs): every dense kind and operation
has a numpy form that answers close to torch's, convolutions keep torch, a form that
answers apart is not used, and the engine sends small batches to it and large ones to
torch."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from service.config import Settings
from service.inference import engine, graphs, numpy_graphs
from service.inference.cache import LoadedModel
from service.metrics import ServiceMetrics
from service.zoo.serving import ServingModel, build_serving_model
from service.zoo.spec import ModelSpec
from tests.factories import loaded_version

DENSE: dict[str, dict[str, Any]] = {
    "linear": {"kind": "linear", "code_size": 3},
    "dense": {"kind": "dense", "code_size": 3},
    "dense_tied": {"kind": "dense", "code_size": 3, "tied_weights": True},
    "selu_sigmoid": {
        "kind": "dense",
        "code_size": 3,
        "activation": "selu",
        "output_activation": "sigmoid",
    },
    "relu": {"kind": "dense", "code_size": 3, "activation": "relu"},
    "tanh": {"kind": "dense", "code_size": 3, "activation": "tanh"},
    "vae": {"kind": "vae", "code_size": 2},
}
# score (reconstruction error + Mahalanobis distance of the codings) falls back to torch
OPS = ("encode", "decode", "reconstruct")
N_FEATURES = 12


def serving_model(arch: dict[str, Any], n_features: int = N_FEATURES, image: Any = None) -> Any:
    torch.manual_seed(0)
    spec = ModelSpec.model_validate({"architecture": {"hidden_sizes": [128, 64], **arch}})
    model = build_serving_model(spec, n_features, image).eval()
    with torch.no_grad():  # a preprocessing that changes the rows, so that it shows
        model.preprocessor.shift.uniform_(-1, 1)
        model.preprocessor.scale.uniform_(0.5, 2)
    return model


def flat_and_numpy(model: ServingModel, op: str, variational: bool) -> tuple[Any, Any, int]:
    width = model.autoencoder.code_size if op == "decode" else model.autoencoder.n_features
    module = graphs.operation(model, op, variational=variational)
    flat = graphs.flat(module, torch.randn(3, width))
    assert flat is not None
    return flat, numpy_graphs.numpy_graph(flat.graph, flat.weights, flat, width=width), width


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("kind", sorted(DENSE))
def test_every_dense_kind_has_a_numpy_form_close_to_torch(kind: str, op: str) -> None:
    model = serving_model(DENSE[kind])
    flat, small, width = flat_and_numpy(model, op, variational=kind == "vae")
    assert small is not None
    generator = np.random.default_rng(1)
    for rows in (1, 5, 64):
        x = generator.standard_normal((rows, width), dtype=np.float32) * 3
        got = small(x)
        with torch.inference_mode():
            want = flat(torch.from_numpy(x))
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert isinstance(g, np.ndarray) and g.dtype == np.float32
            assert g.shape == tuple(w.shape) and g.shape[0] == rows
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-5)


def test_overflow_gives_what_torch_gives_without_a_warning() -> None:
    model = serving_model(DENSE["dense"])
    flat, small, width = flat_and_numpy(model, "reconstruct", variational=False)
    assert small is not None
    x = np.full((2, width), 3e38, dtype=np.float32)
    x[1] = -3e38
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = small(x)
    with torch.inference_mode():
        want = flat(torch.from_numpy(x))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.isfinite(g), np.isfinite(w.numpy()))


@pytest.mark.parametrize("kind", ["conv", "conv_vae"])
def test_a_convolution_keeps_torch(kind: str) -> None:
    model = serving_model({"kind": kind, "code_size": 4}, 64, (8, 8, 1))
    _, small, _ = flat_and_numpy(model, "encode", variational=kind == "conv_vae")
    assert small is None


@pytest.mark.parametrize(
    ("name", "numpy_fn", "torch_fn"),
    [
        ("elu", numpy_graphs._elu, torch.nn.functional.elu),
        (
            "elu alpha 0.5",
            lambda x: numpy_graphs._elu(x, 0.5),
            lambda t: torch.nn.functional.elu(t, 0.5),
        ),
        ("selu", numpy_graphs._selu, torch.nn.functional.selu),
        ("relu", numpy_graphs._relu, torch.relu),
        ("tanh", numpy_graphs._tanh, torch.tanh),
        ("sigmoid", numpy_graphs._sigmoid, torch.sigmoid),
    ],
)
def test_the_activations_give_torchs_special_values(
    name: str, numpy_fn: Any, torch_fn: Any
) -> None:
    special = [float("inf"), float("-inf"), float("nan"), 0.0, 100.0, -100.0, 30.0, -30.0]
    x = np.array([special, np.linspace(-5, 5, len(special))], dtype=np.float32)
    with np.errstate(all="raise"):  # no floating-point warning for any of them
        got = numpy_fn(x)
    want = torch_fn(torch.from_numpy(x)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, equal_nan=True)


def test_a_numpy_form_that_answers_apart_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    real = numpy_graphs._elu

    def off(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
        return real(x, alpha) + np.float32(1e-3)

    monkeypatch.setattr(numpy_graphs, "_elu", off)
    model = serving_model(DENSE["dense"])
    module = graphs.operation(model, "encode", variational=False)
    flat = graphs.flat(module, torch.randn(3, N_FEATURES), fast_activations=False)
    assert flat is not None
    assert numpy_graphs.numpy_graph(flat.graph, flat.weights, flat, width=N_FEATURES) is None


def loaded(kind: str, n_features: int = N_FEATURES, image: Any = None) -> LoadedModel:
    model = serving_model(DENSE.get(kind, {"kind": kind, "code_size": 4}), n_features, image)
    variational = kind in ("vae", "conv_vae")
    return loaded_version(model, name=kind, variational=variational)


def test_the_engine_runs_small_batches_in_numpy_and_large_ones_in_torch(
    numpy_calls: list[int],
) -> None:
    calls = numpy_calls
    version = loaded("dense")
    fn: Any = engine.batch_fn(version, "reconstruct", numpy_rows=16)
    assert fn.numpy_rows == 16
    plain = engine.batch_fn(version, "reconstruct")  # numpy_rows 0: torch only
    assert plain.numpy_rows == 0  # type: ignore[attr-defined]
    x = np.random.default_rng(2).standard_normal((40, N_FEATURES), dtype=np.float32)
    calls.clear()
    with torch.inference_mode():
        for rows in (1, 16, 17, 40):
            got, want = fn(x[:rows]), plain(x[:rows])
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert calls == [1, 16]


def test_a_conv_model_serves_in_torch_alone() -> None:
    fn: Any = engine.batch_fn(loaded("conv", 64, (8, 8, 1)), "encode", numpy_rows=16)
    assert fn.numpy_rows == 0


def test_the_engine_puts_numpys_blas_on_one_thread() -> None:
    engine.InferenceEngine(Settings(inference_device="cpu"), ServiceMetrics()).close()
    openblas = [i for i in threadpool_info() if i["internal_api"] == "openblas"]
    assert openblas and all(i["num_threads"] == 1 for i in openblas)
