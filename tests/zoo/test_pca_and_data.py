"""The PCA baseline and the built-in arrays."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from service.zoo.datasets_builtin import load_digits_unit, make_pca3d
from service.zoo.pca import pca_reconstruction_mse


def test_pca_mse_matches_sklearn() -> None:
    X = np.random.default_rng(0).normal(size=(100, 7)) @ np.diag([5, 3, 2, 1, 1, 0.5, 0.1])
    train, test = X[:80], X[80:]
    pca = PCA(n_components=3).fit(train)
    expected = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
    assert abs(pca_reconstruction_mse(train, test, 3) - expected) < 1e-9
    assert pca_reconstruction_mse(train, test, 7) < 1e-20


def test_pca3d_is_seeded_and_nearly_planar() -> None:
    X = make_pca3d()
    assert X.shape == (200, 3) and X.dtype == np.float32
    assert np.array_equal(X, make_pca3d(42))
    assert not np.array_equal(X, make_pca3d(1))
    variances = np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2
    assert variances[2] / variances.sum() < 0.05


def test_digits_are_unit_scaled() -> None:
    X, y = load_digits_unit()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(y.tolist()) == set(range(10))
