"""Temporary files that a killed writer cannot leave behind for good.

Every write of a blob, a checkpoint or an upload goes to a temporary file first and is
renamed into place when whole. The writer holds an exclusive `flock` on that file while it
writes; the kernel drops the lock when the writer dies, however it dies. `sweep` removes the
temporary files that nobody holds and nobody touched for `min_age_s` (the age covers the
instant between a file's creation and its lock), so a SIGKILL mid-write leaves garbage only
until the next start of `aesvc serve` or `aesvc worker`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)
TMP_SUFFIX = ".tmp"
SWEEP_MIN_AGE_S = 60.0


@contextlib.contextmanager
def locked_temp(folder: Path, *, name: str | None = None) -> Iterator[tuple[BinaryIO, Path]]:
    """A temporary file in `folder` (`name` + ".tmp", or a fresh random name), open for
    writing and flock-ed until closed. The caller renames it into place; whatever is left
    of it at exit is removed. A fixed name suits a file with one writer at a time (a job's
    checkpoint): a killed writer's leftover is overwritten by the next attempt."""
    folder.mkdir(parents=True, exist_ok=True)
    if name is None:
        fd, path_name = tempfile.mkstemp(dir=folder, prefix="aesvc-", suffix=TMP_SUFFIX)
        path = Path(path_name)
        fcntl.flock(fd, fcntl.LOCK_EX)
    else:
        path = folder / f"{name}{TMP_SUFFIX}"
        fd = _open_locked(path)
    with os.fdopen(fd, "wb") as file:
        try:
            yield file, path
        finally:
            # Unlinked under our lock, and only while the name is still our file: once
            # renamed into place, the name may already be the next writer's.
            _unlink_if_ours(path, file.fileno())


def _open_locked(path: Path) -> int:
    """Open `path` for writing with its lock held, truncated only once the lock is ours.
    The lock may be granted on a file that meanwhile was renamed into place or swept
    away; then `path` names another inode, and we start over on the new one."""
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            return fd
        os.close(fd)


def _unlink_if_ours(path: Path, fd: int) -> bool:
    try:
        if os.stat(path).st_ino != os.fstat(fd).st_ino:
            return False
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def sweep(folder: Path, *, min_age_s: float = SWEEP_MIN_AGE_S) -> list[Path]:
    """Remove the temporary files in `folder` (not recursive) whose writer is gone."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(f"*{TMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - path.stat().st_mtime < min_age_s:
                continue
            with path.open("rb") as file:
                try:
                    fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer holds it
                if _unlink_if_ours(path, file.fileno()):
                    removed.append(path)
    if removed:
        log.warning("removed %d temporary file(s) left by dead writers in %s", len(removed), folder)
    return removed
