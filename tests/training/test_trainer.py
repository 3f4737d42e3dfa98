"""The training loop: reproducible, resumable, early-stopped, refusing what cannot train."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from service.artifacts import StorageFull
from service.training.trainer import (
    EpochReport,
    TrainingFailed,
    TrainingInterrupted,
    split_rows,
    train,
)
from service.zoo.pca import pca_reconstruction_mse
from service.zoo.spec import ModelSpec
from tests.tmpfs import fill, mounted_tmpfs

X = np.random.default_rng(0).normal(size=(96, 6)).astype(np.float32)
X[:, 3] = X[:, 0] + 0.1 * X[:, 1]  # some structure worth encoding
IMAGES = np.random.default_rng(1).random((48, 4 * 4 * 2)).astype(np.float32)


def make_spec(architecture: dict[str, Any] | None = None, **rest: Any) -> ModelSpec:
    arch = {"code_size": 2, "hidden_sizes": [8, 4], **(architecture or {})}
    training = {"epochs": 3, "batch_size": 16, **rest.pop("training", {})}
    return ModelSpec.stored({"architecture": arch, "training": training, **rest})


def weights(result: Any) -> dict[str, torch.Tensor]:
    return result.model.state_dict()


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


NOISY_VAE = make_spec(
    {"kind": "vae"},
    regularization={"denoising": {"gaussian_std": 0.1, "dropout": 0.2}},
    training={"lr_schedule": "plateau"},
)
LAYERWISE = make_spec(
    {"tied_weights": True},
    regularization={"sparsity": {"kind": "kl"}, "denoising": {"dropout": 0.1}},
    training={"strategy": "layerwise", "epochs": 2, "lr_schedule": "cosine"},
)
# a fixed linear path under the layers, the loss weighted by the features' scales
LINEAR_PATH = make_spec(
    {"linear_path": True},
    training={"epochs": 4, "early_stopping_patience": None},
    preprocessing="standardize",
)


@pytest.mark.parametrize("spec", [NOISY_VAE, LAYERWISE], ids=["vae", "layerwise"])
def test_same_spec_and_seed_give_identical_weights(spec: ModelSpec) -> None:
    first, second = train(spec=spec, X=X, image_shape=None), train(spec=spec, X=X, image_shape=None)
    assert_same_weights(weights(first), weights(second))
    other = spec.model_copy(update={"training": spec.training.model_copy(update={"seed": 1})})
    third = train(spec=other, X=X, image_shape=None)
    a, b = weights(first), weights(third)
    assert any(not torch.equal(a[name], b[name]) for name in a)


@pytest.mark.parametrize(
    ("spec", "stop_after"),
    [(NOISY_VAE, 1), (LAYERWISE, 3), (LINEAR_PATH, 2)],
    ids=["vae", "layerwise", "linear_path"],
)
def test_resume_gives_the_uninterrupted_weights(
    tmp_path: Path, spec: ModelSpec, stop_after: int
) -> None:
    uninterrupted = train(spec=spec, X=X, image_shape=None)
    checkpoint = tmp_path / "ck.pt"
    seen: list[EpochReport] = []
    with pytest.raises(TrainingInterrupted):
        train(
            spec=spec,
            X=X,
            image_shape=None,
            checkpoint_path=checkpoint,
            on_epoch=seen.append,
            should_stop=lambda: len(seen) >= stop_after,
        )
    assert len(seen) == stop_after
    saved = torch.load(checkpoint, weights_only=True)
    assert len(saved["history"]) == stop_after
    resumed = train(spec=spec, X=X, image_shape=None, checkpoint_path=checkpoint)
    assert_same_weights(weights(uninterrupted), weights(resumed))
    assert [h["val_loss"] for h in resumed.history] == [
        h["val_loss"] for h in uninterrupted.history
    ]


def test_checkpoint_of_another_spec_is_refused(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ck.pt"
    train(spec=make_spec(), X=X, image_shape=None, checkpoint_path=checkpoint)
    with pytest.raises(ValueError, match="another spec"):
        train(spec=make_spec({"code_size": 3}), X=X, image_shape=None, checkpoint_path=checkpoint)


def test_metrics_history_and_reports() -> None:
    reports: list[EpochReport] = []
    spec = make_spec(regularization={"sparsity": {"kind": "l1", "weight": 0.01}})
    result = train(spec=spec, X=X, image_shape=None, on_epoch=reports.append)
    m = result.metrics
    json.dumps({"metrics": m, "history": result.history, "config": result.config})
    assert (m["n_train"], m["n_val"]) == (77, 19)
    assert m["epochs_run"] == len(result.history) == len(reports) == 3
    assert [r.epoch for r in reports] == [1, 2, 3] and reports[0].epochs == 3
    assert m["val_mse"] > 0 and m["pca_val_mse"] > 0
    assert len(m["coding_mean"]) == 2 and np.array(m["coding_cov"]).shape == (2, 2)
    assert m["mean_activation"] is not None and m["contamination"] == 0.05
    errors = result.model.row_errors(torch.from_numpy(X)).detach().numpy()
    assert 0 < (errors > m["threshold"]).mean() < 0.2
    assert set(result.history[0]) == {
        "epoch",
        "stage",
        "train_loss",
        "val_loss",
        "samples_per_s",
        "lr",
    }
    assert not result.model.training and next(result.model.parameters()).device.type == "cpu"


def test_early_stopping_restores_the_best_epoch() -> None:
    spec = make_spec(
        training={
            "epochs": 40,
            "learning_rate": 0.05,
            "early_stopping_patience": 2,
            "lr_schedule": "constant",
            "batch_size": 4,
        }
    )
    result = train(spec=spec, X=X, image_shape=None)
    val = [h["val_loss"] for h in result.history]
    assert result.metrics["epochs_run"] < 40
    best = result.metrics["best_epoch"]
    assert val[best - 1] == min(val)
    assert result.metrics["val_mse_preprocessed"] == pytest.approx(min(val), rel=1e-4)


def test_linear_kind_reaches_the_pca_error() -> None:
    spec = make_spec(
        {"kind": "linear"},
        training={"epochs": 200, "learning_rate": 0.02, "early_stopping_patience": None},
    )
    model = train(spec=spec, X=X, image_shape=None).model
    rows, _ = split_rows(len(X), 0.2, 0)
    x = torch.from_numpy(X[rows])
    with torch.no_grad():
        xp = model.preprocessor(x)
        ae_mse = float((model.autoencoder(xp) - xp).square().mean())
    pca = pca_reconstruction_mse(model.preprocessor(x).numpy(), model.preprocessor(x).numpy(), 2)
    assert pca <= ae_mse <= 1.03 * pca  # PCA is the optimum on the training rows


@pytest.mark.parametrize(
    "overrides",
    [
        {"architecture": {"kind": "linear"}, "training": {"optimizer": "sgd"}},
        {"architecture": {"activation": "selu"}, "training": {"optimizer": "adamw"}},
        {
            "architecture": {"kind": "conv", "conv_channels": [4, 8]},
            "preprocessing": "minmax",
            "training": {"loss": "bce"},
        },
        {"architecture": {"kind": "conv_vae"}, "regularization": {"kl_weight": 0.5}},
    ],
)
def test_every_kind_trains(overrides: dict[str, Any]) -> None:
    spec = make_spec(overrides.pop("architecture"), **overrides)
    image = spec.architecture.kind.startswith("conv")
    data, shape = (IMAGES, (4, 4, 2)) if image else (X, None)
    result = train(spec=spec, X=data, image_shape=shape)
    assert np.isfinite(result.metrics["val_mse"])
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"] * 1.5


def test_diverging_loss_fails_at_once() -> None:
    spec = make_spec(
        {"kind": "linear"},
        preprocessing="none",
        training={"optimizer": "sgd", "learning_rate": 10.0, "gradient_clip_norm": None},
    )
    with pytest.raises(TrainingFailed, match="diverged"):
        train(spec=spec, X=X * 1000, image_shape=None)


def test_should_stop_is_polled_every_batch() -> None:
    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(TrainingInterrupted):
        train(spec=make_spec(), X=X, image_shape=None, should_stop=stop)
    assert len(calls) == 4  # inside the first epoch (5 batches)


def test_a_checkpoint_on_a_full_disk_is_storage_full_and_keeps_the_last_one(
    tmp_path: Path,
) -> None:
    with mounted_tmpfs(tmp_path / "disk", 1 << 20) as disk:
        checkpoint = disk / "checkpoints" / "ck.pt"
        seen: list[EpochReport] = []

        def fill_after_first_epoch(report: EpochReport) -> None:
            seen.append(report)
            fill(disk)  # the next epoch's checkpoint finds no space

        with pytest.raises(StorageFull, match="no space left") as raised:
            train(
                spec=make_spec(),
                X=X,
                image_shape=None,
                checkpoint_path=checkpoint,
                on_epoch=fill_after_first_epoch,
            )
        assert raised.value.status == 507 and "ck.pt" in raised.value.detail
        assert len(seen) == 1
        assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["ck.pt"]  # no .tmp
        assert len(torch.load(checkpoint, weights_only=True)["history"]) == 1
