"""A job whose auto linear path trains twice (trainer.train, zoo.auto.with_linear_path):
one numbering of its epochs across a kill in the second training, the first model kept
where the second diverges or does no better, and the anomaly score and the PCA start of a
model on a path (tests/zoo/test_linear_path.py has the rest)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine

from service.artifacts import FolderCheckpoint
from service.training.data import TrainingInterrupted
from service.training.trainer import EpochReport, TrainResult, _Hooks, _Rows, _Training, train
from service.zoo.auto import resolve_spec, with_linear_path
from service.zoo.spec import ModelSpec

WINE = load_wine().data.astype(np.float32)  # loses to PCA in the data's units: two trainings
FOUR_EPOCHS: dict[str, Any] = {"epochs": 4, "early_stopping_patience": None}
# plain SGD at a high rate without clipping: the first model trains, the second diverges
DIVERGING: dict[str, Any] = {
    "epochs": 10,
    "learning_rate": 1.0,
    "optimizer": "sgd",
    "gradient_clip_norm": None,
}


def spec(training: dict[str, Any], linear_path: Any = "auto", code_size: int = 2) -> ModelSpec:
    architecture = {"code_size": code_size, "linear_path": linear_path}
    return ModelSpec.model_validate({"architecture": architecture, "training": training})


@pytest.fixture(scope="module")
def killed_in_the_second(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[TrainResult, TrainResult, list[EpochReport]]:
    """(uninterrupted, resumed after a kill two epochs into the second training, the
    resumed run's reports)."""
    uninterrupted = train(spec=spec(FOUR_EPOCHS), X=WINE, image_shape=None)
    assert len(uninterrupted.history) == 8  # 4 end_to_end, 4 linear_path
    checkpoint: Path = tmp_path_factory.mktemp("ck") / "ck.pt"
    seen: list[EpochReport] = []
    with pytest.raises(TrainingInterrupted):
        train(
            spec=spec(FOUR_EPOCHS),
            X=WINE,
            image_shape=None,
            checkpoint_path=checkpoint,
            on_epoch=seen.append,
            should_stop=lambda: len(seen) >= 6,
        )
    assert [(r.epoch, r.stage) for r in seen][-1] == (6, "linear_path")
    after: list[EpochReport] = []
    resumed = train(
        spec=spec(FOUR_EPOCHS),
        X=WINE,
        image_shape=None,
        checkpoint_path=checkpoint,
        on_epoch=after.append,
    )
    return uninterrupted, resumed, after


def test_progress_after_a_kill_in_the_second_training_goes_on(
    killed_in_the_second: Any,
) -> None:
    """The job's progress, its events and `aesvc train --follow` went back to 3/4."""
    _, _, after = killed_in_the_second
    assert [(r.epoch, r.epochs, r.stage) for r in after] == [
        (7, 8, "linear_path"),
        (8, 8, "linear_path"),
    ]


def test_the_version_after_a_kill_in_the_second_training_is_the_uninterrupted_one(
    killed_in_the_second: Any,
) -> None:
    uninterrupted, resumed, _ = killed_in_the_second
    rows = [(r["epoch"], r["stage"]) for r in resumed.history]
    assert rows == [(r["epoch"], r["stage"]) for r in uninterrupted.history]
    for name in ("epochs_run", "best_epoch", "auto_decisions", "val_mse"):
        assert resumed.metrics[name] == uninterrupted.metrics[name], name
    a, b = uninterrupted.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_a_diverging_second_training_keeps_the_first_model() -> None:
    alone = train(spec=spec(DIVERGING, linear_path=False), X=WINE, image_shape=None)
    assert alone.metrics["val_mse"] > alone.metrics["pca_val_mse"]  # auto tries again
    seen: list[EpochReport] = []
    result = train(spec=spec(DIVERGING), X=WINE, image_shape=None, on_epoch=seen.append)
    assert result.metrics["val_mse"] == alone.metrics["val_mse"]
    assert result.config["spec"]["architecture"]["linear_path"] is False
    why = result.metrics["auto_decisions"]["architecture.linear_path"]
    assert why.startswith("off: trained without one") and "diverged" in why, why
    # the error names the job's epoch and stage, as its progress did
    assert f"epoch {seen[-1].epoch + 1}, batch" in why and "(linear_path)" in why, why


def test_a_second_model_no_better_than_the_first_is_not_kept() -> None:
    """The second training ends at or above the first's validation error: the first model is
    kept, and its decision says why. The first's error is given here as 1e-30, which no
    second training reaches: whether a real second training (SGD at rate 1.0, clipped, 20
    epochs) ended above a real first one turned on the host's rounding (above it on one
    host, 7.5e7 against a better second on another)."""
    training = spec({"epochs": 2, "early_stopping_patience": None})
    rows = _Rows.read(WINE, training, None, None)
    first, decisions = resolve_spec(training, rows.profile)
    second = with_linear_path(training, rows.profile)
    assert second is not None
    one = _Training(first, decisions, rows, None, _Hooks())
    result = one.run(first, decisions, None)
    carried = {
        "history": result.history,
        "train_time_s": result.metrics["train_time_s"],
        "val_mse": 1e-30,
        "pca_val_mse": result.metrics["pca_val_mse"],
    }
    kept = one.again(second, carried, None, result)
    assert kept is result and kept.config["spec"]["architecture"]["linear_path"] is False
    why = kept.metrics["auto_decisions"]["architecture.linear_path"]
    assert why.startswith("off: trained without one"), why
    assert "trained again on a linear path, which ended at" in why, why
    assert why.endswith(", no better: the first model is kept"), why


def test_best_epoch_names_no_epoch_of_the_discarded_first_training() -> None:
    """No epoch of the second training beats its start (PCA's solution): best_epoch 0."""
    training = {"epochs": 3, "learning_rate": 1e-12, "early_stopping_patience": 1}
    result = train(spec=spec(training), X=WINE, image_shape=None)
    assert result.config["spec"]["architecture"]["linear_path"] is True
    stage_of = {row["epoch"]: row["stage"] for row in result.history}
    best = result.metrics["best_epoch"]
    assert best == 0 or stage_of[best] == "linear_path", (best, stage_of)


def test_fewer_training_rows_than_codings_is_not_worse_than_pca() -> None:
    """The last principal direction of 6 rows at code size 7 is rounding noise, which the
    path's start and the PCA baseline drew differently: 25 % above PCA."""
    result = train(spec=spec({"epochs": 3}, code_size=7), X=WINE[:8], image_shape=None)
    m = result.metrics
    assert result.config["spec"]["architecture"]["linear_path"] is True
    assert m["val_mse"] <= m["pca_val_mse"] * (1 + 1e-4), (m["val_mse"], m["pca_val_mse"])


def test_the_score_sees_a_row_far_out_along_a_direction_of_small_spread() -> None:
    """A path model's codings are PCA scores in the data's units, their variances a
    million-fold apart; a ridge from the mean variance hid all but the first."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=2000) * 1000, rng.normal(size=2000)
    noise = 0.05 * rng.normal(size=(2000, 2))
    X = np.column_stack([a, b, b + noise[:, 0], noise[:, 1]]).astype(np.float32)
    result = train(spec=spec({"epochs": 10}), X=X, image_shape=None)
    assert result.config["spec"]["architecture"]["linear_path"] is True
    odd = torch.tensor([[0.0, 8.0, 8.0, 0.0]])  # 8 sigma along b, on the manifold (b = c)
    with torch.no_grad():
        score = float(result.model.row_errors(odd)[0])
    assert score > result.metrics["threshold"], (score, result.metrics["threshold"])


def test_a_job_checkpointed_before_the_field_resumes_after_it(tmp_path: Path) -> None:
    """A job handed back by a worker of the release before linear_path (a rolling
    deploy): its checkpoint's spec has no such field; the job's stored spec reads it as
    false, and so does the checkpoint's (compared by meaning, not by JSON text)."""
    old_job = {"architecture": {"kind": "dense", "code_size": 2}, "training": {"epochs": 4}}
    checkpoint = tmp_path / "ck.pt"
    seen: list[EpochReport] = []
    with pytest.raises(TrainingInterrupted):
        train(
            spec=ModelSpec.stored(old_job),
            X=WINE,
            image_shape=None,
            checkpoint_path=checkpoint,
            on_epoch=seen.append,
            should_stop=lambda: len(seen) >= 2,
        )
    ck = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert ',"linear_path":false' in ck["spec"]
    ck["spec"] = ck["spec"].replace(',"linear_path":false', "")  # as the old release wrote it
    del ck["carried"]
    buffer = io.BytesIO()
    torch.save(ck, buffer)
    checkpoint.write_bytes(buffer.getvalue())
    resumed = train(
        spec=ModelSpec.stored(old_job), X=WINE, image_shape=None, checkpoint_path=checkpoint
    )
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3, 4]


class DeleteFails(FolderCheckpoint):
    """A store that does not answer deletes: ObjectCheckpoint.delete then logs and leaves
    the object (best effort), as this does."""

    def delete(self) -> None:
        pass


def test_the_first_trainings_checkpoint_left_behind_does_not_fail_the_second(
    tmp_path: Path,
) -> None:
    result = train(
        spec=spec({"epochs": 3}),
        X=WINE,
        image_shape=None,
        checkpoint_path=DeleteFails(tmp_path / "ck.pt"),
    )
    assert {row["stage"] for row in result.history} == {"end_to_end", "linear_path"}
    assert result.config["spec"]["architecture"]["linear_path"] is True
