"""Training on a dataset read chunk by chunk (service.training.data): the order of the rows
is fixed by (seed, epoch), every training row is seen once an epoch, a resumed run sees
the batches an uninterrupted one sees and ends on its weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from service.artifacts import FolderStore
from service.datasets import chunks
from service.datasets.chunks import ChunkedRows, ChunkWriter
from service.training import data
from service.training.data import (
    ShuffledChunks,
    StreamSplit,
    fitted_rows,
    held_rows,
    scan_rows,
    split_rows,
    stream_validation_rows,
)
from service.training.trainer import EpochReport, TrainingInterrupted, train
from tests.training.test_trainer import LAYERWISE, NOISY_VAE, assert_same_weights, weights

N_ROWS, N_FEATURES = 1000, 6


@pytest.fixture
def rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChunkedRows:
    """Rows whose first feature is their index; 40 rows a chunk, a shuffle buffer of 3."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 40 * N_FEATURES * 4)
    monkeypatch.setattr(data, "SHUFFLE_BUFFER_BYTES", 3 * 40 * N_FEATURES * 4)
    X = np.random.default_rng(0).normal(size=(N_ROWS, N_FEATURES)).astype(np.float32)
    X[:, 3] = X[:, 1] + 0.1 * X[:, 2]
    X[:, 0] = np.arange(N_ROWS) / N_ROWS
    store = FolderStore(tmp_path / "artifacts")
    writer = ChunkWriter(store, N_ROWS, N_FEATURES)
    writer.add(X)
    return ChunkedRows(store, writer.finish().chunks, N_FEATURES)


def _order(rows: ChunkedRows, seed: int, epoch: int) -> list[np.ndarray]:
    split = StreamSplit.for_rows(rows, 0.2, seed)
    stream = ShuffledChunks(rows, split, batch_size=64, buffer_bytes=data.SHUFFLE_BUFFER_BYTES)
    stream.set_epoch(epoch)
    return [np.rint(batch[:, 0].numpy() * N_ROWS).astype(int) for batch in stream]


def test_the_order_is_fixed_by_seed_and_epoch(rows: ChunkedRows) -> None:
    first = _order(rows, seed=0, epoch=1)
    assert [b.tolist() for b in first] == [b.tolist() for b in _order(rows, seed=0, epoch=1)]
    seen = np.concatenate(first)
    is_val = np.concatenate(
        [StreamSplit.for_rows(rows, 0.2, 0).is_val(i, c.n_rows) for i, c in enumerate(rows.chunks)]
    )
    assert sorted(seen.tolist()) == np.flatnonzero(~is_val).tolist()  # each once, no val row
    assert all(len(b) == 64 for b in first[:-1])
    assert np.concatenate(_order(rows, seed=0, epoch=2)).tolist() != seen.tolist()
    assert np.concatenate(_order(rows, seed=1, epoch=1)).tolist() != seen.tolist()
    # shuffled across chunks, not only within: neighbours in a batch come from afar
    assert np.abs(np.diff(first[0])).mean() > 100


def test_the_scan_splits_and_profiles_in_one_pass(rows: ChunkedRows) -> None:
    scan = scan_rows(rows, StreamSplit.for_rows(rows, 0.2, 0))
    assert scan.n_train + scan.n_val == N_ROWS
    assert 150 < scan.n_val < 250
    assert len(scan.X_val) == scan.n_val  # all held: far below VAL_MAX_BYTES
    assert scan.profile.n_rows == N_ROWS
    assert scan.moments.n == scan.n_train


def test_the_rows_the_scan_holds_are_found_without_reading(
    rows: ChunkedRows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """held_rows names the rows scan_rows holds (a draw of each side past its bound), and
    fitted_rows the rows train() fits and validates on, streamed or in memory."""
    monkeypatch.setattr(data, "VAL_MAX_BYTES", 80 * N_FEATURES * 4)
    monkeypatch.setattr(data, "TRAIN_SAMPLE_BYTES", 300 * N_FEATURES * 4)
    split = StreamSplit.for_rows(rows, 0.2, 0)
    assert split.val_keep < 1 and split.train_keep < 1
    scan = scan_rows(rows, split)
    sample, val = held_rows(rows, split)
    assert len(val) < scan.n_val and len(sample) < scan.n_train
    np.testing.assert_array_equal(rows.take(val), scan.X_val)
    np.testing.assert_array_equal(rows.take(sample), scan.X_train_sample)
    monkeypatch.setattr(data, "IN_MEMORY_BYTES", 0)
    for got, want in zip(fitted_rows(rows, 0.2, 0), (sample, val), strict=True):
        np.testing.assert_array_equal(got, want)
    monkeypatch.setattr(data, "IN_MEMORY_BYTES", rows.nbytes)
    for got, want in zip(fitted_rows(rows, 0.2, 0), split_rows(N_ROWS, 0.2, 0), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("spec", "stop_after"), [(NOISY_VAE, 1), (LAYERWISE, 3)], ids=["vae", "layerwise"]
)
def test_a_streamed_run_resumes_on_the_uninterrupted_weights(
    tmp_path: Path, rows: ChunkedRows, spec: object, stop_after: int
) -> None:
    uninterrupted = train(spec=spec, X=rows, image_shape=None)  # type: ignore[arg-type]
    again = train(spec=spec, X=rows, image_shape=None)  # type: ignore[arg-type]
    assert_same_weights(weights(uninterrupted), weights(again))
    checkpoint = tmp_path / "ck.pt"
    seen: list[EpochReport] = []
    with pytest.raises(TrainingInterrupted):
        train(
            spec=spec,  # type: ignore[arg-type]
            X=rows,
            image_shape=None,
            checkpoint_path=checkpoint,
            on_epoch=seen.append,
            should_stop=lambda: len(seen) >= stop_after,
        )
    resumed = train(spec=spec, X=rows, image_shape=None, checkpoint_path=checkpoint)  # type: ignore[arg-type]
    assert_same_weights(weights(uninterrupted), weights(resumed))
    assert [h["train_loss"] for h in resumed.history] == [
        h["train_loss"] for h in uninterrupted.history
    ]
    assert uninterrupted.metrics["n_train"] + uninterrupted.metrics["n_val"] == N_ROWS


def test_streamed_and_in_memory_training_agree_closely(rows: ChunkedRows) -> None:
    """Other split and order, same data: the losses land in the same place."""
    streamed = train(spec=NOISY_VAE, X=rows, image_shape=None)
    in_memory = train(spec=NOISY_VAE, X=rows.read_all(), image_shape=None)
    a, b = streamed.metrics["val_mse"], in_memory.metrics["val_mse"]
    assert abs(a - b) / b < 0.25
    assert torch.isfinite(torch.tensor([a, b])).all()


def test_plots_find_validation_rows_without_reading_a_chunk(rows: ChunkedRows) -> None:
    split = StreamSplit.for_rows(rows, 0.2, 0)
    picked = stream_validation_rows(rows, split, limit=30)
    assert len(picked) == 30 and picked[-1] < 400  # from the first chunks only
    chunk_of = picked // 40
    for index in np.unique(chunk_of):
        mask = split.is_val(int(index), 40)
        assert mask[picked[chunk_of == index] - 40 * index].all()
