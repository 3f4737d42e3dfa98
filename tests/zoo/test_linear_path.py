"""Tables whose features have their own units. A dense model trained on standardized rows
counts each feature alike; on scikit-learn's wine (proline in the hundreds, hue near 1) its
reconstructions were thousands of times PCA's error in the data's units. Such a model now
trains again on a linear path fixed at PCA's solution in those units, its loss in those
units (zoo.nets.LinearPath, zoo.auto.with_linear_path, training.prepare.loss_weights); a
model that beats PCA without one keeps none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, load_wine

from service.training.data import TrainingInterrupted
from service.training.prepare import loss_weights, prepare
from service.training.trainer import EpochReport, train
from service.zoo.auto import resolve_spec
from service.zoo.nets import LAYER_SCALE
from service.zoo.pca import pca_fit
from service.zoo.profile import profile_data
from service.zoo.serving import FORMAT_VERSION, build_serving_model, load_serving_model
from service.zoo.spec import ModelSpec, SpecError, check_spec

WINE = load_wine().data.astype(np.float32)  # proline in the hundreds, hue near 1


def curve(n_rows: int = 1000) -> np.ndarray:
    """A curve through 5 features of very different spreads: one number per row."""
    rng = np.random.default_rng(0)
    t = rng.uniform(-2, 2, n_rows)
    X = np.column_stack([t, 10 * t**2, 100 * np.sin(2 * t), 5 * t**3, np.cos(3 * t)])
    return (X + 0.01 * rng.normal(size=X.shape)).astype(np.float32)


def spec(code_size: int = 2, **fields: Any) -> ModelSpec:
    architecture = {"code_size": code_size, **fields.pop("architecture", {})}
    return ModelSpec.model_validate({"architecture": architecture, **fields})


def test_default_training_on_features_of_different_scales_is_not_worse_than_pca() -> None:
    """What `reconstruct` answers, in the data's units, against PCA on the same raw rows
    (the model trained on standardized rows alone: 2,000 times PCA's error)."""
    seen: list[EpochReport] = []
    result = train(
        spec=spec(training={"epochs": 5}), X=WINE, image_shape=None, on_epoch=seen.append
    )
    m = result.metrics
    assert m["val_mse"] <= m["pca_val_mse"] * (1 + 1e-4), (m["val_mse"], m["pca_val_mse"])
    resolved = ModelSpec.model_validate(result.config["spec"])
    assert resolved.architecture.linear_path is True  # type: ignore[union-attr]
    assert m["auto_decisions"]["architecture.linear_path"].startswith("on: trained without")
    # the second training's epochs follow the first's, in the history and the reports
    stages = [row["stage"] for row in result.history]
    assert stages == ["end_to_end"] * 5 + ["linear_path"] * 5
    assert [r.epoch for r in seen] == list(range(1, 11)) == [r["epoch"] for r in result.history]
    assert m["epochs_run"] == 10


def test_a_model_that_beats_pca_without_a_path_keeps_none() -> None:
    """A curve: the network trained on standardized rows reconstructs it at a small share
    of PCA's error in the data's units, and is kept as it is."""
    result = train(spec=spec(1), X=curve(), image_shape=None)
    m = result.metrics
    assert m["val_mse"] < 0.2 * m["pca_val_mse"], (m["val_mse"], m["pca_val_mse"])
    resolved = ModelSpec.model_validate(result.config["spec"])
    assert resolved.architecture.linear_path is False  # type: ignore[union-attr]
    assert {row["stage"] for row in result.history} == {"end_to_end"}


def test_a_job_killed_in_its_second_training_resumes_there(tmp_path: Path) -> None:
    fields: dict[str, Any] = {"training": {"epochs": 4, "early_stopping_patience": None}}
    uninterrupted = train(spec=spec(**fields), X=WINE, image_shape=None)
    checkpoint = tmp_path / "ck.pt"
    seen: list[EpochReport] = []
    with pytest.raises(TrainingInterrupted):
        train(
            spec=spec(**fields),
            X=WINE,
            image_shape=None,
            checkpoint_path=checkpoint,
            on_epoch=seen.append,
            should_stop=lambda: len(seen) >= 6,  # two epochs into the second training
        )
    assert seen[-1].stage == "linear_path"
    resumed = train(spec=spec(**fields), X=WINE, image_shape=None, checkpoint_path=checkpoint)
    a, b = uninterrupted.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[name], b[name]) for name in a)
    assert resumed.config == uninterrupted.config


def test_an_untrained_network_with_a_linear_path_is_pca_in_the_data_units() -> None:
    resolved, _ = resolve_spec(spec(architecture={"linear_path": True}), profile_data(WINE))
    ctx, X_train, _ = prepare(resolved, WINE, None)
    model = ctx.model.eval()
    with torch.no_grad():
        out = model.reconstruct(torch.from_numpy(X_train)).double().numpy()
    mean, components = pca_fit(X_train, 2)
    pca = mean + (X_train.astype(np.float64) - mean) @ components.T @ components
    assert np.abs(out - pca).max() < 1e-3 * np.abs(X_train).max()
    assert model.autoencoder.linear_path is not None and LAYER_SCALE < 1
    for p in model.autoencoder.linear_path.parameters():
        assert not p.requires_grad  # fixed: training moves only the layers


def test_the_loss_weighs_each_feature_by_its_scale_squared_on_a_linear_path() -> None:
    scale = torch.tensor([1.0, 2.0, 4.0])
    mse = {"training": {"loss": "mse"}, "preprocessing": "standardize"}
    weights = loss_weights(spec(architecture={"linear_path": True}, **mse), scale)
    assert weights is not None
    assert torch.allclose(weights, torch.tensor([1.0, 4.0, 16.0]) / 7.0)
    assert loss_weights(spec(architecture={"linear_path": False}, **mse), scale) is None
    one_scale = {"training": {"loss": "mse"}, "preprocessing": "none"}
    assert (
        loss_weights(spec(architecture={"linear_path": True}, **one_scale), scale * 0 + 1) is None
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"architecture": {"linear_path": True, "tied_weights": True}},
        {
            "architecture": {"linear_path": True},
            "regularization": {"sparsity": {"kind": "l1", "weight": 0.01}},
        },
        {"architecture": {"linear_path": True}, "training": {"strategy": "layerwise"}},
        {"architecture": {"linear_path": True}, "preprocessing": "global_minmax"},
    ],
)
def test_a_linear_path_that_cannot_work_is_refused_naming_the_field(
    fields: dict[str, Any],
) -> None:
    resolved, _ = resolve_spec(spec(**fields), profile_data(WINE))
    with pytest.raises(SpecError) as error:
        check_spec(resolved)
    assert error.value.loc == ("architecture", "linear_path")


def test_auto_trains_no_second_model_where_a_path_cannot_work() -> None:
    """Tied weights, or images (a sigmoid output): one training, no path, whatever PCA did."""
    tied = spec(architecture={"tied_weights": True}, training={"epochs": 2})
    result = train(spec=tied, X=WINE, image_shape=None)
    assert result.metrics["val_mse"] > result.metrics["pca_val_mse"]  # it lost, and stays
    assert {row["stage"] for row in result.history} == {"end_to_end"}
    assert result.metrics["auto_decisions"]["architecture.linear_path"].startswith("off: tied")
    images = np.random.default_rng(0).random((60, 16)).astype(np.float32)
    resolved = resolve_spec(spec(), profile_data(images))[0]
    assert resolved.architecture.linear_path is False  # type: ignore[union-attr]


def test_a_version_stored_before_the_field_loads_without_a_path() -> None:
    """Its spec has no linear_path, its tensors no linear_path.*: it loads as it was built."""
    old = {"architecture": {"kind": "dense", "code_size": 2, "hidden_sizes": [8]}}
    stored = ModelSpec.stored(old)
    assert stored.architecture.linear_path is False  # type: ignore[union-attr]
    tensors = build_serving_model(stored, 6, None).state_dict()
    assert not any(name.startswith("autoencoder.linear_path") for name in tensors)
    config = {"spec": old, "n_features": 6, "image_shape": None, "format_version": FORMAT_VERSION}
    assert load_serving_model(config, tensors).autoencoder.linear_path is None


def test_an_image_model_that_loses_to_pca_trains_again_with_a_clip_output() -> None:
    """Whole numbers in [0, 16] (a sigmoid output after global_minmax): at code size 32 of
    64 the first model lost to PCA (1.16 of its error after 100 epochs); its output left
    to auto, the second clips the path's sum to the data's range, as the sigmoid kept it
    (a linear output answered pixels from -2.8 to 18.9, samples from -18 to 29)."""
    X = load_digits().data[:300].astype(np.float32)
    result = train(spec=spec(32, training={"epochs": 3}), X=X, image_shape=(8, 8, 1))
    m = result.metrics
    architecture = result.config["spec"]["architecture"]
    assert architecture["linear_path"] is True and architecture["output_activation"] == "clip"
    assert "clip" in m["auto_decisions"]["architecture.output_activation"]
    assert m["val_mse"] <= m["pca_val_mse"] * (1 + 1e-4), (m["val_mse"], m["pca_val_mse"])
    z = np.random.default_rng(0).multivariate_normal(m["coding_mean"], m["coding_cov"], 256)
    with torch.no_grad():
        reconstructed = result.model.reconstruct(torch.from_numpy(X)).numpy()
        generated = result.model.decode(torch.from_numpy(z.astype(np.float32))).numpy()
    for out in (reconstructed, generated):
        assert out.min() >= X.min() - 1e-3 and out.max() <= X.max() + 1e-3
    explicit = spec(32, architecture={"output_activation": "sigmoid"}, training={"epochs": 3})
    kept = train(spec=explicit, X=X, image_shape=None)  # an explicit sigmoid: one training
    assert kept.config["spec"]["architecture"]["linear_path"] is False
    assert kept.metrics["val_mse"] > kept.metrics["pca_val_mse"]
