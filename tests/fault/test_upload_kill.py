"""SIGKILL of `aesvc serve` while it stores an upload's chunks: restarted, its workers' sweep
removes the chunks the upload stored (its records of them are older than two lease
timeouts), and the store holds exactly the blobs it held before the upload."""

from __future__ import annotations

import signal
import threading

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from service.config import Settings
from service.context import AppContext
from service.datasets.tables import UploadBlob
from tests.factories import npy_bytes, wait_for
from tests.fault.store_checks import assert_store_whole, store_files
from tests.live import running

pytestmark = pytest.mark.slow


def blobs(settings: Settings) -> set[str]:
    return {p.name for p in store_files(settings)["blobs"]}


def test_sigkill_mid_upload_leaves_no_chunk_behind(settings: Settings) -> None:
    settings = settings.model_copy(update={"lease_timeout_s": 1.0})
    rows = np.random.default_rng(0).normal(size=(1_000_000, 64)).astype(np.float32)
    body = npy_bytes(rows)  # 256 MB: 64 chunks of 4 MB
    with running(settings, workers=1) as server:
        before = blobs(settings)
        answers: list[object] = []

        def upload() -> None:
            try:
                with httpx.Client(base_url=server.base_url, timeout=120) as http:
                    files = {"file": ("big.npy", body, "application/x-npy")}
                    answers.append(http.post("/v1/datasets", files=files, data={"name": "big"}))
            except httpx.TransportError as exc:  # what the client of a killed server sees
                answers.append(exc)

        thread = threading.Thread(target=upload, daemon=True)
        thread.start()
        wait_for(lambda: len(blobs(settings) - before) >= 3, timeout_s=120, interval_s=0.01)
        server.stop(signal.SIGKILL)
        thread.join(timeout=60)
        assert len(answers) == 1 and isinstance(answers[0], httpx.TransportError), answers
        stored = blobs(settings) - before
        assert 3 <= len(stored) < 64  # killed midway, chunks left

        context = AppContext.from_settings(settings)
        try:
            with context.session_factory() as session:
                on_record = set(session.scalars(select(UploadBlob.sha256)))
            assert stored <= on_record  # every chunk stored was on record first

            server.start()
            wait_for(lambda: blobs(settings) == before, timeout_s=60)
            with context.session_factory() as session:
                assert session.scalars(select(UploadBlob)).all() == []
        finally:
            context.close()
        with server.client() as http:
            assert http.get("/v1/datasets/big").status_code == 404
            assert_store_whole(settings, http)
