"""The artifact store's disk fills up (a small tmpfs: root only, as CI; elsewhere this test
fails saying so rather than skipping).

(a) an upload that does not fit: 507 Insufficient Storage problem+json, no dataset row, no
    blob and no temp file left; (b) a job whose checkpoint finds no space fails (after its
    attempts) with an error naming the full disk, no version row, no blob, no checkpoint
    left; (c) once space is freed the same upload and the same job succeed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.config import Settings
from tests.factories import job_body, npy_bytes, wait_for_job
from tests.live import LiveServer
from tests.tmpfs import fill, free_bytes, mounted_tmpfs

pytestmark = pytest.mark.slow  # a server on a filling tmpfs (fault)

PROBLEM_JSON = "application/problem+json"
DISK_BYTES = 4 << 20
BIG_ROWS = 40_000  # 40k x 8 float32: 1.28 MB, over what is left once the disk is filled


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_full_artifact_disk(tmp_path: Path, database_url: str) -> None:
    with mounted_tmpfs(tmp_path / "disk", DISK_BYTES) as disk:
        artifacts = disk / "artifacts"
        settings = Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            artifact_url=str(artifacts),
            heartbeat_interval_s=0.3,
            lease_timeout_s=30.0,
            poll_interval_s=0.1,
        )
        env = {"AESVC_ARTIFACT_URL": str(artifacts), "AESVC_BUILTIN_DATASETS": "false"}
        server = LiveServer(settings, workers=1, env=env).start()
        api = server.client()
        try:
            _check_full_disk(api, disk, artifacts, settings)
        except BaseException:
            print(f"server log:\n{server.logs()}")
            raise
        finally:
            api.close()
            server.cleanup()  # before the unmount: nothing may hold the disk busy


def _check_full_disk(api: Any, disk: Path, artifacts: Path, settings: Settings) -> None:
    def get_json(path: str) -> Any:
        response = api.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def upload(name: str, X: np.ndarray) -> Any:
        return api.post(
            "/v1/datasets",
            files={"file": (f"{name}.npy", npy_bytes(X), "application/x-npy")},
            data={"name": name},
        )

    rng = np.random.default_rng(0)
    small = rng.normal(size=(300, 8)).astype(np.float32)
    big = rng.normal(size=(BIG_ROWS, 8)).astype(np.float32)
    assert upload("small", small).status_code == 201
    stored = files_under(artifacts / "sha256")
    assert len(stored) == 1

    # (a) the disk nearly full: the upload does not fit.
    fillers = fill(disk, leave_bytes=256 << 10)
    assert free_bytes(disk) < big.nbytes
    response = upload("big", big)
    problem = _problem(response, 507)
    assert problem["title"] == "Insufficient Storage"
    assert "no space left" in problem["detail"].lower() and str(artifacts) in problem["detail"]
    assert api.get("/v1/datasets/big").status_code == 404
    assert [d["name"] for d in get_json("/v1/datasets")["data"]] == ["small"]
    assert files_under(artifacts / "sha256") == stored  # no blob, whole or partial
    assert files_under(artifacts / "tmp") == set()  # no temp file
    assert files_under(settings.data_dir / "tmp") == set()  # the upload spool is empty too

    # (b) the disk full: the job's first checkpoint finds no space.
    fill(disk)
    body = job_body(model_name="full", dataset="small", code_size=2, epochs=3)
    body["spec"]["training"]["max_attempts"] = 2
    job_id = api.post("/v1/jobs", json=body).json()["id"]
    job = wait_for_job(get_json, job_id)
    assert job["status"] == "failed", job
    assert job["attempt"] == 2 and len(job["attempt_errors"]) == 2, job
    assert "no space left" in job["error"].lower() and str(artifacts) in job["error"], job
    assert all("no space left" in e["error"].lower() for e in job["attempt_errors"])
    assert api.get("/v1/models/full").status_code == 404  # no model, no version row
    assert files_under(artifacts / "sha256") == stored
    assert files_under(artifacts / "checkpoints") == set()  # neither a checkpoint nor a .tmp
    assert files_under(artifacts / "tmp") == set()

    # (c) space freed: the same upload and the same job succeed.
    shutil.rmtree(fillers)
    created = upload("big", big)
    assert created.status_code == 201, created.text
    retried = wait_for_job(get_json, api.post("/v1/jobs", json=body).json()["id"])
    assert retried["status"] == "succeeded" and retried["model_version"] == 1, retried
    assert get_json("/v1/models/full/versions/1")["source_job_id"] == retried["id"]
    assert len(files_under(artifacts / "sha256")) == 3  # small, big, the weights
    assert files_under(artifacts / "tmp") == set()


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].endswith("/insufficient-storage")
    return body
