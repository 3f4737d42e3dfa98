"""A small real filesystem that fills up: a tmpfs mounted for one test (root only, as CI).

Where mounting is not permitted the test fails, saying why: a skipped disk-full test would
hide the very behaviour it exists to show.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILL_CHUNK_BYTES = 64 << 10


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size_bytes: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.fail(
            f"cannot mount a {size_bytes} byte tmpfs at {path} (euid {os.geteuid()}; this "
            f"test needs root, as CI has): {mount.stderr.strip() or mount.stdout.strip()}",
            pytrace=False,
        )
    try:
        yield path
    finally:
        # Lazy when still busy (a process that had a file open there): never left mounted.
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(path: Path, *, leave_bytes: int = 0) -> Path:
    """Write filler files under `path` until at most `leave_bytes` are free (0: until the
    filesystem answers ENOSPC). Returns the folder of filler files."""
    folder = path / "filler"
    folder.mkdir(exist_ok=True)
    target = folder / f"fill-{len(list(folder.iterdir()))}"
    with target.open("wb", buffering=0) as file:  # unbuffered: ENOSPC shows at the write
        while True:
            room = free_bytes(path) - leave_bytes
            if leave_bytes and room < 4096:
                break
            size = (
                FILL_CHUNK_BYTES if not leave_bytes else min(FILL_CHUNK_BYTES, room // 4096 * 4096)
            )
            try:
                file.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return folder
