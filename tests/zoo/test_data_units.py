"""Quality figures in the data's own units; the linear autoencoder is PCA; the score."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from service.training.trainer import split_rows, train
from service.zoo.datasets_builtin import make_pca3d
from service.zoo.metrics import quality_metrics, threshold_for
from service.zoo.preprocess import fit_preprocessor
from service.zoo.serving import SCORE_BUFFERS, build_serving_model, load_serving_model
from service.zoo.spec import ModelSpec


def test_metrics_are_in_data_units_hand_computed() -> None:
    """x keeps its value, y is forgotten: every figure below is worked out by hand."""
    X_train = np.array([[-10, 2], [-5, -2], [5, -2], [10, 2]], dtype=np.float32)  # cov(x, y) 0
    X_val = np.array([[3, 2], [-4, -1]], dtype=np.float32)
    spec = ModelSpec.model_validate(
        {
            "architecture": {"kind": "linear", "code_size": 1},
            "preprocessing": "standardize",
        }
    )
    model = build_serving_model(spec, 2, None)
    model.preprocessor.load_state_dict(fit_preprocessor("standardize", X_train).state_dict())
    assert model.preprocessor.scale.tolist() == pytest.approx([np.sqrt(62.5), 2.0])
    encoder, decoder = model.autoencoder.encoder.layers[0], model.autoencoder.decoder.layers[0]
    with torch.no_grad():
        encoder.weight.copy_(torch.tensor([[1.0, 0.0]]))
        encoder.bias.zero_()
        decoder.weight.copy_(torch.tensor([[1.0], [0.0]]))
        decoder.bias.zero_()
    metrics = quality_metrics(spec, model.eval(), X_train, X_val)
    # y is reconstructed as its training mean, 0: errors 2^2 and 1^2 over 2 features, 2 rows
    assert metrics["val_mse"] == pytest.approx((4 + 1) / 4)
    # in the standardized space y was divided by its std, 2
    assert metrics["val_mse_preprocessed"] == pytest.approx((1 + 0.25) / 4)
    # PCA on the raw training rows keeps x (variance 62.5 against 4): the same errors
    assert metrics["pca_val_mse"] == pytest.approx((4 + 1) / 4, rel=1e-6)
    assert metrics["pca_val_mse_preprocessed"] > 0


def _not_centred() -> np.ndarray:
    """The chapter's 3-D cloud, stretched and moved far from the origin."""
    return make_pca3d() * np.array([1.0, 3.0, 0.5], dtype=np.float32) + np.array(
        [100.0, -50.0, 7.0], dtype=np.float32
    )


def test_linear_autoencoder_is_pca_on_data_that_is_not_centred() -> None:
    X = _not_centred()
    spec = ModelSpec.model_validate({"architecture": {"kind": "linear", "code_size": 2}})
    result = train(spec=spec, X=X, image_shape=None)
    assert result.config["spec"]["preprocessing"] == "none"
    rows, _ = split_rows(len(X), 0.2, 0)
    pca_plane = PCA(2).fit(X[rows]).components_.T  # (3, 2)
    decoder = result.model.autoencoder.decoder.layers[0].weight.detach().numpy()  # (3, 2)
    assert np.degrees(subspace_angles(decoder, pca_plane).max()) <= 1.0
    assert result.metrics["val_mse"] <= 1.01 * result.metrics["pca_val_mse"]


def test_linear_autoencoder_on_pca3d_lands_on_the_plane_of_all_rows() -> None:
    X = make_pca3d()
    spec = ModelSpec.model_validate({"architecture": {"kind": "linear", "code_size": 2}})
    result = train(spec=spec, X=X, image_shape=None)
    decoder = result.model.autoencoder.decoder.layers[0].weight.detach().numpy()
    assert np.degrees(subspace_angles(decoder, PCA(2).fit(X).components_.T).max()) <= 1.0


# ---------------------------------------------------------------- the anomaly score


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(600, 8)) @ rng.normal(size=(8, 8))
    far = normal[:40] + 8 * rng.normal(size=(40, 8))
    return normal.astype(np.float32), far.astype(np.float32)


def test_score_is_about_two_on_normal_rows_and_larger_on_anomalies() -> None:
    normal, far = _blobs()
    spec = ModelSpec.model_validate({"architecture": {"code_size": 3}, "training": {"epochs": 20}})
    result = train(spec=spec, X=normal, image_shape=None)
    with torch.no_grad():
        typical = result.model.row_errors(torch.from_numpy(normal)).numpy()
        odd = result.model.row_errors(torch.from_numpy(far)).numpy()
    assert 1.0 < float(np.median(typical)) < 4.0
    assert float(np.median(odd)) > 5 * float(np.median(typical))
    # the stored threshold flags about `contamination` of the validation rows
    quantiles = result.metrics["score_quantiles"]
    assert threshold_for(quantiles, 0.05) == pytest.approx(result.metrics["threshold"], rel=1e-6)
    assert threshold_for(quantiles, 0.2) < threshold_for(quantiles, 0.05)


def test_a_format_1_version_scores_with_its_plain_reconstruction_error() -> None:
    normal, _ = _blobs()
    spec = ModelSpec.model_validate({"architecture": {"code_size": 3}, "training": {"epochs": 2}})
    result = train(spec=spec, X=normal, image_shape=None)
    config = {**result.config, "format_version": 1}
    old = {k: v for k, v in result.model.state_dict().items() if k not in SCORE_BUFFERS}
    loaded = load_serving_model(config, old)
    x = torch.from_numpy(normal[:20])
    with torch.no_grad():
        xp = loaded.preprocessor(x)
        plain = (loaded.autoencoder(xp) - xp).square().mean(dim=1)
        assert torch.allclose(loaded.row_errors(x), plain)
        assert not torch.allclose(result.model.row_errors(x), plain)
