"""The fast activation kernels (service.inference.activations) and the flat graphs that call
them: torch's answers within a bit or two, the special values as torch gives them, the fast
path only where it is safe, and a graph whose fast kernels answer apart is not used."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from service.inference import activations, graphs
from service.inference.device import one_torch_thread
from service.zoo.serving import build_serving_model
from service.zoo.spec import ModelSpec

KERNELS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[..., torch.Tensor]]] = {
    "elu": (activations.elu, F.elu),
    "tanh": (activations.tanh, torch.tanh),
}
SPECIAL = [float("inf"), float("-inf"), 0.0, -0.0, 100.0, -100.0, 1e-30, -1e-30, -1e-4, 88.0]


def values(rows: int = 256, columns: int = 128) -> torch.Tensor:
    x = torch.randn(rows, columns, generator=torch.Generator().manual_seed(0)) * 4
    x[0, : len(SPECIAL)] = torch.tensor(SPECIAL)
    return x


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_the_fast_path_answers_as_torch_within_two_units_in_the_last_place(name: str) -> None:
    fast, exact = KERNELS[name]
    x = values()
    with one_torch_thread(), torch.inference_mode():
        assert activations._fast(x)
        got, want = fast(x), exact(x)
    assert got.dtype == torch.float32 and got.shape == x.shape and got.is_contiguous()
    assert got.data_ptr() != x.data_ptr()  # a new tensor: the input is left alone
    np.testing.assert_array_max_ulp(got.numpy(), want.numpy(), maxulp=2)
    # the special values exactly as torch: infinities, signed zeros, the saturated ends
    special = slice(0, len(SPECIAL))
    assert torch.equal(got[0, special], want[0, special])
    assert torch.equal(torch.signbit(got[0, special]), torch.signbit(want[0, special]))
    assert torch.equal(x, values())


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_nan_stays_nan(name: str) -> None:
    fast, _ = KERNELS[name]
    x = values()
    x[1, :3] = float("nan")
    with one_torch_thread(), torch.inference_mode():
        got = fast(x)
    assert torch.isnan(got[1, :3]).all() and not torch.isnan(got[2:]).any()


def _slow_cases() -> dict[str, Callable[[], torch.Tensor]]:
    big = values()
    return {
        "few values": lambda: big[:2],
        "float64": lambda: big.double(),
        "not contiguous": lambda: big.t(),
        "needs a gradient": lambda: big.clone().requires_grad_(),
    }


@pytest.mark.parametrize("case", sorted(_slow_cases()))
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_anything_else_is_torchs_own_call(name: str, case: str) -> None:
    fast, exact = KERNELS[name]
    x = _slow_cases()[case]()
    with one_torch_thread():
        assert not activations._fast(x)
        assert torch.equal(fast(x), exact(x))  # the same bits: torch's kernel ran


def test_on_a_thread_team_torch_keeps_its_kernels() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # a lane with two threads: torch's kernels share the work
    try:
        x = values()
        with torch.inference_mode():
            assert not activations._fast(x)
            assert torch.equal(activations.elu(x), F.elu(x))
            assert torch.equal(activations.tanh(x), torch.tanh(x))
    finally:
        torch.set_num_threads(before)


def dense(activation: str) -> torch.nn.Module:
    torch.manual_seed(0)
    arch = {"code_size": 3, "activation": activation, "hidden_sizes": [128, 64]}
    spec = {"architecture": arch}
    model = build_serving_model(ModelSpec.model_validate(spec), 64, None).eval()
    return graphs.operation(model, "reconstruct", variational=False)


@pytest.mark.parametrize(("activation", "swapped"), [("elu", 4), ("tanh", 4), ("selu", 0)])
def test_the_graph_calls_the_fast_kernels_and_answers_close(activation: str, swapped: int) -> None:
    op = dense(activation)
    probe = torch.randn(3, 64)
    graph = graphs.flat(op, probe)
    assert graph is not None and graph.fast_activations == swapped  # SELU: alpha is not 1
    x = torch.randn(512, 64)
    with one_torch_thread(), torch.inference_mode():
        got, want = graph(x), op(x)
        exact = graphs.flat(op, probe, fast_activations=False)
        assert exact is not None and exact.fast_activations == 0
        assert all(torch.equal(e, w) for e, w in zip(exact(x), want, strict=True))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=graphs.CLOSE_RTOL, atol=graphs.CLOSE_ATOL)
        if swapped:
            assert not torch.equal(g, w)  # the fast kernels ran: not torch's bits


def test_a_graph_whose_fast_kernels_answer_apart_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def off_by_a_little(x: torch.Tensor) -> torch.Tensor:
        return F.elu(x) + (1e-3 if activations._fast(x) else 0.0)  # only on the fast path

    monkeypatch.setattr(activations, "elu", off_by_a_little)
    op = dense("elu")
    graph = graphs.flat(op, torch.randn(3, 64))
    assert graph is not None and graph.fast_activations == 0
    x = torch.randn(512, 64)
    with one_torch_thread(), torch.inference_mode():
        assert all(torch.equal(g, w) for g, w in zip(graph(x), op(x), strict=True))
