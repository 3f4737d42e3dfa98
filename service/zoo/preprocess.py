"""Per-feature affine preprocessing, stored with the model so that serving speaks raw units."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# A feature whose spread is tiny next to the others' (a border pixel that one training row
# touches) would have a small deviation at serving time blown up by 1 / its spread. Every
# per-feature scale is floored at this share of the median feature spread.
SCALE_FLOOR_OF_MEDIAN = 0.1


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


def _floored(scale: np.ndarray) -> np.ndarray:
    """Constant features keep scale 1; the others are floored at a share of the median."""
    spread = scale[scale > 1e-12]
    if len(spread) == 0:
        return np.ones_like(scale)
    floor = SCALE_FLOOR_OF_MEDIAN * float(np.median(spread))
    return np.where(scale > 1e-12, np.maximum(scale, floor), 1.0)


def fit_shift_scale(kind: str, X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shift (F,), scale (F,)) in float64, fitted on the training rows.

    global_minmax: one shift and scale for every feature (the data's min and range), what
    the chapter does to pixels: features that share units keep their relative sizes.
    """
    X = np.asarray(X_train, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"fit_preprocessor needs a non-empty 2-D array, got shape {X.shape}")
    n_features = X.shape[1]
    if kind == "standardize":
        return X.mean(axis=0), _floored(X.std(axis=0))
    if kind == "minmax":
        lo = X.min(axis=0)
        return lo, _floored(X.max(axis=0) - lo)
    if kind == "global_minmax":
        lo, hi = float(X.min()), float(X.max())
        span = hi - lo if hi - lo > 1e-12 else 1.0
        return np.full(n_features, lo), np.full(n_features, span)
    if kind == "none":
        return np.zeros(n_features), np.ones(n_features)
    raise ValueError(f"unknown preprocessing '{kind}'")


def fit_preprocessor(kind: str, X_train: np.ndarray) -> Preprocessor:
    shift, scale = fit_shift_scale(kind, X_train)
    pre = Preprocessor(len(shift))
    pre.shift.copy_(torch.from_numpy(shift.astype(np.float32)))
    pre.scale.copy_(torch.from_numpy(scale.astype(np.float32)))
    return pre


def preprocessor_from_moments(
    kind: str, mean: np.ndarray, std: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> Preprocessor:
    """fit_preprocessor from per-feature moments of the training rows (mean, std, min,
    max), taken in one streaming pass over data too large to hold."""
    n_features = len(mean)
    if kind == "standardize":
        shift, scale = mean, _floored(std)
    elif kind == "minmax":
        shift, scale = lo, _floored(hi - lo)
    elif kind == "global_minmax":
        low, high = float(lo.min()), float(hi.max())
        span = high - low if high - low > 1e-12 else 1.0
        shift, scale = np.full(n_features, low), np.full(n_features, span)
    elif kind == "none":
        shift, scale = np.zeros(n_features), np.ones(n_features)
    else:
        raise ValueError(f"unknown preprocessing '{kind}'")
    pre = Preprocessor(n_features)
    pre.shift.copy_(torch.from_numpy(np.asarray(shift, dtype=np.float32)))
    pre.scale.copy_(torch.from_numpy(np.asarray(scale, dtype=np.float32)))
    return pre
