"""Each operation as a module, and its flat graph: torch.fx traces the module calls away.

Serving a few rows, a small network's forward pass costs more in Python than in its ops:
every module call, attribute lookup and loop step runs per batch, and between requests
the interpreter's caches go cold. Measured on the digits dense AE (64-128-64-8), a one-row
encode: 29 µs eager, 16.5 µs flat in a hot loop; through the live service, the one-client
p50 fell from 0.48 to 0.42 ms.

`flat(op)` traces `op.forward` through every submodule (none is a leaf) into one generated
function of the input and the weights, which are bound as arguments (no attribute lookups):
the same ATen ops in the same order, so the outputs are the same bits. That is checked on a
probe batch before the graph is used; a module FX cannot trace (control flow on values),
or one whose graph answers differently, stays eager.

Then (`fast_activations`) its ELUs (alpha 1) and tanhs call the kernels of
service.inference.activations, which take the slow transcendental part of torch's off
the CPU lanes (on the digits AE, ELU took 42 % of an 8192-row encode's CPU time; a
4096-row encode on one thread fell from 2.73 to 2.09 ms). Those answer within a bit or
two of torch's, not the same bits, so that graph is checked for closeness (PROBE_ROWS
rows, on one thread, where the kernels take their fast path) against the exact one; one
that is not close is not used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from service.inference import activations
from service.inference.device import one_torch_thread
from service.zoo import ServingModel

log = logging.getLogger(__name__)

Tensors = tuple[torch.Tensor, ...]
Graph = Callable[[torch.Tensor], Tensors]
# Rows of the closeness check: every activation of a layer 8 wide or more takes the fast path
PROBE_ROWS = math.ceil(activations.FAST_MIN_ELEMENTS / 8)
CLOSE_RTOL, CLOSE_ATOL = 1e-4, 1e-5


class Operation(nn.Module):
    """One operation of a served model: a batch of inputs to a tuple of outputs."""

    def __init__(self, model: ServingModel) -> None:
        super().__init__()
        self.model = model


class Encode(Operation):
    """(B, n_features) raw -> codings; a VAE's mean and log-variance."""

    def __init__(self, model: ServingModel, *, variational: bool) -> None:
        super().__init__(model)
        self.variational = variational

    def forward(self, x: torch.Tensor) -> Tensors:
        if self.variational:
            return self.model.encode_stats(x)
        return (self.model.encode(x),)


class Decode(Operation):
    """(B, code_size) -> rows in raw units."""

    def forward(self, z: torch.Tensor) -> Tensors:
        return (self.model.decode(z),)


class Reconstruct(Operation):
    """Rows in raw units and each row's error, from one forward pass."""

    def forward(self, x: torch.Tensor) -> Tensors:
        pre = self.model.preprocessor
        xp = pre(x)
        out = self.model.autoencoder(xp)
        return pre.inverse(out), (out - xp).square().mean(dim=1)  # (B, F), (B,)


class Score(Operation):
    """Each row's anomaly score (B,)."""

    def forward(self, x: torch.Tensor) -> Tensors:
        return (self.model.row_errors(x),)


def operation(model: ServingModel, name: str, *, variational: bool) -> nn.Module:
    """The operation's module (eval mode): a batch of inputs to a tuple of outputs."""
    if name == "encode":
        return Encode(model, variational=variational).eval()
    ops: dict[str, type[Operation]] = {
        "decode": Decode,
        "reconstruct": Reconstruct,
        "score": Score,
    }
    return ops[name](model).eval()


class _Inline(fx.Tracer):
    """Trace into every module: the graph is made of ops on tensors only."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return False


def flat(op: nn.Module, probe: torch.Tensor, *, fast_activations: bool = True) -> FlatGraph | None:
    """`op` as one generated function, or None where it cannot be one with the same outputs
    (checked on `probe`, a batch of valid inputs on the op's device). With
    `fast_activations`, its ELUs and tanhs run on service.inference.activations where that
    graph answers close to the exact one."""
    name = type(op).__name__
    try:
        graph = _Inline().trace(op.eval())
        weights = _bind_weights(op, graph)
        run = FlatGraph(graph, weights)
    except Exception as exc:  # FX raises many types for what it cannot trace
        log.info("%s stays eager: %s", name, exc)
        return None
    with torch.inference_mode():
        if not _agrees(run, op, probe, _same, f"{name} stays eager"):
            return None
    if not fast_activations:
        return run
    fast_graph, swapped = _with_fast_activations(graph)
    if not swapped:
        return run
    fast = FlatGraph(fast_graph, weights, fast_activations=swapped)
    shape = (PROBE_ROWS, *probe.shape[1:])
    rows = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(probe)
    with one_torch_thread(), torch.inference_mode():
        if not _agrees(fast, run, rows, _close, f"{name} keeps torch's activations"):
            return run
    log.info("%s: %d activations on the fast kernels", name, swapped)
    return fast


def _agrees(
    got: Callable[[torch.Tensor], Any],
    want: Callable[[torch.Tensor], Any],
    x: torch.Tensor,
    same: Callable[[Any, Any], bool],
    refusal: str,
) -> bool:
    """`same(got(x), want(x))`; a failure or a difference is logged as `refusal`."""
    try:
        agreed = same(got(x), want(x))
    except Exception as exc:
        log.warning("%s: it failed on the probe: %s", refusal, exc)
        return False
    if not agreed:
        log.warning("%s: it answered differently", refusal)
    return agreed


class FlatGraph:
    """The generated function, its weights bound; `fast_activations`: how many of its
    activations call service.inference.activations."""

    def __init__(self, graph: fx.Graph, weights: Tensors, *, fast_activations: int = 0) -> None:
        self._forward = fx.GraphModule(nn.Module(), graph).forward
        self.graph = graph  # its inputs: x, then the weights
        self.weights = weights
        self.fast_activations = fast_activations

    def __call__(self, x: torch.Tensor) -> Tensors:
        return self._forward(x, *self.weights)


def copied(graph: fx.Graph) -> fx.Graph:
    """A copy of the graph, its nodes free to be rewritten."""
    copy = fx.Graph()
    copy.output(copy.graph_copy(graph, {}))
    return copy


def elu_options(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[float, bool]:
    """(alpha, inplace) of an F.elu call node's arguments."""
    alpha = kwargs.get("alpha", args[1] if len(args) > 1 else 1.0)
    inplace = kwargs.get("inplace", args[2] if len(args) > 2 else False)
    return float(alpha), bool(inplace)


def _with_fast_activations(graph: fx.Graph) -> tuple[fx.Graph, int]:
    """A copy of the graph whose ELUs (alpha 1, not in place) and tanhs call the kernels of
    service.inference.activations; and how many it swapped."""
    copy = copied(graph)
    swapped = 0
    for node in copy.nodes:
        if node.op != "call_function" or not node.args:
            continue
        if node.target is F.elu:
            if elu_options(node.args, node.kwargs) != (1.0, False):
                continue
            node.target = activations.elu
        elif node.target is torch.tanh and len(node.args) == 1 and not node.kwargs:
            node.target = activations.tanh
        else:
            continue
        node.args, node.kwargs = (node.args[0],), {}
        swapped += 1
    copy.lint()
    return copy, swapped


def _bind_weights(root: nn.Module, graph: fx.Graph) -> Tensors:
    """Every attribute the graph reads becomes an argument after the input, in order."""
    reads = [node for node in graph.nodes if node.op == "get_attr"]
    if any(node.op == "call_module" for node in graph.nodes):
        raise TypeError("a module call is left in the graph")
    weights = []
    for node in reads:
        value = _attribute(root, str(node.target))
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{node.target} is not a tensor")
        weights.append(value.detach())
    first_op = next(node for node in graph.nodes if node.op != "placeholder")
    with graph.inserting_before(first_op):
        arguments = [graph.placeholder(f"w{i}") for i in range(len(reads))]
    for node, argument in zip(reads, arguments, strict=True):
        node.replace_all_uses_with(argument)
        graph.erase_node(node)
    graph.lint()
    return tuple(weights)


def _attribute(root: nn.Module, target: str) -> object:
    value: object = root
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _close(got: Tensors, want: Tensors) -> bool:
    return len(got) == len(want) and all(
        g.shape == w.shape
        and torch.allclose(g, w, rtol=CLOSE_RTOL, atol=CLOSE_ATOL, equal_nan=True)
        for g, w in zip(got, want, strict=True)
    )


def _same(got: object, want: object) -> bool:
    if isinstance(want, torch.Tensor):
        return isinstance(got, torch.Tensor) and torch.equal(got, want)
    if isinstance(want, tuple) and isinstance(got, tuple) and len(got) == len(want):
        return all(_same(g, w) for g, w in zip(got, want, strict=True))
    return False
