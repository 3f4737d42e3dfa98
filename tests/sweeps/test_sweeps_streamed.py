"""A sweep's figures come from the rows its trials were trained and validated on: of a
dataset trained in memory, `split_rows`' split of the whole matrix (as before); of a
streamed one, the validation rows and the training sample the trainer's scan held
(StreamSplit), read by index, never the whole dataset. Real SQLite, the real worker loop,
tiny nets on digits stored in many chunks; no mocks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from safetensors.torch import load as load_safetensors
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sqlalchemy import select

from service.config import Settings
from service.datasets import chunks
from service.datasets.chunks import ChunkedRows
from service.datasets.parsing import ParsedData
from service.datasets.service import create_dataset, open_rows
from service.registry.tables import Model, ModelVersion
from service.training import data
from service.training.data import StreamSplit
from service.training.trainer import split_rows
from service.zoo.pca import pca_fit
from service.zoo.serving import ServingModel, load_serving_model
from tests.factories import run_worker
from tests.sweeps.test_sweeps_api import TINY, read, start

FRACTION, SEED = 0.2, 0  # the trials' split: the spec's defaults
ROW_BYTES = 64 * 4  # digits: 64 float32 features


def _digits(client: TestClient) -> tuple[np.ndarray, np.ndarray, ChunkedRows]:
    """Digits as a dataset of 9 chunks of 200 rows (a copy of the rows kept to check on)."""
    digits = load_digits()
    X, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    parsed = ParsedData(
        X=X, y=y, feature_names=[f"p{i}" for i in range(64)], label_names=list("0123456789")
    )
    with ctx.session_factory() as session:
        dataset = create_dataset(
            session=session,
            store=ctx.store,
            name="chunked-digits",
            parsed=parsed,
            source_format="npz",
            image_shape=None,
        )
        rows = open_rows(session=session, store=ctx.store, dataset=dataset)
    assert len(rows.chunks) == 9
    return X, y, rows


def trial_model(
    client: TestClient, version: int, name: str = "sd"
) -> tuple[ServingModel, dict[str, Any]]:
    """A trial's version of model `name`, loaded, and its metrics."""
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        mv = session.scalars(
            select(ModelVersion)
            .join(Model, Model.id == ModelVersion.model_id)
            .where(Model.name == name, ModelVersion.version == version)
        ).one()
        blob = ctx.store.get_bytes(mv.artifact_sha256)
        model = load_serving_model(mv.config, load_safetensors(blob)).eval()
        return model, dict(mv.metrics)


@pytest.mark.parametrize("streamed", [False, True], ids=["in_memory", "streamed"])
def test_a_sweep_scores_the_rows_its_trials_were_validated_on(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 200 * ROW_BYTES)
    X, y, rows = _digits(client)
    if streamed:  # too large to hold, its validation rows and training sample a draw
        monkeypatch.setattr(data, "IN_MEMORY_BYTES", 0)
        monkeypatch.setattr(data, "VAL_MAX_BYTES", 180 * ROW_BYTES)
        monkeypatch.setattr(data, "TRAIN_SAMPLE_BYTES", 700 * ROW_BYTES)
        split = StreamSplit.for_rows(rows, FRACTION, SEED)
        assert split.val_keep < 1 and split.train_keep < 1
        u = np.concatenate([split.draws(i, c.n_rows) for i, c in enumerate(rows.chunks)])
        val = np.flatnonzero(u < FRACTION * split.val_keep)
        train = np.flatnonzero((u >= FRACTION) & (u < FRACTION + (1 - FRACTION) * split.train_keep))
        assert 0 < len(val) < (u < FRACTION).sum()  # some of the validation rows, no other
        assert 0 < len(train) < (u >= FRACTION).sum()
    else:
        train, val = split_rows(len(X), FRACTION, SEED)

    read_whole: list[int] = []
    taken: list[np.ndarray] = []
    read_all, take = ChunkedRows.read_all, ChunkedRows.take

    def spy_read_all(self: ChunkedRows) -> np.ndarray:
        read_whole.append(self.n_rows)
        return read_all(self)

    def spy_take(self: ChunkedRows, picked: np.ndarray) -> np.ndarray:
        taken.append(np.asarray(picked))
        return take(self, picked)

    monkeypatch.setattr(ChunkedRows, "read_all", spy_read_all)
    monkeypatch.setattr(ChunkedRows, "take", spy_take)

    grid = {"architecture.code_size": [2, 8]}
    body = {"model": "sd", "dataset": "chunked-digits", "base": TINY, "grid": grid}
    sweep = start(client, {**body, "metric": "auroc", "normal_label": 0})
    assert run_worker(settings, max_jobs=2) == 2
    done = read(client, sweep["id"])
    assert done["status"] == "succeeded", done["error"]

    if streamed:
        assert read_whole == []  # neither the trainer nor the sweep read the dataset whole
        seen = np.unique(np.concatenate(taken))
        np.testing.assert_array_equal(seen, np.union1d(train, val))  # these rows, no other
    else:
        assert taken == [] and set(read_whole) == {len(X)}  # as before
    anomalous = y[val] != 0
    for trial in done["trials"]:
        model, metrics = trial_model(client, trial["model_version"])
        with torch.no_grad():
            scores = model.row_errors(torch.from_numpy(X[val])).numpy()
            recons = model.reconstruct(torch.from_numpy(X[val])).numpy()
        expected = roc_auc_score(anomalous, scores)
        if streamed:  # scored a chunk's rows at a time: a rank may differ by rounding
            assert trial["value"] == pytest.approx(expected, abs=2e-4)
        else:
            assert trial["value"] == expected
        # the trainer measured its val_mse on these very rows
        val_mse = float(np.mean((recons.astype(np.float64) - X[val]) ** 2))
        assert metrics["val_mse"] == pytest.approx(val_mse, rel=1e-4)
    mean, components = pca_fit(X[train].astype(np.float64), 8)
    centred = X[val].astype(np.float64) - mean
    for point in done["pca_baseline"]:
        top = components[: point["code_size"]]
        errors = ((centred - centred @ top.T @ top) ** 2).mean(axis=1)
        assert point["value"] == pytest.approx(roc_auc_score(anomalous, errors), rel=1e-12)
    assert [p["code_size"] for p in done["pca_baseline"]] == [2, 8]
