"""Issue 22, defect 5: job event streams are capped per key and per process (429 with
Retry-After past the cap), the streams of one job share one poll, and a stream whose key
is revoked ends. A real server with auth required; the job stays queued (no worker), so
its streams stay open until closed."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from service.context import AppContext
from service.database import migrate
from service.security import create_key, revoke_key
from tests.factories import job_body
from tests.live import running

ENV = {
    "AESVC_AUTH": "required",
    "AESVC_MAX_STREAMS": "5",
    "AESVC_MAX_STREAMS_PER_KEY": "3",
    "AESVC_STREAM_KEY_CHECK_S": "0.5",
}


def _keys(settings: Settings, *names: str) -> dict[str, tuple[str, str]]:
    migrate(settings.resolved_database_url)
    ctx = AppContext.from_settings(settings)
    try:
        with ctx.session_factory() as session:
            made = {}
            for name in names:
                row, key = create_key(session=session, name=name, scopes=["read", "train"])
                made[name] = (row.id, key)
            return made
    finally:
        ctx.close()


def _metric(client: httpx.Client, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in /metrics")


@pytest.mark.slow  # a real server, streams held open
@pytest.mark.alone
def test_streams_are_capped_shared_and_end_when_their_key_is_revoked(
    settings: Settings, tmp_path: Path
) -> None:
    keys = _keys(settings, "a", "b", "c")
    auth = {name: {"Authorization": f"Bearer {key}"} for name, (_, key) in keys.items()}
    with running(settings, workers=0, env=ENV, log_path=tmp_path / "s.log") as live:
        client = live.client()
        job = client.post("/v1/jobs", json=job_body(), headers=auth["a"]).json()
        url = f"/v1/jobs/{job['id']}/events"
        with contextlib.ExitStack() as streams:

            def open_stream(name: str) -> httpx.Response:
                return streams.enter_context(client.stream("GET", url, headers=auth[name]))

            a_streams = [open_stream("a") for _ in range(3)]
            assert all(s.status_code == 200 for s in a_streams)
            over = open_stream("a")
            assert over.status_code == 429 and over.headers["retry-after"] == "5"
            over.read()
            assert "AESVC_MAX_STREAMS_PER_KEY" in over.json()["detail"]
            b_streams = [open_stream("b") for _ in range(2)]  # another key: 5 open in all
            assert all(s.status_code == 200 for s in b_streams)
            full = open_stream("c")
            assert full.status_code == 429
            full.read()
            assert "AESVC_MAX_STREAMS)" in full.json()["detail"]
            # five readers of one job: one poll
            assert _metric(client, "aesvc_event_streams") == 5
            assert _metric(client, "aesvc_event_feeds") == 1

            # revoke b: its two streams end by themselves, a's stay open
            ctx = AppContext.from_settings(settings)
            with ctx.session_factory() as session:
                assert revoke_key(session=session, key_id=keys["b"][0])
            ctx.close()
            started = time.monotonic()
            for stream in b_streams:
                for _ in stream.iter_bytes():
                    pass  # returns when the server ends the stream
            assert time.monotonic() - started < 5
            deadline = time.monotonic() + 5
            while _metric(client, "aesvc_event_streams") != 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _metric(client, "aesvc_event_streams") == 3
            assert open_stream("c").status_code == 200  # slots freed
        deadline = time.monotonic() + 5
        while _metric(client, "aesvc_event_streams") != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _metric(client, "aesvc_event_streams") == 0  # closed by the client: released
        assert _metric(client, "aesvc_event_feeds") == 0
