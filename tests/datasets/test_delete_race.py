"""Two deletes of one dataset at once: never a 500, and the dataset and its blob are gone
(on PostgreSQL both read it before either commits, and both answer 204: a delete is
idempotent; SQLite's IMMEDIATE writes take them one at a time: 204, then 404).

The other delete runs on a thread of its own, started once this one has read the dataset,
and is given time to commit (as it can on PostgreSQL) or to wait (on SQLite)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.context import AppContext
from service.datasets import service
from service.datasets.tables import Dataset
from service.errors import NotFound, ServiceError
from tests.factories import npy_bytes, random_matrix


def _upload(client: TestClient, name: str, rows: int, columns: int) -> dict[str, Any]:
    """The dataset `name` stored, as the upload answered it."""
    X = random_matrix(rows, columns).astype(np.float32)
    files = {"file": ("x.npy", npy_bytes(X))}
    created = client.post("/v1/datasets", files=files, data={"name": name})
    assert created.status_code == 201, created.text
    return created.json()


def test_two_deletes_at_once_are_not_a_500(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = _upload(client, "twice", 20, 3)
    real = service.check_if_match_tags
    outcome: list[Any] = []
    threads: list[threading.Thread] = []

    def other_delete() -> None:
        try:
            with ctx.write_session_factory() as session:
                service.delete_dataset(
                    session=session, store=ctx.store, cache=ctx.dataset_answers, id_or_name="twice"
                )
            outcome.append(204)
        except NotFound:
            outcome.append(404)

    def racing(*args: Any, **kwargs: Any) -> None:
        if not threads:  # this delete has read the dataset: the other one starts now
            threads.append(threading.Thread(target=other_delete))
            threads[0].start()
            threads[0].join(0.5)  # committed by now, unless it waits for this one
        real(*args, **kwargs)

    monkeypatch.setattr(service, "check_if_match_tags", racing)
    lenient = TestClient(client.app, raise_server_exceptions=False)
    response = lenient.delete("/v1/datasets/twice")
    threads[0].join(30)
    assert not threads[0].is_alive()
    statuses = sorted([response.status_code, *outcome])
    assert statuses in ([204, 204], [204, 404]), response.text
    with ctx.session_factory() as session:
        assert session.query(Dataset).filter_by(name="twice").count() == 0
    assert not ctx.store.exists(created["sha256"])


def test_a_delete_beside_a_job_submission_waits_for_it_and_is_409(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete that ran while a submission checked its spec (after reading the dataset,
    before queueing the job) counted no job and answered 204; on PostgreSQL the job was then
    queued with a null dataset, never to run, or was a 500 (a foreign key violation): 16 of
    60 such races here. Now the submission holds the dataset's row until it commits, and
    the delete, which locks the row first, waits, counts the job and is 409."""
    from service.training import service as jobs
    from service.training.tables import Job
    from tests.factories import job_body

    created = _upload(client, "in-use", 40, 6)
    real = jobs.validate_spec_for
    outcome: list[Any] = []
    threads: list[threading.Thread] = []

    def delete() -> None:
        try:
            with ctx.write_session_factory() as session:
                service.delete_dataset(session=session, store=ctx.store, id_or_name="in-use")
            outcome.append(204)
        except ServiceError as exc:
            outcome.append(exc.status)

    def racing(*args: Any, **kwargs: Any) -> None:
        if not threads:  # the submission has read the dataset: the delete starts now
            threads.append(threading.Thread(target=delete))
            threads[0].start()
            threads[0].join(0.5)  # committed by now, unless it waits for this one
        real(*args, **kwargs)

    monkeypatch.setattr(jobs, "validate_spec_for", racing)
    lenient = TestClient(client.app, raise_server_exceptions=False)
    submitted = lenient.post("/v1/jobs", json=job_body(dataset="in-use", code_size=2))
    threads[0].join(30)
    assert not threads[0].is_alive()
    assert (submitted.status_code, outcome) == (202, [409]), submitted.text
    with ctx.session_factory() as session:
        job = session.get(Job, submitted.json()["id"])
        assert job is not None and job.dataset_id == created["id"]
