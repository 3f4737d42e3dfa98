"""What every trained version records about its quality (JSON-safe)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from service.zoo.pca import pca_reconstruction_mse
from service.zoo.serving import ServingModel
from service.zoo.spec import ModelSpec

_ROWS = 4096  # rows per forward pass
# The validation scores' quantiles at these levels are stored, so that `score` can set the
# threshold for any contamination in (0, 0.5) a request asks for.
SCORE_QUANTILE_LEVELS = np.linspace(0.5, 1.0, 101)


def threshold_for(score_quantiles: list[float], contamination: float) -> float:
    """The score above which `contamination` of the validation rows lie."""
    return float(np.interp(1.0 - contamination, SCORE_QUANTILE_LEVELS, score_quantiles))


@torch.no_grad()
def _batched(fn: Any, X: np.ndarray) -> np.ndarray:
    parts = [
        fn(torch.from_numpy(X[i : i + _ROWS])).float().numpy() for i in range(0, len(X), _ROWS)
    ]
    return np.concatenate(parts)


def coding_moments(codings: np.ndarray) -> tuple[list[float], list[list[float]]]:
    """Mean (code,) and covariance (code, code) of codings, for `generate` on non-VAE models."""
    mean = codings.mean(axis=0)
    if len(codings) < 2:
        cov = np.zeros((codings.shape[1], codings.shape[1]))
    else:
        cov = np.atleast_2d(np.cov(codings.astype(np.float64), rowvar=False))
    return [float(v) for v in mean], [[float(v) for v in row] for row in cov]


def quality_metrics(
    spec: ModelSpec, model: ServingModel, X_train: np.ndarray, X_val: np.ndarray
) -> dict[str, Any]:
    """Validation MSE, its PCA baseline, the anomaly threshold and the coding statistics.

    X_train and X_val are raw rows. `val_mse` and `pca_val_mse` are in the data's own
    units: the squared difference between what `reconstruct` returns and the row sent,
    and PCA fitted on the same raw training rows at the same code size. The `_preprocessed`
    figures are the same in the space the network trains in. The threshold is on the
    anomaly score (`ServingModel.row_errors`) of every row the model was fitted on, training
    and validation, as PyOD sets `threshold_` from its training scores: on a small dataset
    the validation rows alone are too few for a stable quantile.
    """
    model = model.eval()
    code = spec.architecture.code_size
    scores = _batched(model.row_errors, np.concatenate([X_train, X_val]))  # (N,)
    pre = model.preprocessor
    Xp_train = _batched(pre, X_train)
    Xp_val = _batched(pre, X_val)
    Xp_hat = _batched(model.autoencoder, Xp_val)  # (N_val, F) preprocessed
    reconstructions = _batched(pre.inverse, Xp_hat)  # what `reconstruct` returns, raw units
    contamination = spec.training.contamination
    mean, cov = coding_moments(_batched(model.encode, X_train))
    sparsity = spec.regularization.sparsity
    mean_activation = None
    if sparsity is not None:
        val_codings = _batched(model.encode, X_val)
        # kl: codings are sigmoid activations; l1: their magnitude is what is penalised
        activation = val_codings if sparsity.kind == "kl" else np.abs(val_codings)
        mean_activation = float(activation.mean())
    return {
        "val_mse": float(np.mean((reconstructions.astype(np.float64) - X_val) ** 2)),
        "pca_val_mse": pca_reconstruction_mse(X_train, X_val, code),
        "val_mse_preprocessed": float(np.mean((Xp_hat.astype(np.float64) - Xp_val) ** 2)),
        "pca_val_mse_preprocessed": pca_reconstruction_mse(Xp_train, Xp_val, code),
        "threshold": float(np.quantile(scores, 1.0 - contamination)),
        "score_quantiles": [float(v) for v in np.quantile(scores, SCORE_QUANTILE_LEVELS)],
        "contamination": contamination,
        "coding_mean": mean,
        "coding_cov": cov,
        "mean_activation": mean_activation,
    }
