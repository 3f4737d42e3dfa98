"""The anomaly score's coding statistics leave the outliers among the training rows out
(ServingModel._robust_statistics): a user's unlabelled rows hold the outliers to be found."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from service.training.trainer import train
from service.zoo.serving import SCORE_TRIM, score_trim
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
    model.fit_score(x, x, trim=None)  # every row alike
    mean, precision = model.coding_mean.clone(), model.coding_precision.clone()
    model.fit_score(x, x, trim=SCORE_TRIM)
    assert torch.allclose(model.coding_precision, precision, rtol=0.1, atol=0.01)
    assert torch.allclose(model.coding_mean, mean, atol=0.05)


def plain_scores(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """The scores with the plain statistics of x's codings (every row alike)."""
    model.fit_score(x, x, trim=None)
    with torch.no_grad():
        return model.row_errors(x).numpy()


def trained(spec: dict, X: np.ndarray) -> torch.nn.Module:
    spec = {**spec, "training": {"epochs": 5, "early_stopping_patience": None}}
    return train(spec=ModelSpec.model_validate(spec), X=X, image_shape=None).model


@pytest.mark.parametrize("jitter", [0.0, 1e-3])
def test_a_majority_of_alike_rows_keeps_the_score_sane(jitter: float) -> None:
    """Zero-inflated rows (idle sensors, empty baskets): 60 % alike. The reweighting kept
    only those, whose covariance is the 1e-12 floor: ordinary rows scored 1e15."""
    rng = np.random.default_rng(0)
    X = np.concatenate([jitter * rng.normal(size=(300, 8)), rng.normal(size=(200, 8))])
    X = X[rng.permutation(len(X))].astype(np.float32)
    model = trained({"architecture": {"kind": "dense", "code_size": 4}}, X)
    x = torch.from_numpy(X)
    model.fit_score(x, x, trim=SCORE_TRIM)
    with torch.no_grad():
        robust = model.row_errors(x).numpy()
    assert np.quantile(robust, 0.9) < 3 * np.quantile(plain_scores(model, x), 0.9)


@pytest.mark.parametrize(("n", "features", "code"), [(22, 32, 24), (50, 64, 48)])
def test_too_few_rows_for_the_code_size_keep_the_plain_statistics(
    n: int, features: int, code: int
) -> None:
    """The rows kept spanned less than the code space: the rows left out, clean ones,
    scored 10 to 100 times the plain statistics' largest score."""
    X = np.random.default_rng(0).normal(size=(n, features)).astype(np.float32)
    model = trained({"architecture": {"kind": "dense", "code_size": code}}, X)
    x = torch.from_numpy(X)
    model.fit_score(x, x, trim=SCORE_TRIM)
    with torch.no_grad():
        robust = model.row_errors(x).numpy()
    assert np.allclose(robust, plain_scores(model, x), rtol=1e-4)


@pytest.mark.parametrize(
    "spec",
    [
        {"architecture": {"kind": "vae", "code_size": 8}},
        {"architecture": {"code_size": 8}, "regularization": {"sparsity": {"kind": "kl"}}},
        {"architecture": {"kind": "conv_vae", "code_size": 8}},
    ],
)
def test_sparse_and_variational_codings_keep_the_plain_statistics(spec: dict) -> None:
    """Their codings are no gaussian cloud: a gaussian's quantiles left out a fifth of
    clean rows, and the clean rows' 0.99 score quantile was 2.8 times the plain one."""
    assert score_trim(ModelSpec.model_validate(spec)) is None


def test_the_share_left_out_is_the_contamination_at_least_a_tenth() -> None:
    assert score_trim(ModelSpec.model_validate({"architecture": {"code_size": 8}})) == 0.1
    contaminated = {"architecture": {"code_size": 8}, "training": {"contamination": 0.3}}
    assert score_trim(ModelSpec.model_validate(contaminated)) == 0.3


def test_each_term_of_the_score_is_in_units_of_its_typical_value() -> None:
    """The reconstruction error and the codings' distance each count about 1 on a typical
    fitted row: with the error over the validation rows' mean and the distance over the
    code size, the distance outweighed the error where a new class's rows lay off the
    manifold but among the normal codings (wine class 2: AUROC 0.961, the error alone
    0.994)."""
    X, _ = rows(400, 0)
    model = fit(X)
    x = torch.from_numpy(X)
    model.fit_score(x[:300], x[300:], trim=SCORE_TRIM)
    with torch.no_grad():
        xp = model.preprocessor(x)
        codings = model.autoencoder.encode(xp)
        error = (model.autoencoder.decode(codings) - xp).square().mean(dim=1)
        centred = codings - model.coding_mean
        distance = ((centred @ model.coding_precision) * centred).sum(dim=1) / 2
    for term in (error / model.error_scale, distance):
        smallest = torch.sort(term.double()).values[:360]  # the typical 90 %
        assert float(smallest.mean()) == pytest.approx(1.0, rel=1e-3)
