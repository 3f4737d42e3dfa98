"""A streamed job told to stop (cancel, worker stopping, lease lost) stops within a chunk
or two: it read the whole dataset first (the scan before training, then a whole shuffle
buffer), never asking; on a large dataset a cancel waited out a pass of minutes. And any
training asks again between its last epoch and the fits after it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from service.artifacts import FolderStore
from service.datasets import chunks
from service.datasets.chunks import ChunkedRows, ChunkWriter
from service.training.data import PREFETCH_CHUNKS
from service.training.trainer import TrainingInterrupted, train
from service.zoo.serving import ServingModel
from tests.training.test_trainer import make_spec

N_ROWS, N_FEATURES, CHUNK_ROWS = 2000, 6, 40


class CountingStore(FolderStore):
    """A real folder store that counts the blobs read."""

    reads = 0

    def get_bytes(self, sha256: str, *, xxh3: str | None = None) -> bytes:
        CountingStore.reads += 1
        return super().get_bytes(sha256, xxh3=xxh3)


def stored_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChunkedRows:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", CHUNK_ROWS * N_FEATURES * 4)
    X = np.random.default_rng(0).normal(size=(N_ROWS, N_FEATURES)).astype(np.float32)
    store = CountingStore(tmp_path / "artifacts")
    writer = ChunkWriter(store, N_ROWS, N_FEATURES)
    writer.add(X)
    rows = ChunkedRows(store, writer.finish().chunks, N_FEATURES)
    assert len(rows.chunks) == 50
    return rows


def test_a_stop_is_honoured_before_the_whole_dataset_is_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = stored_rows(tmp_path, monkeypatch)
    asked: list[int] = []

    def should_stop() -> bool:  # the job was cancelled before training began
        asked.append(CountingStore.reads)
        return True

    CountingStore.reads = 0
    with pytest.raises(TrainingInterrupted):
        train(spec=make_spec(), X=rows, image_shape=None, should_stop=should_stop)
    # Asked before most of the dataset was read, and stopped there.
    assert asked and asked[0] <= 5, f"first asked after {asked[0] if asked else None} chunk reads"
    assert CountingStore.reads < len(rows.chunks), f"{CountingStore.reads} chunk reads"


def test_a_stop_during_an_epoch_is_honoured_before_the_shuffle_buffer_fills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan reads the 50 chunks; the epoch's shuffle buffer (32 MB) would take all 50
    before its first batch. Stopped 5 chunks into the epoch, it reads a few more at most
    (the ones read ahead), not the other 45."""
    rows = stored_rows(tmp_path, monkeypatch)
    CountingStore.reads = 0
    with pytest.raises(TrainingInterrupted, match="during epoch 1"):
        train(
            spec=make_spec(),
            X=rows,
            image_shape=None,
            should_stop=lambda: CountingStore.reads >= len(rows.chunks) + 5,
        )
    assert CountingStore.reads <= len(rows.chunks) + 5 + PREFETCH_CHUNKS + 2, CountingStore.reads


@pytest.mark.parametrize("asked_after", ["the last epoch", "the score's fit"])
def test_a_stop_asked_after_the_last_epoch_is_heard_before_the_fits(
    asked_after: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fits after training (the score's statistics, the quality metrics) take seconds on
    a large dataset's sample: a cancel then waited for both, asked nothing."""
    X = np.random.default_rng(0).normal(size=(300, N_FEATURES)).astype(np.float32)
    stop = False

    def stop_after(fn: Callable[..., None]) -> Callable[..., None]:
        def then_stop(*args: object, **kwargs: object) -> None:
            nonlocal stop
            fn(*args, **kwargs)
            stop = True

        return then_stop

    on_epoch = stop_after(lambda report: None) if asked_after == "the last epoch" else None
    if asked_after == "the score's fit":
        monkeypatch.setattr(ServingModel, "fit_score", stop_after(ServingModel.fit_score))
    spec = make_spec(
        {"kind": "dense", "hidden_sizes": [8]},
        training={"epochs": 1, "early_stopping_patience": None},
    )
    with pytest.raises(TrainingInterrupted, match=f"after {asked_after}"):
        train(spec=spec, X=X, image_shape=None, on_epoch=on_epoch, should_stop=lambda: stop)
