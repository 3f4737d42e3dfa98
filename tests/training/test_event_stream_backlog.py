"""Event streams of a job with a long history, against a real `aesvc serve`: a job's
history may hold hundreds of thousands of events (10,000 epochs a stage, ten stages of a
layerwise job, every attempt's), and each stream read its whole backlog at once: eight
streams of a finished job of 100,000 events, nobody reading them (a few hundred bytes of
requests), grew the server from 0.4 to 2.3 GB and held /healthz past a second. Now a
backlog is read, and sent, PAGE_EVENTS events at a time."""

from __future__ import annotations

import socket
import time
import uuid

import httpx
import pytest
from sqlalchemy import insert

from service.config import Settings
from service.database import create_db_engine, utcnow
from service.training.tables import Job, JobEvent
from tests.live import running

pytestmark = [pytest.mark.slow, pytest.mark.alone]

EVENTS, STREAMS = 40_000, 8  # STREAMS: AESVC_MAX_STREAMS_PER_KEY's default


def _rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _job_with_history(settings: Settings) -> str:
    job_id = uuid.uuid4().hex
    engine = create_db_engine(settings.resolved_database_url)
    report = {"epochs": EVENTS, "train_loss": 0.123456, "val_loss": 0.234567, "stage": "x"}
    with engine.begin() as conn:
        conn.execute(
            insert(Job).values(
                id=job_id, model_name="long", spec={}, status="succeeded", attempt_errors=[]
            )
        )
        rows = [
            {"job_id": job_id, "kind": "progress", "data": {**report, "epoch": i + 1}}
            for i in range(EVENTS)
        ]
        conn.execute(insert(JobEvent).values(created_at=utcnow()), rows)
    engine.dispose()
    return job_id


def test_unread_streams_of_a_long_history_hold_a_page_each(settings: Settings) -> None:
    with running(settings, workers=0) as server:
        job_id = _job_with_history(settings)
        assert server.process is not None
        pid, before = server.process.pid, _rss_mb(server.process.pid)
        request = f"GET /v1/jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        readers = []
        for _ in range(STREAMS):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(request)
            readers.append(sock)
        peak, slowest = before, 0.0
        for _ in range(10):
            time.sleep(0.4)
            peak = max(peak, _rss_mb(pid))
            started = time.monotonic()
            assert httpx.get(f"{server.base_url}/healthz", timeout=30).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
        for sock in readers:
            sock.close()
        assert peak - before < 150, f"{STREAMS} unread streams grew the server {peak - before} MB"
        assert slowest < 1.0, f"/healthz took {slowest:.2f} s"

        time.sleep(1.0)  # the closed streams free their slots
        ids = []
        with httpx.stream("GET", f"{server.base_url}/v1/jobs/{job_id}/events?after=7") as r:
            assert r.status_code == 200
            ids = [int(line[3:]) for line in r.iter_lines() if line.startswith("id:")]
        assert len(ids) == EVENTS - 7 and ids == sorted(set(ids)), (len(ids), ids[:3])
