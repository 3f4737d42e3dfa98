"""The dashboard with many jobs, in real headless Chromium (tests/ui/test_dashboard.py's
machinery): six active jobs do not lock the page out of the browser's six connections a
host (it streams at most three and polls), a refused stream is retried, a job started
elsewhere appears, and the train form starts every kind it offers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.factories import job_body
from tests.live import LiveServer
from tests.ui.test_dashboard import browser, fill, notice, wait  # noqa: F401  (browser: a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.any_database]  # headless Chromium against a real server


@pytest.fixture
def idle_server(settings: Settings) -> Iterator[LiveServer]:
    """Auth off (the default), no workers: submitted jobs stay queued (active)."""
    server = LiveServer(settings, workers=0).start()
    yield server


FETCH_WITHIN = """
const [path, ms, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const timer = new Promise((r) => setTimeout(() => r('timed out'), ms));
Promise.race([fetch(path).then((r) => 'status ' + r.status), timer])
  .then(done, (e) => done(String(e)));
"""


def test_the_dashboard_still_answers_with_six_active_jobs(
    browser: Any,  # noqa: F811
    idle_server: LiveServer,
) -> None:
    # Six queued jobs (a busy worker pool): a never-ending stream per active job would hold
    # all 6 connections an HTTP/1.1 browser has for a host, and every other request of the
    # page (job rows, plots, cancel, the train form) would wait for ever.
    with httpx.Client(base_url=idle_server.base_url) as http:
        for i in range(6):
            assert http.post("/v1/jobs", json=job_body(model_name=f"q{i}")).status_code == 202
    browser.get(f"{idle_server.base_url}/ui")
    wait(browser, "document.querySelectorAll('#job-rows tr').length === 6")
    browser.set_script_timeout(30)
    answer = browser.execute_async_script(FETCH_WITHIN, "/v1/datasets?limit=1", 8000)
    assert answer == "status 200", answer


def test_cancel_button_works_with_six_active_jobs(
    browser: Any,  # noqa: F811
    idle_server: LiveServer,
) -> None:
    with httpx.Client(base_url=idle_server.base_url) as http:
        ids = [
            http.post("/v1/jobs", json=job_body(model_name=f"q{i}")).json()["id"] for i in range(6)
        ]
        browser.get(f"{idle_server.base_url}/ui")
        wait(browser, "document.querySelectorAll('#job-rows button.cancel').length === 6")
        browser.execute_script(
            f"document.querySelector('tr[data-job-id=\"{ids[0]}\"] button.cancel').click()"
        )
        # the server sees the cancel and the row says so
        row = f"document.querySelector('tr[data-job-id=\"{ids[0]}\"]')?.dataset.status"
        try:
            wait(browser, f"['cancelled', 'cancelling'].includes({row})", timeout_s=15)
        finally:
            status = http.get(f"/v1/jobs/{ids[0]}").json()["status"]
        assert status in ("cancelled", "cancelling"), status


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_the_train_form_starts_every_kind_it_offers(
    browser: Any,  # noqa: F811
    idle_server: LiveServer,
    kind: str,
) -> None:
    browser.get(f"{idle_server.base_url}/ui")
    wait(browser, "document.querySelectorAll('#dataset-rows tr').length >= 3")
    browser.execute_script(f"document.querySelector('#train-form [name=kind]').value = '{kind}'")
    fill(browser, model=f"ui-{kind}", dataset="digits", code_size="4", epochs="2")
    text = wait(browser, "document.querySelector('#notice').textContent")
    assert "queued" in text, text


@pytest.fixture
def two_stream_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings, workers=0, env={"AESVC_MAX_STREAMS_PER_KEY": "2"}).start()
    yield server


def test_a_stream_refused_with_429_is_retried_not_abandoned(
    browser: Any,  # noqa: F811
    two_stream_server: LiveServer,
) -> None:
    # Past AESVC_MAX_STREAMS_PER_KEY (8 by default; 2 here, under the page's own 3) the API
    # answers 429: the page retries (it gave up for good, and that row never changed again)
    server = two_stream_server
    with httpx.Client(base_url=server.base_url) as http:
        ids = [
            http.post("/v1/jobs", json=job_body(model_name=f"q{i}")).json()["id"] for i in range(3)
        ]
        browser.get(f"{server.base_url}/ui")
        wait(browser, "document.querySelectorAll('#job-rows tr').length === 3")
        wait(browser, "document.querySelector('#notice').textContent.includes('429')")
        for job_id in ids:
            assert http.post(f"/v1/jobs/{job_id}/cancel").status_code == 200
    rows = "[...document.querySelectorAll('#job-rows tr')].map(r => r.dataset.status)"
    try:
        wait(browser, f"{rows}.every(s => s === 'cancelled')", timeout_s=20)
    except TimeoutError:
        pytest.fail(
            f"rows stay {browser.execute_script(f'return {rows}')}; notice {notice(browser)!r}"
        )


def test_a_job_submitted_elsewhere_appears_in_the_jobs_table(
    browser: Any,  # noqa: F811
    idle_server: LiveServer,
) -> None:
    # a job from the CLI (or a sweep's trials) shows without a reload, as sweeps do
    browser.get(f"{idle_server.base_url}/ui")
    wait(browser, "document.querySelectorAll('#dataset-rows tr').length >= 3")
    with httpx.Client(base_url=idle_server.base_url) as http:
        job_id = http.post("/v1/jobs", json=job_body(model_name="from-cli")).json()["id"]
    try:
        wait(browser, f"document.querySelector('tr[data-job-id=\"{job_id}\"]')", timeout_s=30)
    except TimeoutError:
        pytest.fail("a job submitted through the API never appears in the dashboard's jobs table")
