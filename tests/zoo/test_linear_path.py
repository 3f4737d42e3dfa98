"""Tables whose features have their own units: the default dense model learns in the data's
units (its mse weighs each feature by its preprocessing scale squared) on a linear path
fixed at PCA's solution in those units, so it starts where PCA ends and validation keeps
it there or better (zoo.nets.LinearPath, training.prepare.loss_weights)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine

from service.training.prepare import loss_weights, prepare
from service.training.trainer import train
from service.zoo.auto import resolve_spec
from service.zoo.nets import LAYER_SCALE
from service.zoo.pca import pca_fit
from service.zoo.profile import profile_data
from service.zoo.serving import FORMAT_VERSION, build_serving_model, load_serving_model
from service.zoo.spec import ModelSpec, SpecError, check_spec

WINE = load_wine().data.astype(np.float32)  # proline in the hundreds, hue near 1


def spec(**fields: Any) -> ModelSpec:
    return ModelSpec.model_validate({"architecture": {"code_size": 2}, **fields})


def test_default_training_on_features_of_different_scales_is_not_worse_than_pca() -> None:
    """What `reconstruct` answers, in the data's units, against PCA on the same raw rows:
    the loss in standardized units made this 2,000 times PCA's error."""
    result = train(spec=spec(training={"epochs": 5}), X=WINE, image_shape=None)
    m = result.metrics
    assert m["val_mse"] <= m["pca_val_mse"] * (1 + 1e-4), (m["val_mse"], m["pca_val_mse"])
    resolved = ModelSpec.model_validate(result.config["spec"])
    assert resolved.architecture.linear_path is True  # type: ignore[union-attr]
    assert "linear path" in m["auto_decisions"]["architecture.linear_path"]


def test_an_untrained_network_with_a_linear_path_is_pca_in_the_data_units() -> None:
    resolved, _ = resolve_spec(spec(), profile_data(WINE))
    ctx, X_train, _ = prepare(resolved, WINE, None)
    model = ctx.model.eval()
    with torch.no_grad():
        out = model.reconstruct(torch.from_numpy(X_train)).double().numpy()
    mean, components = pca_fit(X_train, 2)
    centred = X_train.astype(np.float64) - mean
    pca = mean + centred @ components.T @ components
    assert np.abs(out - pca).max() < 1e-3 * np.abs(X_train).max()
    assert (model.autoencoder.linear_path is not None) and LAYER_SCALE < 1
    for p in model.autoencoder.linear_path.parameters():
        assert not p.requires_grad  # fixed: training moves only the layers


def test_the_loss_weighs_each_feature_by_its_scale_squared() -> None:
    scale = torch.tensor([1.0, 2.0, 4.0])
    weights = loss_weights(spec(preprocessing="standardize", training={"loss": "mse"}), scale)
    assert weights is not None
    assert torch.allclose(weights, torch.tensor([1.0, 4.0, 16.0]) / 7.0)
    one_scale = spec(preprocessing="global_minmax", training={"loss": "mse"})
    assert loss_weights(one_scale, torch.full((3,), 5.0)) is None
    bce = spec(preprocessing="minmax", training={"loss": "bce"})
    assert loss_weights(bce, scale) is None  # a likelihood of [0, 1] data: no units


@pytest.mark.parametrize(
    "fields",
    [
        {"architecture": {"code_size": 2, "linear_path": True, "tied_weights": True}},
        {
            "architecture": {"code_size": 2, "linear_path": True},
            "regularization": {"sparsity": {"kind": "l1", "weight": 0.01}},
        },
        {
            "architecture": {"code_size": 2, "linear_path": True},
            "training": {"strategy": "layerwise"},
        },
        {
            "architecture": {"code_size": 2, "linear_path": True},
            "preprocessing": "global_minmax",
        },
    ],
)
def test_a_linear_path_that_cannot_work_is_refused_naming_the_field(
    fields: dict[str, Any],
) -> None:
    resolved, _ = resolve_spec(ModelSpec.model_validate(fields), profile_data(WINE))
    with pytest.raises(SpecError) as error:
        check_spec(resolved)
    assert error.value.loc == ("architecture", "linear_path")


def test_auto_leaves_the_path_out_where_it_cannot_work() -> None:
    profile = profile_data(WINE)
    tied = resolve_spec(spec(architecture={"code_size": 2, "tied_weights": True}), profile)[0]
    images = resolve_spec(spec(), profile_data(np.random.default_rng(0).random((50, 16))))[0]
    for resolved in (tied, images):
        assert resolved.architecture.linear_path is False  # type: ignore[union-attr]


def test_a_version_stored_before_the_field_loads_without_a_path() -> None:
    """Its spec has no linear_path, its tensors no linear_path.*: it loads as it was built."""
    old = {"architecture": {"kind": "dense", "code_size": 2, "hidden_sizes": [8]}}
    stored = ModelSpec.stored(old)
    assert stored.architecture.linear_path is False  # type: ignore[union-attr]
    model = build_serving_model(stored, 6, None)
    tensors = model.state_dict()
    assert not any(name.startswith("autoencoder.linear_path") for name in tensors)
    config = {"spec": old, "n_features": 6, "image_shape": None, "format_version": FORMAT_VERSION}
    loaded = load_serving_model(config, tensors)
    assert loaded.autoencoder.linear_path is None
