"""The object store's read-through cache writes each copy through a temp file; one whose
writer was killed mid-write is swept at the next start (it was left for good, uncounted
against AESVC_ARTIFACT_CACHE_BYTES)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from service.config import Settings
from service.context import AppContext
from service.object_store import ObjectStore, open_store

KILLED_CACHE_WRITER = """
import sys, time
from pathlib import Path
from service.tmpfiles import locked_temp
with locked_temp(Path(sys.argv[1])) as (f, p):
    f.write(b"x" * 4096); f.flush()
    print(p, flush=True)
    time.sleep(60)
"""


def test_a_cache_write_killed_midway_is_swept_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings(
        data_dir=tmp_path / "var", artifact_url="s3://bucket/p", artifact_cache_bytes=1 << 20
    )
    store = open_store(settings)
    assert isinstance(store, ObjectStore) and store.cache is not None
    cache_root = store.cache.root
    cache_root.mkdir(parents=True)
    # A process writing a copy into the cache, SIGKILLed mid-write (as ReadThroughCache.put).
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_CACHE_WRITER, str(cache_root)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert writer.stdout is not None
        left = Path(writer.stdout.readline().decode().strip())
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    assert left.exists() and left.parent == cache_root
    old = time.time() - 3600  # long past SWEEP_MIN_AGE_S
    os.utime(left, (old, old))

    # What `aesvc serve` / `aesvc worker` run at start (service/main.py, executors/local.py).
    ctx = SimpleNamespace(store=store, settings=settings)
    AppContext.sweep_abandoned_temp_files(ctx)  # type: ignore[arg-type]
    assert not left.exists(), (
        f"{left} (a dead writer's temp file in the read-through cache) survived the start-up "
        "sweep; the cache's eviction skips *.tmp, so it stays for good"
    )
