"""The anomaly score's coding statistics leave the outliers among the training rows out
(ServingModel._robust_statistics): a user's unlabelled rows hold the outliers to be found."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from service.training.trainer import train
from service.zoo.spec import ModelSpec

SPEC = {
    "architecture": {"kind": "linear", "code_size": 2},
    "training": {"epochs": 60, "early_stopping_patience": None},
}


def rows(n_normal: int, n_odd: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows on a plane in 6 features, the odd ones a tight cluster on the plane at 4.5
    times the normal rows' spread along its second direction (nothing a reconstruction
    error sees: only the codings' distance from the normal rows finds them)."""
    rng = np.random.default_rng(seed)
    plane = rng.normal(size=(2, 6))
    z = rng.normal(size=(n_normal, 2)) * [3.0, 1.0]
    odd = rng.normal(size=(n_odd, 2)) * 0.2 + [0.0, 4.5]
    X = np.concatenate([z, odd]) @ plane + rng.normal(scale=0.01, size=(n_normal + n_odd, 6))
    is_odd = np.arange(n_normal + n_odd) >= n_normal
    order = rng.permutation(len(X))
    return X[order].astype(np.float32), is_odd[order]


def fit(X: np.ndarray) -> torch.nn.Module:
    return train(spec=ModelSpec.model_validate(SPEC), X=X, image_shape=None).model


def test_outliers_among_the_training_rows_score_above_the_normal_ones() -> None:
    X, is_odd = rows(460, 40)
    model = fit(X)
    with torch.no_grad():
        scores = model.row_errors(torch.from_numpy(X)).numpy()
    # a covariance counting the cluster stretched toward it: 0.982, and a fifth of the
    # cluster below the normal rows' 0.99 quantile
    assert roc_auc_score(is_odd, scores) > 0.995
    assert np.min(scores[is_odd]) > np.quantile(scores[~is_odd], 0.99)


def test_on_clean_rows_the_statistics_are_nearly_the_plain_ones() -> None:
    X, _ = rows(500, 0)
    model = fit(X)
    x = torch.from_numpy(X)
    model.fit_score(x, x)
    with torch.no_grad():
        codings = model.encode(x).double()
    mean, precision = model._coding_statistics(codings)  # every row alike
    assert torch.allclose(model.coding_precision.double(), precision, rtol=0.1, atol=0.01)
    assert torch.allclose(model.coding_mean.double(), mean, atol=0.05)
