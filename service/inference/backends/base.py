"""The one interface every inference runtime implements (built for one version on one device,
then `run(operation, rows)`), and the served operations as torch modules that they run."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from service.zoo.serving import ServingModel

Outputs = tuple[np.ndarray, ...]  # each (B, ...)
Tensors = tuple[torch.Tensor, ...]


class BackendUnavailable(RuntimeError):
    """This runtime cannot serve this version here; the message says why."""


class Backend(Protocol):
    name: ClassVar[str]  # "onnxruntime" | "torch": what AESVC_INFERENCE_BACKEND names
    device: str  # "cpu" | "cuda:0" | ...
    held_bytes: int  # memory held beyond the version's torch weights (graphs, sessions)
    cuda_graph_sizes: tuple[int, ...]  # batch sizes replayed from CUDA graphs (torch, GPU)

    def run(self, operation: str, rows: np.ndarray) -> Outputs:
        """The operation's outputs for `rows` (validated, float32, C-contiguous)."""
        ...


def disagreement(got: Outputs, want: Outputs, *, rtol: float = 1e-3, atol: float = 1e-4) -> str:
    """Why `got` is not `want` within tolerance, or "" where it is (NaN matches NaN)."""
    if len(got) != len(want):
        return f"{len(got)} outputs, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if g.shape != w.shape:
            return f"output {i} has shape {g.shape}, expected {w.shape}"
        scale = max(1.0, float(np.nanmax(np.abs(w), initial=0.0)))
        if not np.allclose(g, w, rtol=rtol, atol=atol * scale, equal_nan=True):
            worst = float(np.nanmax(np.abs(g - w)))
            return f"output {i} differs by up to {worst:.3g}"
    return ""


# Each operation: rows in the dataset's units (codings for decode) to a tuple of outputs, the
# preprocessing inside; each row's outputs depend on that row alone.


def _encode(model: ServingModel, x: torch.Tensor) -> Tensors:
    """Codings (B, code_size); a VAE's mean and log-variance."""
    if model.autoencoder.variational:
        return model.encode_stats(x)
    return (model.encode(x),)


def _reconstruct(model: ServingModel, x: torch.Tensor) -> Tensors:
    """Rows in raw units, each row's mean squared error in the data's units (B,) and its
    codings (a VAE's mean), from one forward pass: an OIP request for codings and
    reconstructions is one batch, not two."""
    pre, ae = model.preprocessor, model.autoencoder
    z = ae.encode(pre(x))
    out = pre.inverse(ae.decode(z))  # what reconstruct(x) answers in eval mode
    return out, (out - x).square().mean(dim=1), z


FORWARDS: dict[str, Callable[[ServingModel, torch.Tensor], Tensors]] = {
    "encode": _encode,
    "decode": lambda model, z: (model.decode(z),),
    "reconstruct": _reconstruct,
    "score": lambda model, x: (model.row_errors(x),),  # each row's anomaly score (B,)
}
OPERATIONS = tuple(FORWARDS)


class Operation(nn.Module):
    """One operation of a served model as a module (eval mode): a batch to a tuple."""

    def __init__(self, model: ServingModel, name: str) -> None:
        super().__init__()
        self.model = model
        self.forward_of = FORWARDS[name]
        self.eval()

    def forward(self, x: torch.Tensor) -> Tensors:
        return self.forward_of(self.model, x)


def input_width(model: ServingModel, operation: str) -> int:
    ae = model.autoencoder
    return ae.code_size if operation == "decode" else ae.n_features


def probe_rows(model: ServingModel, operation: str, rows: int = 16) -> torch.Tensor:
    """A fixed batch of valid inputs for checking a runtime against the modules."""
    x = torch.randn(rows, input_width(model, operation), generator=torch.Generator().manual_seed(0))
    if operation == "decode":
        return x
    with torch.no_grad():  # rows around the data: the preprocessing's inverse of N(0, 1)
        return model.preprocessor.inverse(x).contiguous()
