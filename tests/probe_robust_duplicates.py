"""Probe: when more than half the training rows are identical (zero-inflated data: empty
baskets, idle sensors, all-zero count rows), _robust_statistics' reweighting keeps only the
identical rows, the covariance collapses to the 1e-12 floor, the precision is ~1e15 and
every ordinary row scores ~1e13..1e15 instead of "about 2" (docs/models.md). The rescale
to the plain median does not help: the robust median distance is 0, so it is skipped."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from service.training.trainer import train
from service.zoo.spec import ModelSpec


def rows(share_identical: float, jitter: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    n_dup = int(500 * share_identical)
    X = np.concatenate([jitter * rng.normal(size=(n_dup, 8)), rng.normal(size=(500 - n_dup, 8))])
    return X[rng.permutation(len(X))].astype(np.float32)


@pytest.mark.parametrize("jitter", [0.0, 1e-3])
def test_a_majority_of_identical_rows_keeps_the_score_sane(jitter: float) -> None:
    X = rows(0.6, jitter)
    spec = {
        "architecture": {"kind": "dense", "code_size": 4},
        "training": {"epochs": 5, "early_stopping_patience": None},
    }
    result = train(spec=ModelSpec.model_validate(spec), X=X, image_shape=None)
    model = result.model
    x = torch.from_numpy(X)
    with torch.no_grad():
        robust = model.row_errors(x).numpy()
        mean, precision = model._coding_statistics(model.encode(x).double())  # plain
    model.coding_mean.copy_(mean.float())
    model.coding_precision.copy_(precision.float())
    with torch.no_grad():
        plain = model.row_errors(x).numpy()
    # no outliers here: the 40 % ordinary N(0, 1) rows are normal data
    # plain: 0.9 quantile ~6; robust: ~1.5e15 (jitter 0) / ~2e3 (jitter 1e-3)
    assert np.quantile(robust, 0.9) < 10 * np.quantile(plain, 0.9)
    assert result.metrics["threshold"] < 1e3
