"""Per-feature affine preprocessing, stored with the model so that serving speaks raw units."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn

PreprocessingKind = Literal["standardize", "minmax", "none"]


class Preprocessor(nn.Module):
    """forward(x) = (x - shift) / scale, inverse(y) = y * scale + shift, feature-wise."""

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("shift", torch.zeros(n_features, dtype=torch.float32))  # (F,)
        self.register_buffer("scale", torch.ones(n_features, dtype=torch.float32))  # (F,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale  # (B, F)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * self.scale + self.shift  # (B, F)


def fit_preprocessor(kind: PreprocessingKind, X_train: np.ndarray) -> Preprocessor:
    """Fit shift and scale on the training rows; a constant feature keeps scale 1."""
    X = np.asarray(X_train, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"fit_preprocessor needs a non-empty 2-D array, got shape {X.shape}")
    shift = np.zeros(X.shape[1])
    scale = np.ones(X.shape[1])
    if kind == "standardize":
        shift, scale = X.mean(axis=0), X.std(axis=0)
    elif kind == "minmax":
        shift, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    elif kind != "none":
        raise ValueError(f"unknown preprocessing '{kind}'")
    # A constant feature would divide by zero: leave it centred (or shifted to 0) instead.
    scale = np.where(scale > 1e-12, scale, 1.0)
    pre = Preprocessor(X.shape[1])
    pre.shift.copy_(torch.from_numpy(shift.astype(np.float32)))
    pre.scale.copy_(torch.from_numpy(scale.astype(np.float32)))
    return pre
