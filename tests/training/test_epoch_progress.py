"""A job whose epochs are long says how far into an epoch it is, and stops there when
cancelled. Progress used to come once an epoch: a 1.2 M-row job showed nothing but its
heartbeat for 7 minutes (benchmarks/long_epoch.py measures it).

Real trainings (a tiny network, thousands of batches an epoch) run by the real worker loop
in a thread, on the real SQLite file of the `settings` fixture."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.config import Settings
from service.context import AppContext
from service.training import trainer
from service.training.tables import JobEvent
from tests.factories import job_body, npy_bytes, run_worker, wait_for, wait_for_job

EVERY_S = 0.1  # trainer.BATCH_REPORT_EVERY_S here: 5 s would make the test long


@pytest.fixture(autouse=True)
def _often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainer, "BATCH_REPORT_EVERY_S", EVERY_S)


def _upload(client: TestClient, n_rows: int) -> str:
    X = np.random.default_rng(0).normal(size=(n_rows, 4)).astype(np.float32)
    X[:, 1] = X[:, 0] + 0.1 * X[:, 2]
    files = {"file": ("rows.npy", npy_bytes(X), "application/octet-stream")}
    answer = client.post("/v1/datasets", files=files, data={"name": "rows"})
    assert answer.status_code == 201, answer.text
    return "rows"


def _long_epochs(dataset: str, epochs: int) -> dict[str, Any]:
    """Batches of 4 rows: thousands of steps an epoch, each far shorter than EVERY_S."""
    return job_body(
        dataset=dataset,
        epochs=epochs,
        architecture={"hidden_sizes": [8], "code_size": 2},
        training={"batch_size": 4, "early_stopping_patience": None},
    )


@pytest.fixture
def worker(settings: Settings) -> Iterator[threading.Thread]:
    """The worker loop in a thread, until it has run one job."""
    thread = threading.Thread(target=run_worker, args=(settings,), daemon=True)
    thread.start()
    yield thread
    thread.join(timeout=120)
    assert not thread.is_alive()


def _json(client: TestClient) -> Any:
    return lambda path: client.get(path).json()


def _events(ctx: AppContext, job_id: str) -> list[JobEvent]:
    with ctx.session_factory() as session:
        query = select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
        return list(session.scalars(query))


def test_a_long_epoch_reports_how_far_it_got_at_most_every_few_seconds(
    client: TestClient, ctx: AppContext, worker: threading.Thread
) -> None:
    dataset = _upload(client, 4000)  # 3200 training rows: 800 batches an epoch
    job_id = client.post("/v1/jobs", json=_long_epochs(dataset, 2)).json()["id"]

    def within_first_epoch() -> dict[str, Any] | None:
        progress = client.get(f"/v1/jobs/{job_id}").json()["progress"]
        return progress if progress and progress.get("batch") else None

    seen = wait_for(within_first_epoch, timeout_s=60, interval_s=0.05)
    assert seen["epoch"] == 0 and seen["epochs"] == 2 and seen["stage"] == "end_to_end"
    assert 0 < seen["batch"] < seen["batches"] == 800
    assert seen.get("val_loss") is None  # no epoch has ended

    done = wait_for_job(_json(client), job_id)
    assert done["status"] == "succeeded", done
    # The end of the last epoch is what the job shows at the end, as before.
    assert done["progress"]["epoch"] == 2 and done["progress"].get("batch") is None
    events = _events(ctx, job_id)
    kinds = [e.kind for e in events]
    assert kinds.count("progress") == 2  # one an epoch, as before
    within = [e for e in events if e.kind == "epoch_progress"]
    # within each epoch, before its report: epoch 1's say 0 epochs done, epoch 2's say 1
    first_report = kinds.index("progress")
    for event in within:
        epoch = event.data["epoch"]
        assert (events.index(event) < first_report) == (epoch == 0)
        assert 0 < event.data["batch"] < event.data["batches"] == 800
    second = [e for e in within if e.data["epoch"] == 1]
    assert second and second[0].data["val_loss"] == events[first_report].data["val_loss"]
    # Bounded: never two closer than EVERY_S, far fewer than one a batch.
    gaps = [(b.created_at - a.created_at).total_seconds() for a, b in pairwise(within)]
    assert min(gaps) >= EVERY_S * 0.9, gaps
    assert len(within) < 2 * 800 / 10
    # The history stays one row an epoch; the event stream carries both kinds.
    history = client.get(f"/v1/jobs/{job_id}/history").json()
    assert [h["epoch"] for h in history["epochs"]] == [1, 2]
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("event:")]
    assert lines.count("event: epoch_progress") == len(within)


def test_a_job_cancelled_mid_epoch_stops_before_the_epoch_ends(
    client: TestClient, ctx: AppContext, worker: threading.Thread
) -> None:
    """One epoch of 25,000 batches would take 10 s or more; cancelled as soon as the job says
    it is inside it, the job is cancelled within a heartbeat or two, having ended no epoch."""
    dataset = _upload(client, 125_000)
    job_id = client.post("/v1/jobs", json=_long_epochs(dataset, 1)).json()["id"]

    def inside_the_epoch() -> dict[str, Any] | None:
        progress = client.get(f"/v1/jobs/{job_id}").json()["progress"]
        return progress if progress and progress.get("batch") else None

    seen = wait_for(inside_the_epoch, timeout_s=60, interval_s=0.05)
    assert client.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "cancelling"
    done = wait_for_job(_json(client), job_id, timeout_s=30)
    assert done["status"] == "cancelled", done
    last = done["progress"]
    assert last["epoch"] == 0 and seen["batch"] <= last["batch"] < last["batches"] == 25_000
    assert "progress" not in [e.kind for e in _events(ctx, job_id)]  # no epoch ended
    assert client.get("/v1/models/m").status_code == 404


def test_each_report_names_the_epoch_under_way_across_stages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """train()'s on_batch, asked for every batch (interval 0): layerwise, 4 stages of 2
    epochs, each report names the epoch its epoch report will name, batches counting up."""
    from tests.training.test_trainer import LAYERWISE

    monkeypatch.setattr(trainer, "BATCH_REPORT_EVERY_S", 0.0)
    X = np.random.default_rng(1).normal(size=(100, 6)).astype(np.float32)
    batches: list[trainer.BatchReport] = []
    epochs: list[trainer.EpochReport] = []
    trainer.train(
        spec=LAYERWISE, X=X, image_shape=None, on_epoch=epochs.append, on_batch=batches.append
    )
    stages = ["layer 1/3", "layer 2/3", "layer 3/3", "fine_tune"]
    assert [(r.epoch, r.stage) for r in epochs] == [
        (n, stage) for n, stage in enumerate([s for s in stages for _ in range(2)], 1)
    ]
    per_epoch = -(-80 // 16)  # 80 training rows, batches of 16
    assert [(r.epoch, r.stage, r.batch) for r in batches] == [
        (e.epoch, e.stage, b) for e in epochs for b in range(1, per_epoch + 1)
    ]
    assert {(r.epochs, r.batches) for r in batches} == {(8, per_epoch)}
