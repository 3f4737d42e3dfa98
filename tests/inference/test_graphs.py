"""Flat graphs (service.inference.graphs): every kind of model traces, the graph answers
bit for bit what the eager modules answer (with torch's activations; the fast ones are
tested in test_activations), it no longer calls the modules, and whatever FX
cannot trace or reproduce stays eager. The engine builds one per version and operation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from service.config import Settings
from service.inference import engine, graphs
from service.inference.cache import LoadedModel
from service.zoo.serving import ServingModel, build_serving_model
from service.zoo.spec import ModelSpec
from tests.factories import loaded_version

KINDS: dict[str, tuple[dict[str, Any], int, tuple[int, int, int] | None]] = {
    "linear": ({"kind": "linear", "code_size": 3}, 10, None),
    "dense": ({"kind": "dense", "code_size": 3}, 10, None),
    "dense_tied": ({"kind": "dense", "code_size": 3, "tied_weights": True}, 10, None),
    "dense_sigmoid": (
        {"kind": "dense", "code_size": 3, "activation": "selu", "output_activation": "sigmoid"},
        10,
        None,
    ),
    "vae": ({"kind": "vae", "code_size": 2}, 10, None),
    "conv": ({"kind": "conv", "code_size": 4}, 64, (8, 8, 1)),
    "conv_vae": ({"kind": "conv_vae", "code_size": 4}, 64, (8, 8, 1)),
}
OPS = ("encode", "decode", "reconstruct", "score")


def serving_model(kind: str) -> tuple[ServingModel, bool]:
    arch, n_features, image_shape = KINDS[kind]
    torch.manual_seed(0)
    model = build_serving_model(
        ModelSpec.model_validate({"architecture": {"hidden_sizes": [128, 64], **arch}}),
        n_features,
        image_shape,
    ).eval()
    with torch.no_grad():  # a preprocessing that changes the rows, so that it shows
        model.preprocessor.shift.uniform_(-1, 1)
        model.preprocessor.scale.uniform_(0.5, 2)
    return model, arch["kind"] in ("vae", "conv_vae")


def width(model: ServingModel, op: str) -> int:
    ae = model.autoencoder
    return ae.code_size if op == "decode" else ae.n_features


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_flattens_and_answers_the_same_bits(kind: str, op: str) -> None:
    model, variational = serving_model(kind)
    module = graphs.operation(model, op, variational=variational)
    graph = graphs.flat(module, torch.randn(3, width(model, op)), fast_activations=False)
    assert graph is not None
    with torch.inference_mode():
        for rows in (1, 7, 64):
            x = torch.randn(rows, width(model, op))
            got, want = graph(x), module(x)
            assert (
                len(got)
                == len(want)
                == (2 if op == "reconstruct" or (op == "encode" and variational) else 1)
            )
            for g, w in zip(got, want, strict=True):
                assert g.shape[0] == rows
                assert torch.equal(g, w)


def test_the_graph_calls_no_module() -> None:
    model, _ = serving_model("dense")
    module = graphs.operation(model, "encode", variational=False)
    graph = graphs.flat(module, torch.randn(3, 10), fast_activations=False)
    assert graph is not None
    x = torch.randn(4, 10)
    with torch.inference_mode():
        want = module(x)[0]

        def refuse(*_: Any) -> torch.Tensor:
            raise AssertionError("a module was called")

        for sub in model.modules():
            sub.forward = refuse  # type: ignore[method-assign]
        with pytest.raises(AssertionError):
            module(x)
        assert torch.equal(graph(x)[0], want)


class ValueBranch(nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (x * 2,) if x.sum() > 0 else (x,)  # control flow on values: FX cannot trace it


class Noisy(nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (x + torch.rand_like(x),)  # traces, but a second run answers differently


@pytest.mark.parametrize("module", [ValueBranch(), Noisy()], ids=["untraceable", "different"])
def test_what_fx_cannot_reproduce_stays_eager(module: nn.Module) -> None:
    assert graphs.flat(module, torch.randn(3, 5)) is None


class Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.lin(x.reshape(3, 5)),)  # the probe's batch size, baked into the graph


def test_a_graph_that_fails_on_the_probe_stays_eager() -> None:
    assert graphs.flat(Broken(), torch.randn(4, 5)) is None


def loaded_model(kind: str) -> LoadedModel:
    model, variational = serving_model(kind)
    return loaded_version(model, name=kind, variational=variational)


@pytest.mark.parametrize("flat", [True, False])
def test_batch_fns_are_made_once_per_operation_flat_or_not(
    flat: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real = graphs.flat

    def counted(op: nn.Module, probe: torch.Tensor) -> Any:
        made.append(type(op).__name__)
        return real(op, probe)

    monkeypatch.setattr(graphs, "flat", counted)
    loaded = loaded_model("vae")
    engine.warm_up(loaded, [1, 5], flat=flat)
    for op in OPS:
        assert engine.batch_fn(loaded, op, flat=flat) is loaded.batch_fns[(op, flat, 0, 0, 0)]
    assert made == (["Encode", "Decode", "Reconstruct", "Score"] if flat else [])
    x = np.random.default_rng(0).standard_normal((6, 10), dtype=np.float32)
    with torch.inference_mode():
        mean, log_var = loaded.batch_fns[("encode", flat, 0, 0, 0)](x)
        want_mean, want_log_var = loaded.model.encode_stats(torch.from_numpy(x))
    assert np.array_equal(mean, want_mean.numpy())
    assert np.array_equal(log_var, want_log_var.numpy())


def test_the_engine_follows_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    seen: list[tuple[bool, int, int]] = []
    real = engine.batch_fn

    def spy(loaded: LoadedModel, operation: str, **mode: Any) -> Any:
        seen.append((mode["flat"], mode["cuda_graph_rows"], mode["cuda_host_rows"]))
        return real(loaded, operation, **mode)

    monkeypatch.setattr(engine, "batch_fn", spy)
    from service.metrics import ServiceMetrics

    for setting in ((True, 128, 64), (False, 0, 0), (True, 7, 3)):
        settings = Settings(
            data_dir=tmp_path,
            inference_flat_graphs=setting[0],
            inference_cuda_graph_rows=setting[1],
            inference_cuda_host_rows=setting[2],
        )
        eng = engine.InferenceEngine(settings, ServiceMetrics(frozenset({"encode"})))
        try:
            loaded = loaded_model("dense")
            eng.warm_up(loaded)
            eng.batcher(loaded, "encode")
        finally:
            eng.close()
        assert seen and set(seen) == {setting}
        seen.clear()
