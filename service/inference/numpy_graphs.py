"""Small CPU batches of dense models in numpy: the flat graph's ops without torch's dispatch.

A one-row encode of the digits AE is seven small ops, and through torch each goes through
its dispatcher: a deep path of C++ that, served between HTTP requests, runs cold.
Measured on the CI machine (2 cores, a VM), the flat graph took 16-22 µs in a hot loop,
but 45-90 µs after the core had idled 0.2-1 ms, as it does between one client's
requests; through the live service, 67 µs for the first call of a request and 26 µs for
a second one. The same ops in numpy took 11-15 µs hot and 16-38 µs after idling, and at
every size up to 64 rows stayed under torch's (64 rows: 51 against 65 µs hot, 72 against
170 µs after idling).

`numpy_graph` rewrites a flat graph (service.inference.graphs) op for op into numpy, where
every op is one this module knows (the dense kinds: linear, sub/div/mul/add, ELU, SELU,
ReLU, tanh, sigmoid, square, mean, transpose); convolutions and anything else keep torch.
The weights are numpy views of the same tensors (no copy). Its answers are checked close
to the torch graph's when it is built, at a few batch sizes; one that is not is not used.
The engine runs batches of at most AESVC_INFERENCE_NUMPY_ROWS rows on it.

numpy's BLAS (OpenBLAS) runs on one thread in the server (`one_blas_thread`): these batches
are small, and its own thread pool would spin on the cores torch's threads use.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from service.inference import activations, graphs

log = logging.getLogger(__name__)

Arrays = tuple[np.ndarray, ...]
# torch's SELU constants (aten/src/ATen/native/Activation.cpp)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
CHECK_ROWS = (1, 7, 64)
CLOSE_RTOL, CLOSE_ATOL = 1e-4, 1e-5


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    y = x @ weight.T  # (B, out): weight is (out, in), as torch keeps it
    if bias is not None:
        y += bias
    return y


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    negative = np.expm1(np.minimum(x, 0))
    if alpha == 1.0:  # e^x - 1 >= x for every x: one op instead of a select
        return np.maximum(x, negative)
    return np.where(x > 0, x, negative * np.float32(alpha))


def _selu(x: np.ndarray) -> np.ndarray:
    return _elu(x, SELU_ALPHA) * np.float32(SELU_SCALE)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def _tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # through tanh: no overflow (and no warning) for large |x|, bounded in [0, 1] as torch's
    y = np.tanh(x * np.float32(0.5))
    y += 1
    y *= np.float32(0.5)
    return y


def _square(x: np.ndarray) -> np.ndarray:
    return np.square(x)


def _mean(x: np.ndarray, dim: int) -> np.ndarray:
    return x.mean(axis=dim)


def _t(x: np.ndarray) -> np.ndarray:
    return x.T


# call_function targets: how each call's arguments map to its numpy function's
_Rewrite = Callable[[tuple[Any, ...], dict[str, Any]], tuple[Callable[..., Any], tuple[Any, ...]]]


def _same_args(fn: Callable[..., Any]) -> _Rewrite:
    def rewrite(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        if kwargs:
            raise _Unsupported(f"{fn.__name__} with {sorted(kwargs)}")
        return fn, args

    return rewrite


def _elu_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
    alpha, inplace = graphs.elu_options(args, kwargs)
    if inplace:
        raise _Unsupported("an in-place ELU")
    return _elu, (args[0], alpha)


def _not_in_place(fn: Callable[[np.ndarray], np.ndarray]) -> _Rewrite:
    """F.relu, F.selu: (x, inplace=False)."""

    def rewrite(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        if kwargs.get("inplace", args[1] if len(args) > 1 else False) or set(kwargs) - {"inplace"}:
            raise _Unsupported(f"{fn.__name__} in place")
        return fn, (args[0],)

    return rewrite


def _mean_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    if not isinstance(dim, int) or set(kwargs) - {"dim"} or len(args) > 2:
        raise _Unsupported("a mean other than over one dimension")
    return _mean, (args[0], dim)


FUNCTIONS: dict[Any, _Rewrite] = {
    operator.add: _same_args(operator.add),
    operator.sub: _same_args(operator.sub),
    operator.mul: _same_args(operator.mul),
    operator.truediv: _same_args(operator.truediv),
    torch._C._nn.linear: _same_args(_linear),
    F.linear: _same_args(_linear),
    F.elu: _elu_args,
    activations.elu: _same_args(_elu),
    F.selu: _not_in_place(_selu),
    F.relu: _not_in_place(_relu),
    torch.relu: _same_args(_relu),
    torch.tanh: _same_args(_tanh),
    activations.tanh: _same_args(_tanh),
    torch.sigmoid: _same_args(_sigmoid),
}
METHODS: dict[str, _Rewrite] = {
    "square": _same_args(_square),
    "mean": _mean_args,
    "t": _same_args(_t),
}


class _Unsupported(Exception):
    pass


class NumpyGraph:
    """The generated function of numpy ops, its weights bound as numpy arrays."""

    def __init__(self, graph: fx.Graph, weights: Arrays) -> None:
        self._forward = fx.GraphModule(nn.Module(), graph).forward
        self._weights = weights

    def __call__(self, x: np.ndarray) -> Arrays:
        with np.errstate(all="ignore"):  # overflow gives inf as in torch, and no warning
            return self._forward(x, *self._weights)


def numpy_graph(
    graph: fx.Graph,
    weights: tuple[torch.Tensor, ...],
    exact: Callable[[torch.Tensor], tuple[torch.Tensor, ...]],
    *,
    width: int,
) -> NumpyGraph | None:
    """`graph` (a flat graph: the input, then `weights`) in numpy, or None where an op or a
    weight has no numpy form here, or its answers are not close to `exact`'s."""
    if not all(w.dtype == torch.float32 and w.device.type == "cpu" for w in weights):
        return None
    try:
        rewritten = _rewrite(graph)
    except _Unsupported as exc:
        log.info("no numpy graph: %s", exc)
        return None
    arrays = tuple(w.detach().numpy() for w in weights)
    small = NumpyGraph(rewritten, arrays)
    generator = np.random.default_rng(0)
    for rows in CHECK_ROWS:
        x = generator.standard_normal((rows, width), dtype=np.float32)
        try:
            with torch.inference_mode(), np.errstate(all="ignore"):
                got, want = small(x), exact(torch.from_numpy(x))
        except Exception as exc:  # an op whose numpy form does not fit this graph
            log.warning("no numpy graph: it failed at %d rows: %s", rows, exc)
            return None
        if not _close(got, want):
            log.warning("no numpy graph: it answered apart from torch at %d rows", rows)
            return None
    return small


def _rewrite(graph: fx.Graph) -> fx.Graph:
    copy = graphs.copied(graph)
    for node in copy.nodes:
        if node.op in ("placeholder", "output"):
            continue
        if node.op == "call_function" and node.target in FUNCTIONS:
            rewrite = FUNCTIONS[node.target]
        elif node.op == "call_method" and node.target in METHODS:
            rewrite = METHODS[str(node.target)]
        else:
            raise _Unsupported(f"{node.op} {getattr(node.target, '__name__', node.target)}")
        target, args = rewrite(tuple(node.args), dict(node.kwargs))
        node.op, node.target, node.args, node.kwargs = "call_function", target, args, {}
    copy.lint()
    return copy


def _close(got: Arrays, want: tuple[torch.Tensor, ...]) -> bool:
    return (
        isinstance(got, tuple)
        and len(got) == len(want)
        and all(
            isinstance(g, np.ndarray)
            and g.dtype == np.float32
            and g.shape == tuple(w.shape)
            and np.allclose(g, w.numpy(), rtol=CLOSE_RTOL, atol=CLOSE_ATOL, equal_nan=True)
            for g, w in zip(got, want, strict=True)
        )
    )


def one_blas_thread() -> None:
    """numpy's OpenBLAS on one thread, for this process (torch's MKL is left alone)."""
    from threadpoolctl import ThreadpoolController

    ThreadpoolController().select(internal_api="openblas").limit(limits=1)
