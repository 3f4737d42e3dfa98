"""Builders of request bodies and files, and small waiting helpers."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.config import Settings
from service.executors.local import worker_loop
from service.inference.runtime.cache import LoadedModel
from service.zoo.serving import ServingModel


def csv_bytes(
    X: np.ndarray, *, header: list[str] | None = None, labels: list[Any] | None = None
) -> bytes:
    names = header or [f"f{i}" for i in range(X.shape[1])]
    lines = [",".join(names + (["label"] if labels is not None else []))]
    for i, row in enumerate(X):
        cells = [repr(float(v)) for v in row]
        if labels is not None:
            cells.append(str(labels[i]))
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def random_matrix(n_rows: int = 40, n_features: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_rows, n_features)).astype(np.float32)


SPEC_PARTS = ("architecture", "regularization", "training", "preprocessing")


def job_body(
    *,
    model_name: str = "m",
    dataset: str = "digits",
    code_size: int = 4,
    epochs: int = 2,
    **overrides: Any,
) -> dict[str, Any]:
    """A 1.0 job body (`model`, `spec`); overrides of the spec's parts go inside `spec`."""
    # one training: a dense job whose first model loses to PCA (two epochs do) would train
    # again on a linear path (tests/zoo/test_linear_path.py)
    spec: dict[str, Any] = {
        "architecture": {"code_size": code_size, "hidden_sizes": [16], "linear_path": False},
        "training": {"epochs": epochs, "batch_size": 64},
    }
    body: dict[str, Any] = {"model": model_name, "dataset": dataset, "spec": spec}
    for key, value in overrides.items():
        where = spec if key in SPEC_PARTS else body
        if isinstance(value, dict) and isinstance(where.get(key), dict):
            where[key] = {**where[key], **value}
        else:
            where[key] = value
    architecture = spec["architecture"]
    given = overrides.get("architecture") or {}
    kind = architecture.get("kind", "dense")
    if kind not in ("dense", "vae") and "hidden_sizes" not in given:
        del architecture["hidden_sizes"]  # a kind without dense layers takes no hidden_sizes
    if kind != "dense" and "linear_path" not in given:
        del architecture["linear_path"]  # only dense kinds have one
    return body


def run_worker(settings: Settings, max_jobs: int = 1) -> int:
    """Run the real worker loop in this process until it has run `max_jobs` jobs."""
    return worker_loop(settings, stopping=threading.Event(), max_jobs=max_jobs)


def wait_for(predicate: Any, *, timeout_s: float = 60.0, interval_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


def wait_for_job(get_json: Any, job_id: str, *, timeout_s: float = 120.0) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = get_json(f"/v1/jobs/{job_id}")
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(finished, timeout_s=timeout_s, interval_s=0.2)  # type: ignore[no-any-return]


_MIGRATED: list[Path] = []  # this process's SQLite file at the migrations' head


def _migrated_sqlite() -> Path:
    """A SQLite file migrated to head, made once per process: a copy of it is what the
    service's start-up would make of an empty file (tests/test_database.py runs the
    migrations themselves, forward, back and forward), in a fortieth of the time."""
    if not _MIGRATED or not _MIGRATED[-1].exists():  # made again if /tmp was swept
        from service.database import migrate

        folder = Path(tempfile.mkdtemp(prefix="aesvc-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        migrate(f"sqlite:///{folder / 'work.db'}")
        with (
            closing(sqlite3.connect(folder / "work.db")) as source,
            closing(sqlite3.connect(folder / "head.db")) as copy,
        ):
            source.backup(copy)  # one file, whatever the WAL holds
        _MIGRATED.append(folder / "head.db")
    return _MIGRATED[-1]


_SEEDED: dict[int, Path] = {}  # by chunk size: head.db with the built-in datasets, their blobs


def _seeded_sqlite() -> Path:
    """A folder holding `aesvc.db`, a copy of the head template in which the service's start-up
    has registered the built-in datasets, and `artifacts/`, their blobs (made once per process
    and chunk size, as the start-up would chunk them now: registering them took 50 to 65 ms of
    every app start in the tests, most of it fsyncs and profiles of the same rows)."""
    from service.datasets import chunks

    folder = _SEEDED.get(chunks.CHUNK_BYTES)
    if folder is None or not (folder / "aesvc.db").exists() or not (folder / "artifacts").is_dir():
        from service.context import AppContext
        from service.datasets.service import register_builtins

        folder = Path(tempfile.mkdtemp(prefix="aesvc-seeded-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        shutil.copyfile(_migrated_sqlite(), folder / "work.db")
        ctx = AppContext.from_settings(
            Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'work.db'}")
        )
        try:
            with ctx.session_factory() as session:
                register_builtins(session=session, store=ctx.store)
        finally:
            ctx.close()
        with (
            closing(sqlite3.connect(folder / "work.db")) as source,
            closing(sqlite3.connect(folder / "aesvc.db")) as copy,
        ):
            source.backup(copy)
        _SEEDED[chunks.CHUNK_BYTES] = folder
    return folder


def seed_builtin_datasets(settings: Settings) -> None:
    """What the start-up of `settings`'s app would register first, the built-in datasets,
    copied in from the process's template: only for a SQLite file that
    temporary_database_url made (at the migrations' head, nothing else in it), with the
    built-ins on and the artifacts in data_dir's folder. Anything else is left to start-up,
    as it is for a test marked `unseeded` (one that moves the artifacts elsewhere after)."""
    db = settings.data_dir / "aesvc.db"
    if (
        os.environ.get("AESVC_TEST_DATABASE_URL")
        or not settings.builtin_datasets
        or settings.artifact_url
        or settings.resolved_database_url != f"sqlite:///{db}"
    ):
        return
    template = _seeded_sqlite()
    shutil.copyfile(template / "aesvc.db", db)
    shutil.copytree(template / "artifacts", settings.resolved_artifact_root, dirs_exist_ok=True)


@contextmanager
def temporary_database_url(data_dir: Path) -> Iterator[str]:
    """A SQLite file in `data_dir` (a copy of one at the migrations' head), or a fresh
    PostgreSQL database (dropped afterwards) when AESVC_TEST_DATABASE_URL names a server:
    the `database_url` fixture of tests/conftest.py, for fixtures wider than one test."""
    admin_url = os.environ.get("AESVC_TEST_DATABASE_URL")
    if not admin_url:
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_sqlite(), data_dir / "aesvc.db")
        yield f"sqlite:///{data_dir / 'aesvc.db'}"
        return
    name = f"aesvc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def module_settings(data_dir: Path, **overrides: Any) -> Iterator[Settings]:
    """Settings for a module-wide fixture: a fresh database (SQLite, or PostgreSQL in CI's
    second run) and the fast polling of tests/conftest.py's `settings`."""
    with temporary_database_url(data_dir) as database_url:
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            **{"workers": 0, "poll_interval_s": 0.05, "heartbeat_interval_s": 0.3, **overrides},
        )
        seed_builtin_datasets(settings)
        yield settings


def loaded_version(model: ServingModel, *, name: str, variational: bool) -> LoadedModel:
    """A version in the cache's terms, of a ServingModel built in the test (on the CPU)."""
    assert bool(model.autoencoder.variational) == variational
    return LoadedModel(name=name, version=1, model=model, metrics={}, size_bytes=0, key=f"{name}@1")
