"""The dashboard stops following a job that ends while its stream is refused (429): it
retried the stream for ever without asking whether the job was still active, and held one
of the page's MAX_STREAMS slots for good."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.factories import job_body
from tests.live import LiveServer
from tests.ui.test_dashboard import browser, notice, wait  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.any_database]  # headless Chromium against a real server


@pytest.fixture
def one_stream_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings, workers=0, env={"AESVC_MAX_STREAMS_PER_KEY": "1"}).start()
    yield server


def _requests(job_id: str) -> str:
    return (
        "performance.getEntriesByType('resource')"
        f".filter(e => e.name.includes('/v1/jobs/{job_id}/events')).length"
    )


def test_a_finished_job_is_not_followed_for_ever(
    browser: Any,  # noqa: F811
    one_stream_server: LiveServer,
) -> None:
    server = one_stream_server
    with httpx.Client(base_url=server.base_url, timeout=None) as http:
        a = http.post("/v1/jobs", json=job_body(model_name="a")).json()["id"]
        b = http.post("/v1/jobs", json=job_body(model_name="b")).json()["id"]
        # another client holds the only stream slot on b (queued: its stream stays open)
        with http.stream(
            "GET", f"/v1/jobs/{b}/events", headers={"Accept": "text/event-stream"}
        ) as held:
            assert held.status_code == 200
            browser.get(f"{server.base_url}/ui")
            wait(browser, "document.querySelectorAll('#job-rows tr').length === 2")
            wait(browser, f"{_requests(a)} >= 1", timeout_s=30)
            assert http.post(f"/v1/jobs/{a}/cancel").status_code == 200
            row = f"document.querySelector('tr[data-job-id=\"{a}\"]')?.dataset.status"
            wait(browser, f"{row} === 'cancelled'", timeout_s=30)
            # the page stops following it: at the end of the retry's wait (1 to 4 s here;
            # the longest the page waits is 30 s), not never
            followed = f"window.aesvcStreams.has('{a}')"
            try:
                wait(browser, f"!{followed}", timeout_s=45)
            except TimeoutError:
                pytest.fail(
                    f"job {a[:8]} is cancelled, yet the page still follows it after 45 s "
                    f"({browser.execute_script(f'return {_requests(a)}')} stream requests); "
                    f"notice {notice(browser)!r}"
                )
            # and nothing follows it again: not the jobs table's poll (every 5 s)
            seen = browser.execute_script(f"return {_requests(a)}")
            time.sleep(6)
            now = browser.execute_script(f"return {_requests(a)}")
            assert now == seen, f"job {a[:8]}'s stream was asked for again ({seen} -> {now})"
            assert not browser.execute_script(f"return {followed}")
