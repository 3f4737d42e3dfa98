"""The PCA baseline: what every autoencoder is compared with at the same code size."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def pca_fit(X_train: np.ndarray, code_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (mean (F,), components (code_size, F)) of the centred training rows."""
    X = np.asarray(X_train, dtype=np.float64)
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    # directions with no spread (fewer rows than codings, copies of a feature) are
    # rounding noise that differs between two fits of the same rows: zero, not noise
    kept = s > (s[0] if len(s) else 0.0) * max(X.shape) * np.finfo(np.float64).eps
    components = vt[:code_size] * kept[:code_size, None]
    return mean, components


def pca_reconstruction_mse(X_train: np.ndarray, X_eval: np.ndarray, code_size: int) -> float:
    """Mean squared error of X_eval projected on the top `code_size` components of X_train."""
    if not 1 <= code_size <= np.asarray(X_train).shape[1]:
        raise ValueError(f"code_size must be in [1, n_features], got {code_size}")
    mean, components = pca_fit(X_train, code_size)
    centred = np.asarray(X_eval, dtype=np.float64) - mean  # (N, F)
    reconstruction = centred @ components.T @ components  # (N, F)
    return float(np.mean((centred - reconstruction) ** 2))


def init_linear_as_pca(
    encoder: nn.Linear,
    decoder: nn.Linear,
    X_train: np.ndarray,
    column_scale: np.ndarray | None = None,
) -> None:
    """Put a linear autoencoder on PCA's solution for X_train (Baldi and Hornik, 1989).

    The optimum of a linear autoencoder under MSE is the projection on the top principal
    components, with the mean in its biases; gradient descent reaches it only slowly when
    the data are not centred or the spectrum is flat, so training starts there instead and
    the regularisers (noise, weight decay) move it from there.

    column_scale (F,): PCA of X_train * column_scale, the optimum of an MSE that weighs
    feature j by column_scale[j] squared (the data's units, when X_train is preprocessed
    and column_scale is the preprocessor's scale); the layers still read and write X_train.
    """
    code_size = encoder.out_features
    scale = np.ones(X_train.shape[1]) if column_scale is None else np.asarray(column_scale)
    mean, components = pca_fit(np.asarray(X_train, dtype=np.float64) * scale, code_size)
    if len(components) < code_size:  # fewer rows than codings: the rest start at zero
        missing = np.zeros((code_size - len(components), components.shape[1]))
        components = np.concatenate([components, missing])
    with torch.no_grad():
        encoder.weight.copy_(torch.from_numpy(components * scale))  # (code, F)
        encoder.bias.copy_(torch.from_numpy(-(components @ mean)))
        decoder.weight.copy_(torch.from_numpy(components.T / scale[:, None]))  # (F, code)
        decoder.bias.copy_(torch.from_numpy(mean / scale))
