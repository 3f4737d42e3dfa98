"""The dashboard's sweeps panel in real headless Chromium against a real server: a sweep
shows as running, its leaderboard fills in live, and it ends on the recommended trial
marked beside the curve."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.live import LiveServer
from tests.ui.test_dashboard import browser, notice, wait  # noqa: F401  (browser: a fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.any_database,
]  # headless Chromium through a whole sweep on a real server


def test_the_sweeps_panel_follows_a_sweep_to_its_recommended_trial(
    browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    server = LiveServer(settings, workers=1).start()
    body = {
        "model": "ui-sweep",
        "dataset": "digits",
        "base": {
            "architecture": {"hidden_sizes": [64]},
            "training": {"epochs": 40, "early_stopping_patience": None},
        },
        "grid": {"architecture.code_size": [2, 4, 8], "architecture.kind": ["dense"]},
        "max_parallel": 1,
    }
    created = httpx.post(f"{server.base_url}/v1/sweeps", json=body, timeout=60)
    assert created.status_code == 202, created.text
    sweep_id = created.json()["id"]
    browser.get(f"{server.base_url}/ui")
    row = f"document.querySelector('#sweep-rows tr[data-sweep-id=\"{sweep_id}\"]')"
    first = wait(browser, f"{row}?.dataset.status")
    assert first == "running", notice(browser)  # live status, before the sweep ends
    wait(browser, "document.querySelectorAll('#trial-rows tr').length === 3")
    status = wait(browser, f"{row}.dataset.status !== 'running' && {row}.dataset.status", 240)
    assert status == "succeeded", notice(browser)
    wait(browser, "document.querySelector('#sweep-detail').dataset.status === 'succeeded'")
    sweep = httpx.get(f"{server.base_url}/v1/sweeps/{sweep_id}", timeout=30).json()
    chosen = sweep["recommended"]
    marked = wait(browser, "document.querySelector('#trial-rows tr.recommended')?.dataset.trial")
    assert int(marked) == chosen["number"]
    summary = browser.execute_script("return document.querySelector('#sweep-summary').textContent")
    assert f"code size {chosen['code_size']}, version {chosen['model_version']}" in summary
    assert browser.execute_script(f"return {row}.querySelector('.done').textContent") == "3/3"
    wait(browser, "document.querySelector('#curve-plot').dataset.loaded === '1'")
    width = browser.execute_script("return document.querySelector('#curve-plot').naturalWidth")
    assert width > 100
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    server.stop()
