"""A dataset's profile: the few facts about its values that pick the `auto` defaults.

Taken once at upload (stored with the dataset) and again by the trainer on the same rows;
pure numpy, so both give the same answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel

_HEAVY_TAIL_KURTOSIS = 20.0  # excess kurtosis past which a feature counts as heavy-tailed
_SAMPLE_ROWS = 100_000  # rows the per-feature moments are taken on (the bounds use all)


class DataProfile(BaseModel):
    n_rows: int
    n_features: int
    image: bool  # the dataset declares an image_shape
    min: float  # over every value
    max: float
    integer_valued: bool  # every value a whole number (counts, 8-bit pixels)
    binary_fraction: float  # share of features with at most two distinct values
    constant_fraction: float  # share of features with one value
    heavy_tailed_fraction: float  # share of features with excess kurtosis > 20

    @property
    def unit_range(self) -> bool:
        return self.min >= 0.0 and self.max <= 1.0

    @property
    def shared_bounded_range(self) -> bool:
        """Every feature in the same known range: [0, 1], or whole numbers in [0, 255]."""
        return self.unit_range or (self.integer_valued and self.min >= 0 and self.max <= 255)


def profile_data(X: np.ndarray, image_shape: Any = None) -> DataProfile:
    X = np.asarray(X)
    n_rows, n_features = X.shape
    sample = X[: min(n_rows, _SAMPLE_ROWS)].astype(np.float64)
    lo, hi = sample.min(axis=0), sample.max(axis=0)
    constant = hi - lo <= 1e-12
    binary = ((sample == lo) | (sample == hi)).all(axis=0)
    centred = sample - sample.mean(axis=0)
    var = centred.var(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kurtosis = np.where(var > 1e-24, (centred**4).mean(axis=0) / var**2 - 3.0, 0.0)
    return DataProfile(
        n_rows=int(n_rows),
        n_features=int(n_features),
        image=image_shape is not None,
        min=float(X.min()),
        max=float(X.max()),
        integer_valued=bool(np.all(np.mod(sample, 1.0) == 0)),
        binary_fraction=float(binary.mean()),
        constant_fraction=float(constant.mean()),
        heavy_tailed_fraction=float((kurtosis > _HEAVY_TAIL_KURTOSIS).mean()),
    )
