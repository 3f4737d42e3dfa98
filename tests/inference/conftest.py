"""One tiny dense AE and one tiny VAE, trained on digits by the real worker, once per session;
every module serves them from its own app (or live server) on a copy of that data dir."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits

from service.config import Settings
from service.main import create_app
from tests.factories import job_body, run_worker
from tests.live import LiveServer, module_server

CODE_SIZE = 4
DIGITS = load_digits().data.astype(np.float32)  # (1797, 64), pixels 0..16


def settings_for(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": f"sqlite:///{data_dir / 'aesvc.db'}",
        "workers": 0,
        "poll_interval_s": 0.05,
        "heartbeat_interval_s": 0.3,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A data dir holding digits-ae (dense, version 1) and digits-vae (vae, version 1),
    trained once per run: the xdist workers share it (each module serves a copy of it)."""
    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent  # the run's, above the workers'
    data_dir, done = root / "trained" / "var", root / "trained" / "done"
    with open(root / "trained.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait, then find it done
        if not done.exists():
            shutil.rmtree(done.parent, ignore_errors=True)
            _train(data_dir)
            done.touch()
    return data_dir


def _train(data_dir: Path) -> None:
    settings = settings_for(data_dir)
    with TestClient(create_app(settings, start_workers=False)) as client:
        for body in (
            job_body(model_name="digits-ae", code_size=CODE_SIZE),
            job_body(model_name="digits-vae", code_size=CODE_SIZE, architecture={"kind": "vae"}),
        ):
            assert client.post("/v1/jobs", json=body).status_code == 202
        assert run_worker(settings, max_jobs=2) == 2
        for name in ("digits-ae", "digits-vae"):
            assert client.get(f"/v1/models/{name}/versions/1").status_code == 200


@pytest.fixture(scope="module")
def data_dir(trained_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("served") / "var"
    shutil.copytree(trained_dir, copy)
    return copy


@pytest.fixture(scope="module")
def served(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(data_dir), start_workers=False)) as client:
        yield client


@pytest.fixture(scope="module")
def shm_live(data_dir: Path) -> Iterator[LiveServer]:
    """A real server with the OIP system shared memory extension on, for the module."""
    env = {"AESVC_OIP_SHARED_MEMORY": "true"}
    with module_server(settings_for(data_dir), workers=0, env=env) as server:
        yield server
