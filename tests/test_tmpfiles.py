"""Temp files: a writer killed mid-write leaves one behind, and the next start sweeps it;
a live writer's file is never swept; a fixed-name temp file never clobbers a finished one."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.artifacts import FolderStore
from service.config import Settings
from service.main import create_app
from service.tmpfiles import locked_temp, sweep
from tests.factories import wait_for

SLOW_WRITER = """
import sys, time
from pathlib import Path
from service.artifacts import FolderStore

def chunks():
    yield b"x" * 4096
    print("writing", flush=True)
    time.sleep(600)
    yield b"never"

FolderStore(Path(sys.argv[1])).put_chunks(chunks())
"""


def blocked_on_flock(path: Path) -> bool:
    """Someone waits for the flock of this file (the kernel lists waiters with "->")."""
    inode = os.stat(path).st_ino
    locks = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and "FLOCK" in line and f":{inode} " in line for line in locks)


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.slow  # a writer process killed
def test_a_killed_writers_temp_file_is_swept_and_a_live_writers_is_not(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "artifacts")
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(store.root)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert writer.stdout is not None
        ready, _, _ = select.select([writer.stdout], [], [], 60)
        assert ready, "the writer never started writing"
        assert writer.stdout.readline().strip() == b"writing"
        (temp,) = list(store.tmp_dir.iterdir())
        age(temp, 3600)
        assert store.sweep_abandoned() == []  # old, but its writer holds the lock
        assert temp.exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    assert temp.exists()  # SIGKILL ran no cleanup: the half-written file stays ...
    assert store.sweep_abandoned() == [temp]  # ... until a sweep, now that nobody holds it
    assert list(store.tmp_dir.iterdir()) == []
    assert list((store.root / "sha256").rglob("*")) == []  # and nothing reached the store


def test_a_fresh_temp_file_is_kept_until_it_is_old(tmp_path: Path) -> None:
    folder = tmp_path / "tmp"
    folder.mkdir()
    fresh = folder / "aesvc-abc.tmp"
    fresh.write_bytes(b"half")  # as a writer leaves it between creating and locking it
    other = folder / "notes.txt"
    other.write_text("not a temp file")
    assert sweep(folder) == []
    age(fresh, 120)
    age(other, 120)
    assert sweep(folder) == [fresh]
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_fixed_name_temp_file_waits_for_the_writer_before_it(tmp_path: Path) -> None:
    """Two writers of one checkpoint (a stale attempt and the new one): the second waits
    for the lock, and once the first has renamed its file into place, starts a new one
    instead of truncating the finished file."""
    target = tmp_path / "job.pt"
    order: list[str] = []
    first_holds = threading.Event()

    def second() -> None:
        first_holds.wait(10)
        with locked_temp(tmp_path, name=target.name) as (file, path):
            order.append("second locked")
            file.write(b"second")
            file.flush()
            os.replace(path, target)

    thread = threading.Thread(target=second)
    thread.start()
    with locked_temp(tmp_path, name=target.name) as (file, path):
        first_holds.set()
        wait_for(lambda: blocked_on_flock(path), timeout_s=10, interval_s=0.01)
        file.write(b"first")
        file.flush()
        os.replace(path, target)
        order.append("first renamed")
        assert target.read_bytes() == b"first"
    thread.join(10)
    assert order == ["first renamed", "second locked"]
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.pt"]


def test_the_service_sweeps_at_start(settings: Settings) -> None:
    store = FolderStore(settings.resolved_artifact_root)
    left = [
        store.tmp_dir / "aesvc-put.tmp",
        store.checkpoint_dir / "0123abcd.pt.tmp",
        settings.data_dir / "tmp" / "aesvc-upload.tmp",
    ]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half-written by a killed process")
        age(path, 3600)
    with TestClient(create_app(settings, start_workers=False)):
        assert [p for p in left if p.exists()] == []


def test_a_writer_that_renamed_its_file_never_removes_the_next_writers(tmp_path: Path) -> None:
    target = tmp_path / "job.pt"
    with locked_temp(tmp_path, name=target.name) as (file, path):
        file.write(b"first")
        file.flush()
        os.replace(path, target)
        # The next writer starts its own temp file under the same name before the first
        # has left its block; the first's clean-up must leave that file alone.
        second = locked_temp(tmp_path, name=target.name)
        second_file, second_path = second.__enter__()
    assert second_path.exists()
    second_file.write(b"second")
    second_file.flush()
    os.replace(second_path, target)
    second.__exit__(None, None, None)
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.pt"]
