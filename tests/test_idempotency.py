"""Idempotency-Key on the creating POSTs: replays, mismatches, scope per API key, expiry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.database import utcnow
from service.errors import Conflict
from service.idempotency import IdempotencyRecord, commit_or_replay, replayed_row
from service.main import create_app
from service.security import create_key
from service.training.tables import Job
from tests.factories import job_body
from tests.registry.builders import model_blob

M = "/v1/models/ae/versions"


def _import(client: TestClient, seed: int, key: str | None, **headers: str) -> object:
    blob, _ = model_blob(seed)
    return client.post(
        M,
        files={"file": ("model.safetensors", blob, "application/octet-stream")},
        headers={**({"Idempotency-Key": key} if key else {}), **headers},
    )


def test_a_retried_import_replays_the_first_answer_and_makes_no_second_version(
    client: TestClient,
) -> None:
    first = _import(client, 0, "import-1")
    assert first.status_code == 201, first.text  # type: ignore[attr-defined]
    again = _import(client, 0, "import-1")
    assert again.status_code == 201  # type: ignore[attr-defined]
    assert again.headers["Idempotent-Replayed"] == "true"  # type: ignore[attr-defined]
    assert again.json() == first.json()  # type: ignore[attr-defined]
    assert again.headers["Location"] == first.headers["Location"]  # type: ignore[attr-defined]
    assert "Idempotent-Replayed" not in first.headers  # type: ignore[attr-defined]
    assert client.get(M).json()["count"] == 1
    other = _import(client, 1, "import-1")  # the same key, another file
    assert other.status_code == 409  # type: ignore[attr-defined]
    assert other.json()["code"] == "idempotency_key_reused"  # type: ignore[attr-defined]
    assert _import(client, 0, None).status_code == 201  # type: ignore[attr-defined]
    assert client.get(M).json()["count"] == 2


def test_a_failed_request_frees_its_key(client: TestClient) -> None:
    broken = client.post(
        M,
        files={"file": ("model.safetensors", b"not safetensors", "application/octet-stream")},
        headers={"Idempotency-Key": "k"},
    )
    assert broken.status_code == 422
    assert _import(client, 0, "k").status_code == 201  # type: ignore[attr-defined]


def test_a_key_still_running_is_409_in_use_until_its_claim_is_abandoned(
    client: TestClient, settings: Settings
) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    blob, _ = model_blob(0)
    from service.idempotency import request_digest

    with ctx.session_factory() as session:
        session.add(
            IdempotencyRecord(
                scope="-",
                key="busy",
                operation="import_model_version",
                request_sha256=request_digest("ae", blob, None, None),
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        session.commit()
    busy = _import(client, 0, "busy")
    assert busy.status_code == 409  # type: ignore[attr-defined]
    assert busy.json()["code"] == "idempotency_key_in_use"  # type: ignore[attr-defined]
    assert busy.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        record = session.query(IdempotencyRecord).filter_by(key="busy").one()
        record.created_at = utcnow() - timedelta(seconds=settings.idempotency_pending_s + 1)
        session.commit()
    assert _import(client, 0, "busy").status_code == 201  # type: ignore[attr-defined]


@pytest.fixture
def short_lived(settings: Settings) -> Iterator[TestClient]:
    quick = settings.model_copy(update={"idempotency_ttl_s": 1.0})
    with TestClient(create_app(quick, start_workers=False)) as client:
        yield client


def test_keys_expire(short_lived: TestClient) -> None:
    assert _import(short_lived, 0, "e").status_code == 201  # type: ignore[attr-defined]
    job = short_lived.post("/v1/jobs", json=job_body(), headers={"Idempotency-Key": "j"})
    time.sleep(1.2)
    again = _import(short_lived, 0, "e")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers  # type: ignore[attr-defined]
    assert short_lived.get(M).json()["count"] == 2
    second = short_lived.post("/v1/jobs", json=job_body(), headers={"Idempotency-Key": "j"})
    assert second.status_code == 202 and second.json()["id"] != job.json()["id"]


def test_jobs_replay_with_the_header_and_keys_are_scoped_per_api_key(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth": "required"}), start_workers=False)
    with TestClient(app) as client:
        with app.state.ctx.session_factory() as session:
            _, alice = create_key(session=session, name="alice", scopes=["train", "admin"])
            _, bob = create_key(session=session, name="bob", scopes=["train", "admin"])
        as_alice = {"Authorization": f"Bearer {alice}", "Idempotency-Key": "same"}
        as_bob = {"Authorization": f"Bearer {bob}", "Idempotency-Key": "same"}
        first = client.post("/v1/jobs", json=job_body(), headers=as_alice)
        replay = client.post("/v1/jobs", json=job_body(), headers=as_alice)
        assert first.status_code == replay.status_code == 202
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        bobs = client.post("/v1/jobs", json=job_body(code_size=3), headers=as_bob)
        assert bobs.status_code == 202 and bobs.json()["id"] != first.json()["id"]
        a = _import(client, 0, "same", Authorization=f"Bearer {alice}")
        b = _import(client, 0, "same", Authorization=f"Bearer {bob}")
        assert a.status_code == b.status_code == 201  # type: ignore[attr-defined]
        assert "Idempotent-Replayed" not in b.headers  # type: ignore[attr-defined]
        assert a.json()["version"] != b.json()["version"]  # type: ignore[attr-defined]


def test_a_retried_dataset_upload_replays_and_another_file_under_the_key_is_409(
    client: TestClient,
) -> None:
    from tests.factories import csv_bytes, random_matrix

    def upload(seed: int) -> Any:
        files = {"file": ("d.csv", csv_bytes(random_matrix(10, 3, seed=seed)), "text/csv")}
        return client.post(
            "/v1/datasets", files=files, data={"name": "once"}, headers={"Idempotency-Key": "u"}
        )

    first, again = upload(0), upload(0)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = upload(1)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    names = [d["name"] for d in client.get("/v1/datasets", params={"limit": 1000}).json()["data"]]
    assert names.count("once") == 1


def test_a_concurrent_submission_with_the_same_key_answers_the_row_that_committed_first(
    client: TestClient,
) -> None:
    """Two requests with one key both pass the replay check; the unique column refuses the
    second commit, and commit_or_replay answers the first row (jobs and sweeps alike)."""
    factory = client.app.state.ctx.session_factory  # type: ignore[attr-defined]

    def job(key: str, sha: str) -> Job:
        return Job(
            id=uuid.uuid4().hex,
            model_name="m",
            spec={},
            status="queued",
            attempt_errors=[],
            idempotency_key=key,
            request_sha256=sha,
        )

    with factory() as first, factory() as second:
        assert replayed_row(first, Job, "k", "a", 60) is None
        assert replayed_row(second, Job, "k", "a", 60) is None
        second.commit()  # SQLite: one writer at a time; the reads are done
        mine = job("k", "a")
        first.add(mine)
        assert commit_or_replay(first, mine, "k", "a", 60) == (mine, True)
        theirs = job("k", "a")
        second.add(theirs)
        answered, created = commit_or_replay(second, theirs, "k", "a", 60)
        assert not created and answered.id == mine.id
        other = job("k", "b")  # the same key with another request body
        second.add(other)
        with pytest.raises(Conflict) as refused:
            commit_or_replay(second, other, "k", "b", 60)
        assert refused.value.slug == "idempotency-key-reused"
        assert replayed_row(second, Job, None, "a", 60) is None  # no key: nothing to replay
