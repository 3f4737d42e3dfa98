"""A batch attempt that ends on an error (a lane's error, a record's error, a lost lease)
leaves no lane, writer or heartbeat thread, no open file descriptor, and torch's thread
count as it was."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from service.batch.runner import BatchRun
from service.context import AppContext
from service.inference.backends.base import Backend
from service.training import lifecycle
from service.training.trainer import TrainingFailed
from tests.batch.conftest import DATASET, MODEL, run_attempt


class LaneFails(BatchRun):
    def compute(self, backend: Backend, block: np.ndarray, position: int, first: int) -> np.ndarray:
        if position == 4:
            raise TrainingFailed("boom")
        return super().compute(backend, block, position, first)


class RecordFails(BatchRun):
    def record_stored(self) -> bool:
        raise RuntimeError("record failed")


class LeaseLost(BatchRun):
    def record_stored(self) -> bool:
        if self.stored:
            lifecycle.retry_or_fail(self.factory, job_id=self.job.id, owner=self.owner, error="x")
        return super().record_stored()


def sqlite_file(settings: Any) -> str | None:
    """The SQLite database's file (its -wal, -shm and -journal share the name); None on
    another database."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return str(Path(url.database).resolve())


def open_fds(data_dir: Path, database: str | None) -> dict[str, str]:
    """This process's descriptors of files under data_dir but the database's (the chunks
    an attempt reads, the blobs it writes), and what each points to. The database's are
    checked as connections (test below): the app the test client runs in this process may
    open one more for its own work at any moment, and keep it in its pool."""
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the listing's own descriptor, closed since
            continue
        if target.startswith(str(data_dir)) and not (database and target.startswith(database)):
            found[fd] = target
    return found


def left_open(
    before: dict[str, str], data_dir: Path, database: str | None, wait_s: float = 5.0
) -> dict[str, str]:
    """The descriptors open now that were not before, once those that other threads open
    for a moment have closed (a leak stays open: waiting does not hide it)."""
    deadline = time.monotonic() + wait_s
    while True:
        new = {fd: t for fd, t in open_fds(data_dir, database).items() if before.get(fd) != t}
        if not new or time.monotonic() > deadline:
            return new
        time.sleep(0.1)


def ours(before: set[threading.Thread]) -> list[str]:
    """The lane, writer and heartbeat threads alive now that were not before: one that an
    earlier test in this process left running is not the attempt's."""
    prefixes = ("batch-lane", "batch-write", "heartbeat-")
    return [
        t.name for t in threading.enumerate() if t.name.startswith(prefixes) and t not in before
    ]


@pytest.mark.parametrize("run_class", [LaneFails, RecordFails, LeaseLost])
def test_an_attempt_ending_on_an_error_leaves_nothing_running(
    client: TestClient,
    settings: Any,
    world: np.ndarray,
    run_class: type[BatchRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {"model": MODEL, "dataset": DATASET, "operation": "encode", "output": "codes"}
    assert client.post("/v1/batch-jobs", json=body).status_code == 202
    data_dir, database = settings.data_dir.resolve(), sqlite_file(settings)
    fds, torch_threads = open_fds(data_dir, database), torch.get_num_threads()
    threads = set(threading.enumerate())
    # the database connections the attempt still held when its context closed (a session
    # left open keeps one: engine.dispose closes only those given back)
    held: list[int] = []
    close = AppContext.close

    def counted_close(ctx: AppContext) -> None:
        held.append(ctx.engine.pool.checkedout())  # type: ignore[attr-defined]
        close(ctx)

    monkeypatch.setattr(AppContext, "close", counted_close)
    status, _ = run_attempt(settings, run_class, record_every_s=0.0)
    time.sleep(0.2)
    new = left_open(fds, data_dir, database)
    print(run_class.__name__, status, ours(threads), new, held)
    assert ours(threads) == []
    assert torch.get_num_threads() == torch_threads
    assert new == {}
    assert held == [0]
