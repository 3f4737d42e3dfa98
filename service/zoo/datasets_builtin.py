"""Built-in datasets as plain arrays (the API registers them; benchmarks and tests use them)."""

from __future__ import annotations

import numpy as np


def make_pca3d(seed: int = 42) -> np.ndarray:
    """A 3-D cloud of 200 points near a tilted plane, like Géron's PCA demo; (200, 3) float32."""
    rng = np.random.default_rng(seed)
    m, w1, w2, noise = 200, 0.1, 0.3, 0.1
    angles = rng.random(m) * 3 * np.pi / 2 - 0.5
    X = np.empty((m, 3))
    X[:, 0] = np.cos(angles) + np.sin(angles) / 2 + noise * rng.standard_normal(m) / 2
    X[:, 1] = np.sin(angles) * 0.7 + noise * rng.standard_normal(m) / 2
    X[:, 2] = X[:, 0] * w1 + X[:, 1] * w2 + noise * rng.standard_normal(m)
    return X.astype(np.float32)


def load_digits_unit() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's 8x8 digits scaled to [0, 1] (pixels / 16): X (1797, 64) float32, y (1797,)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
