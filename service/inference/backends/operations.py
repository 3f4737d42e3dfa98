"""Each served operation as a torch module: rows in the dataset's units to a tuple of outputs,
the preprocessing inside; each row's outputs depend on that row alone."""

from __future__ import annotations

import torch
from torch import nn

from service.zoo import ServingModel

OPERATIONS = ("encode", "decode", "reconstruct", "score")
Tensors = tuple[torch.Tensor, ...]


class Operation(nn.Module):
    """One operation of a served model: a batch of inputs to a tuple of outputs."""

    def __init__(self, model: ServingModel) -> None:
        super().__init__()
        self.model = model


class Encode(Operation):
    """(B, n_features) raw -> codings (B, code_size); a VAE's mean and log-variance."""

    def forward(self, x: torch.Tensor) -> Tensors:
        if self.model.autoencoder.variational:
            return self.model.encode_stats(x)
        return (self.model.encode(x),)


class Decode(Operation):
    """(B, code_size) -> rows in raw units (B, n_features)."""

    def forward(self, z: torch.Tensor) -> Tensors:
        return (self.model.decode(z),)


class Reconstruct(Operation):
    """Rows in raw units (B, n_features), each row's mean squared error in the data's
    units (B,) and its codings (B, code_size; a VAE's mean), from one forward pass: an OIP
    request for codings and reconstructions is one batch, not two."""

    def forward(self, x: torch.Tensor) -> Tensors:
        pre, ae = self.model.preprocessor, self.model.autoencoder
        z = ae.encode(pre(x))
        out = pre.inverse(ae.decode(z))  # what reconstruct(x) answers in eval mode
        return out, (out - x).square().mean(dim=1), z


class Score(Operation):
    """Each row's anomaly score (B,)."""

    def forward(self, x: torch.Tensor) -> Tensors:
        return (self.model.row_errors(x),)


def operation(model: ServingModel, name: str) -> nn.Module:
    """The operation's module (eval mode)."""
    ops: dict[str, type[Operation]] = {
        "encode": Encode,
        "decode": Decode,
        "reconstruct": Reconstruct,
        "score": Score,
    }
    return ops[name](model).eval()


def input_width(model: ServingModel, operation: str) -> int:
    ae = model.autoencoder
    return ae.code_size if operation == "decode" else ae.n_features


def probe_rows(model: ServingModel, operation: str, rows: int = 16) -> torch.Tensor:
    """A fixed batch of valid inputs for checking a runtime against the modules."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, input_width(model, operation), generator=generator)
    if operation == "decode":
        return x
    pre = model.preprocessor  # rows around the data: the preprocessing's inverse of N(0, 1)
    with torch.no_grad():
        return pre.inverse(x).contiguous()
