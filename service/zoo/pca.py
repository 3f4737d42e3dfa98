"""The PCA baseline: what every autoencoder is compared with at the same code size."""

from __future__ import annotations

import numpy as np


def pca_fit(X_train: np.ndarray, code_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (mean (F,), components (code_size, F)) of the centred training rows."""
    X = np.asarray(X_train, dtype=np.float64)
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    return mean, vt[:code_size]


def pca_reconstruction_mse(X_train: np.ndarray, X_eval: np.ndarray, code_size: int) -> float:
    """Mean squared error of X_eval projected on the top `code_size` components of X_train."""
    if not 1 <= code_size <= np.asarray(X_train).shape[1]:
        raise ValueError(f"code_size must be in [1, n_features], got {code_size}")
    mean, components = pca_fit(X_train, code_size)
    centred = np.asarray(X_eval, dtype=np.float64) - mean  # (N, F)
    reconstruction = centred @ components.T @ components  # (N, F)
    return float(np.mean((centred - reconstruction) ** 2))
