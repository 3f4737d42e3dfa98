"""A checkpoint within an epoch (trainer.CHECKPOINT_EVERY_S): a run stopped mid-epoch
resumes on the batch it reached, trains only the batches left, and ends on bitwise the
weights of a run never stopped: in memory, streamed chunk by chunk, denoising, layerwise,
and in an auto linear path's second training."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine

from service.datasets import chunks
from service.datasets.chunks import ChunkedRows
from service.training import data, trainer
from service.training.trainer import BatchReport, TrainingInterrupted, train
from service.zoo.spec import ModelSpec
from tests.training.test_streaming import N_FEATURES
from tests.training.test_streaming import rows as rows  # the fixture: 1000 rows, 40 a chunk
from tests.training.test_trainer import LAYERWISE, LINEAR_PATH, NOISY_VAE, make_spec

X = np.random.default_rng(2).normal(size=(300, 6)).astype(np.float32)
X[:, 3] = X[:, 0] + 0.1 * X[:, 1]
PLAIN = make_spec()  # no noise: the order of the rows is all that is random
WINE = load_wine().data.astype(np.float32)  # an auto linear path: two trainings
AUTO_PATH = ModelSpec.model_validate(
    {
        "architecture": {"code_size": 2, "linear_path": "auto"},
        "training": {"epochs": 3, "early_stopping_patience": None, "batch_size": 32},
    }
)

Step = tuple[int, str, int]  # (epoch, stage, batch): one batch trained


def sha256(state: dict[str, torch.Tensor]) -> str:
    buffer = io.BytesIO()
    torch.save({k: v.contiguous() for k, v in sorted(state.items())}, buffer)
    return hashlib.sha256(buffer.getvalue()).hexdigest()


@pytest.fixture(autouse=True)
def every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint within an epoch after every batch, and on_batch after each batch too."""
    monkeypatch.setattr(trainer, "CHECKPOINT_EVERY_S", 0.0)
    monkeypatch.setattr(trainer, "BATCH_REPORT_EVERY_S", 0.0)


def _train(spec: ModelSpec, X: Any, steps: list[Step], **kw: Any) -> trainer.TrainResult:
    def on_batch(r: BatchReport) -> None:
        steps.append((r.epoch, r.stage, r.batch))

    return train(spec=spec, X=X, image_shape=None, on_batch=on_batch, **kw)


def _stopped_and_resumed(
    tmp_path: Path, spec: ModelSpec, X: Any, stop_after: int
) -> tuple[list[Step], list[Step], list[Step]]:
    """The batches trained by (an uninterrupted run, a run stopped after stop_after
    batches, its resume); asserts the resume ends on the uninterrupted weights."""
    whole: list[Step] = []
    uninterrupted = _train(spec, X, whole)
    checkpoint = tmp_path / "ck.pt"
    before: list[Step] = []
    with pytest.raises(TrainingInterrupted):
        _train(
            spec,
            X,
            before,
            checkpoint_path=checkpoint,
            should_stop=lambda: len(before) >= stop_after,
        )
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["within"]["batch"] == before[-1][2]  # stopped mid-epoch, checkpointed there
    assert before[-1][2] < max(b for e, _, b in whole if e == before[-1][0])
    after: list[Step] = []
    resumed = _train(spec, X, after, checkpoint_path=checkpoint)
    a, b = uninterrupted.model.state_dict(), resumed.model.state_dict()
    assert sha256(a) == sha256(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [(h["train_loss"], h["val_loss"]) for h in resumed.history] == [
        (h["train_loss"], h["val_loss"]) for h in uninterrupted.history
    ]
    return whole, before, after


@pytest.mark.parametrize(
    ("spec", "stop_after"),
    [(PLAIN, 20), (NOISY_VAE, 20), (LAYERWISE, 33), (LINEAR_PATH, 50)],
    ids=["plain", "denoising_vae", "layerwise", "linear_path"],
)
def test_a_run_stopped_mid_epoch_trains_only_the_batches_left(
    tmp_path: Path, spec: ModelSpec, stop_after: int
) -> None:
    """In memory (15 batches an epoch): the resume draws the epoch's permutation again
    from the shuffle generator's state before the draw and skips the batches done."""
    whole, before, after = _stopped_and_resumed(tmp_path, spec, X, stop_after)
    assert before + after == whole  # each batch trained once: none again, none left out


@pytest.mark.parametrize(
    ("spec", "stop_after"), [(PLAIN, 19), (NOISY_VAE, 19)], ids=["plain", "denoising_vae"]
)
def test_a_streamed_run_stopped_mid_epoch_trains_only_the_batches_left(
    tmp_path: Path, rows: ChunkedRows, spec: ModelSpec, stop_after: int
) -> None:
    """Streamed (50 batches of 16 an epoch, shuffled across groups of 3 chunks): the resume
    reads the epoch's chunks again in the order of (seed, epoch), past the batches done;
    stopped past the first group, the rows a group carries over to the next are the same."""
    whole, before, after = _stopped_and_resumed(tmp_path, spec, rows, stop_after)
    assert before + after == whole


def test_a_run_stopped_mid_epoch_of_its_second_training_trains_only_the_batches_left(
    tmp_path: Path,
) -> None:
    whole, before, after = _stopped_and_resumed(tmp_path, AUTO_PATH, WINE, 23)
    assert {s for _, s, _ in whole} == {"end_to_end", "linear_path"}
    assert before[-1][1] == "linear_path"
    assert before + after == whole


def test_an_epoch_shorter_than_the_interval_has_no_checkpoint_within(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trainer, "CHECKPOINT_EVERY_S", 60.0)
    checkpoint = tmp_path / "ck.pt"
    before: list[Step] = []
    with pytest.raises(TrainingInterrupted):
        _train(PLAIN, X, before, checkpoint_path=checkpoint, should_stop=lambda: len(before) >= 20)
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["within"] is None and len(saved["history"]) == 1  # the first epoch's own


def test_skipped_stream_batches_are_the_ones_read_past(
    rows: ChunkedRows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ShuffledChunks.set_epoch(epoch, skip): the epoch's batches from the skip-th on."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 40 * N_FEATURES * 4)
    split = data.StreamSplit.for_rows(rows, 0.2, 0)
    stream = data.ShuffledChunks(rows, split, batch_size=64, buffer_bytes=data.SHUFFLE_BUFFER_BYTES)
    stream.set_epoch(3)
    every = [b.numpy() for b in stream]
    for skip in (0, 1, 5, len(every) - 1, len(every)):
        stream.set_epoch(3, skip)
        got = [b.numpy() for b in stream]
        assert len(got) == len(every) - skip
        assert all(np.array_equal(g, w) for g, w in zip(got, every[skip:], strict=True))


def test_a_resume_within_a_stages_first_epoch_keeps_its_early_stopping_candidate(
    tmp_path: Path,
) -> None:
    """A stage's starting weights are early stopping's first candidate: resumed within the
    stage's first epoch, the run keeps the checkpoint's candidate and does not take the
    weights it resumes on as one; its next checkpoint is the one a run never stopped writes."""

    def stopped(after: int, checkpoint: Path) -> dict[str, Any]:
        steps: list[Step] = []
        with pytest.raises(TrainingInterrupted):
            _train(
                PLAIN, X, steps, checkpoint_path=checkpoint, should_stop=lambda: len(steps) >= after
            )
        return torch.load(checkpoint, weights_only=True)

    straight = stopped(10, tmp_path / "straight.pt")
    stopped(4, tmp_path / "ck.pt")
    resumed = stopped(6, tmp_path / "ck.pt")  # 6 more batches: batch 10 of epoch 1
    assert straight["within"] == resumed["within"] | {"time_s": straight["within"]["time_s"]}
    assert straight["within"]["batch"] == 10 and not straight["history"]
    assert straight["best_weights"] is not None
    assert straight["best_score"] == resumed["best_score"]
    for name in ("best_weights", "model"):
        a, b = straight[name], resumed[name]
        assert all(torch.equal(a[k], b[k]) for k in a), name
