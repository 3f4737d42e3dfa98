"""Batch jobs through the API with a real worker loop, SQLite and torch: the output is a
dataset equal to the encode endpoint's answers, usable for training; cancel and failure
leave no dataset and no chunk behind."""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.batch import service as batch_service
from service.batch.tables import BatchChunk
from service.config import Settings
from service.datasets.tables import DatasetChunk
from tests.batch.conftest import (
    CHUNK_ROWS,
    CODE_SIZE,
    DATASET,
    MODEL,
    N_FEATURES,
    N_ROWS,
    download,
    upload,
)
from tests.factories import job_body, run_worker


def submit(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/batch-jobs", json={"model": MODEL, "dataset": DATASET, **body})
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/batch-jobs/{response.json()['id']}"
    return response.json()  # type: ignore[no-any-return]


def answer(client: TestClient, operation: str, X: np.ndarray) -> dict[str, Any]:
    response = client.post(
        f"/v1/models/{MODEL}/versions/1/{operation}", json={"inputs": X.tolist()}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_encode_a_dataset_then_train_on_the_codings(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job = submit(client, operation="encode", version="latest", output="codes")
    assert job["status"] == "queued" and job["version"] == 1 and job["output"] == "codes"
    assert client.get("/v1/datasets/codes").status_code == 404  # not before it is complete
    assert run_worker(settings, max_jobs=1) == 1
    done = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done
    assert done["progress"]["chunks_done"] == done["progress"]["chunks_total"] == 8
    assert done["progress"]["rows_done"] == done["progress"]["rows_total"] == N_ROWS

    dataset = client.get("/v1/datasets/codes").json()
    assert dataset["id"] == done["output_dataset_id"]
    assert (dataset["n_rows"], dataset["n_features"]) == (N_ROWS, CODE_SIZE)
    assert dataset["feature_names"] == ["code_0", "code_1"]
    assert dataset["source_format"] == "batch" and dataset["profile"]["n_rows"] == N_ROWS
    codes = download(client, "codes")
    expected = np.asarray(answer(client, "encode", world[:8])["codings"], dtype=np.float32)
    np.testing.assert_allclose(codes[:8], expected, rtol=1e-5, atol=1e-6)
    whole = np.asarray(answer(client, "encode", world[-8:])["codings"], dtype=np.float32)
    np.testing.assert_allclose(codes[-8:], whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dataset["stats"]["mean"], codes.mean(axis=0), rtol=1e-4, atol=1e-5)
    raw = client.get("/v1/datasets/codes/data").content
    assert hashlib.sha256(raw).hexdigest() == dataset["sha256"]

    parquet = client.get("/v1/datasets/codes/data", params={"format": "parquet"})
    assert parquet.status_code == 200, parquet.text
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column_names == ["code_0", "code_1"]
    np.testing.assert_array_equal(np.column_stack([c.to_numpy() for c in table.columns]), codes)

    # the second step of a two-step pretraining: a model trained on the codings
    body = job_body(model_name="on-codes", dataset="codes", code_size=1, epochs=2)
    assert client.post("/v1/jobs", json=body).status_code == 202
    assert run_worker(settings, max_jobs=1) == 1
    assert client.get("/v1/models/on-codes/versions/1").json()["n_features"] == CODE_SIZE


@pytest.mark.parametrize("operation", ["reconstruct", "score"])
def test_reconstruct_and_score_equal_the_endpoints(
    client: TestClient, settings: Settings, world: np.ndarray, operation: str
) -> None:
    job = submit(client, operation=operation, version=1)
    assert job["output"].startswith(f"{DATASET}-{operation}-")
    assert run_worker(settings, max_jobs=1) == 1
    assert client.get(f"/v1/batch-jobs/{job['id']}").json()["status"] == "succeeded"
    out = download(client, job["output"])
    got = answer(client, operation, world[CHUNK_ROWS - 4 : CHUNK_ROWS + 4])
    if operation == "reconstruct":
        assert out.shape == (N_ROWS, N_FEATURES)
        want = np.asarray(got["reconstructions"], dtype=np.float32)
    else:
        assert out.shape == (N_ROWS, 1)
        want = np.asarray(got["scores"], dtype=np.float32)[:, None]
    np.testing.assert_allclose(out[CHUNK_ROWS - 4 : CHUNK_ROWS + 4], want, rtol=1e-4, atol=1e-5)


def count_chunks(client: TestClient) -> tuple[int, int]:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        pending = session.scalar(select(func.count()).select_from(BatchChunk))
        stored = session.scalar(select(func.count()).select_from(DatasetChunk))
    return int(pending or 0), int(stored or 0)


def test_a_queued_job_cancels_and_lists(client: TestClient, world: np.ndarray) -> None:
    job = submit(client, operation="score")
    listed = client.get("/v1/batch-jobs").json()
    assert [j["id"] for j in listed["data"]] == [job["id"]]
    assert job["id"] not in [j["id"] for j in client.get("/v1/jobs").json()["data"]]
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 404  # under its own prefix
    cancelled = client.post(f"/v1/batch-jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.get(f"/v1/datasets/{job['output']}").status_code == 404


def test_an_idempotency_key_replays_the_first_job(client: TestClient, world: np.ndarray) -> None:
    body = {"model": MODEL, "dataset": DATASET, "operation": "encode", "version": "1"}
    headers = {"idempotency-key": "batch-once"}
    first = client.post("/v1/batch-jobs", json=body, headers=headers)
    again = client.post("/v1/batch-jobs", json=body, headers=headers)
    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert client.get("/v1/batch-jobs").json()["count"] == 1
    other = client.post("/v1/batch-jobs", json={**body, "operation": "score"}, headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    # the same key on a training job is another key: the kinds do not share keys
    train = job_body(model_name="other", dataset=DATASET, code_size=CODE_SIZE)
    assert client.post("/v1/jobs", json=train, headers=headers).status_code == 202


def test_the_output_name_is_taken_while_a_job_will_create_it(
    client: TestClient, world: np.ndarray
) -> None:
    submit(client, operation="encode", output="codes")
    again = client.post(
        "/v1/batch-jobs",
        json={"model": MODEL, "dataset": DATASET, "operation": "score", "output": "codes"},
    )
    assert again.status_code == 409 and again.json()["code"] == "dataset_name_taken", again.text


def test_an_output_name_taken_meanwhile_fails_the_job_and_keeps_nothing(
    client: TestClient, settings: Settings, world: np.ndarray
) -> None:
    job = submit(client, operation="encode", output="late")
    upload(client, "late", world[:10])  # an upload does not know the job will want the name
    before = count_chunks(client)
    assert run_worker(settings, max_jobs=1) == 1
    failed = client.get(f"/v1/batch-jobs/{job['id']}").json()
    assert failed["status"] == "failed" and "exists already" in failed["error"], failed
    assert count_chunks(client) == before  # no chunk recorded, none added to a dataset
    assert client.get("/v1/datasets/late").json()["n_rows"] == 10


def test_two_submissions_naming_one_output_at_once_one_is_refused_409(
    client: TestClient, world: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests reach the check before either inserts its job (on PostgreSQL, READ
    COMMITTED: the name's lock makes the second wait for the first's commit; on SQLite the
    write transactions are one at a time anyway, and the barrier gives up)."""
    both_checked = threading.Barrier(2, timeout=3)
    check = batch_service._check_output_free

    def slow_check(session: Any, name: str) -> None:
        check(session, name)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()

    monkeypatch.setattr(batch_service, "_check_output_free", slow_check)
    answers: list[tuple[int, dict[str, Any]]] = []

    def post(operation: str) -> None:
        body = {"model": MODEL, "dataset": DATASET, "operation": operation, "output": "same"}
        response = client.post("/v1/batch-jobs", json=body)
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=post, args=(op,)) for op in ("encode", "score")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(code for code, _ in answers) == [202, 409], answers
    assert next(a for code, a in answers if code == 409)["code"] == "dataset_name_taken"
