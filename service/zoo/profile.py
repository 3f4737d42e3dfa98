"""A dataset's profile: the few facts about its values that pick the `auto` defaults.

Taken once at upload (stored with the dataset) and again by the trainer on the same rows;
pure numpy, so both give the same answer. Taken block by block (ProfileAccumulator), so a
dataset larger than memory is profiled in one streaming pass.
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


_SAMPLE_BYTES = 32 << 20  # ... and at most this many bytes of float32, whatever the width
_MOMENT_BYTES = 8 << 20  # float64 columns of the sample worked on at a time


def sample_rows(n_features: int) -> int:
    """The rows (the first ones) the per-feature moments are taken on."""
    return max(1, min(_SAMPLE_ROWS, _SAMPLE_BYTES // (4 * max(1, n_features))))


class ProfileAccumulator:
    """A profile taken block by block, in one pass: the bounds over every value, the
    moments on the first `sample_rows` rows. Equal to profile_data on the whole matrix."""

    def __init__(self, n_features: int, image_shape: Any = None) -> None:
        self.n_features, self.image = n_features, image_shape is not None
        self.n_rows, self.lo, self.hi = 0, float("inf"), float("-inf")
        self._limit = sample_rows(n_features)
        self._sample: list[np.ndarray] = []
        self._kept = 0

    def update(self, block: np.ndarray) -> None:
        if len(block) == 0:
            return
        self.n_rows += len(block)
        self.lo, self.hi = min(self.lo, float(block.min())), max(self.hi, float(block.max()))
        if self._kept < self._limit:
            take = np.array(block[: self._limit - self._kept], dtype=np.float32)
            self._sample.append(take)
            self._kept += len(take)

    def result(self) -> DataProfile:
        sample = np.concatenate(self._sample) if self._sample else np.zeros((1, self.n_features))
        # Moments in float64 a slice of features at a time: no float64 copy of the sample.
        width = max(1, _MOMENT_BYTES // (8 * len(sample)))
        parts = [_moments(sample[:, i : i + width]) for i in range(0, self.n_features, width)]
        constant, binary, integer, heavy = (np.concatenate(p) for p in zip(*parts, strict=True))
        return DataProfile(
            n_rows=int(self.n_rows),
            n_features=int(self.n_features),
            image=self.image,
            min=self.lo,
            max=self.hi,
            integer_valued=bool(integer.all()),
            binary_fraction=float(binary.mean()),
            constant_fraction=float(constant.mean()),
            heavy_tailed_fraction=float(heavy.mean()),
        )


def _moments(columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per feature: (constant, binary, integer-valued, heavy-tailed)."""
    sample = columns.astype(np.float64)
    lo, hi = sample.min(axis=0), sample.max(axis=0)
    binary = ((sample == lo) | (sample == hi)).all(axis=0)
    centred = sample - sample.mean(axis=0)
    var = centred.var(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kurtosis = np.where(var > 1e-24, (centred**4).mean(axis=0) / var**2 - 3.0, 0.0)
    integer = (np.mod(sample, 1.0) == 0).all(axis=0)
    return hi - lo <= 1e-12, binary, integer, kurtosis > _HEAVY_TAIL_KURTOSIS


def profile_data(X: np.ndarray, image_shape: Any = None) -> DataProfile:
    X = np.asarray(X)
    profile = ProfileAccumulator(X.shape[1], image_shape)
    profile.update(X)
    return profile.result()
