"""The dashboard in real headless Chromium against a real server with auth on: enter the
key, start a job from the form, watch it over SSE, see every plot load, cancel a job."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from service.config import Settings
from service.context import AppContext
from service.security import create_key
from tests.live import LiveServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.any_database,
]  # headless Chromium through a whole training on a real server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
VERSION_PLOTS = {"reconstructions", "latent", "samples", "features", "scores"}


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM and CHROMEDRIVER):
        message = "needs Debian's chromium and chromium-driver (apt-get install, see .ci/run)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def secured_server(settings: Settings) -> Iterator[tuple[LiveServer, str]]:
    server = LiveServer(settings, workers=1, env={"AESVC_AUTH": "required"}).start()
    ctx = AppContext.from_settings(settings)
    try:
        with ctx.session_factory() as session:
            _, key = create_key(session=session, name="dashboard", scopes=["read", "train"])
    finally:
        ctx.close()
    yield server, key


def wait(driver: Any, script: str, timeout_s: float = 90.0) -> Any:
    """Poll a JS expression until it is truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"{script} stayed falsy; page notice: {notice(driver)!r}")


def notice(driver: Any) -> str:
    return str(driver.execute_script("return document.querySelector('#notice').textContent"))


def fill(driver: Any, **fields: str) -> None:
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.ID, "train-form")
    for name, value in fields.items():
        element = form.find_element(By.NAME, name)
        if element.tag_name == "select":
            driver.execute_script("arguments[0].value = arguments[1];", element, value)
        else:
            element.clear()
            element.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_dashboard_trains_follows_plots_and_cancels(
    browser: Any, secured_server: tuple[LiveServer, str]
) -> None:
    from selenium.webdriver.common.by import By

    server, key = secured_server
    browser.get(f"{server.base_url}/ui")
    wait(browser, "document.querySelector('#notice').textContent.includes('API key')")
    browser.find_element(By.ID, "api-key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    wait(browser, "document.querySelectorAll('#dataset-rows tr').length >= 3")
    # this tab's alone: not in localStorage, which every page of the origin reads
    assert browser.execute_script("return sessionStorage.getItem('aesvc.apiKey')") == key
    assert browser.execute_script("return localStorage.getItem('aesvc.apiKey')") is None
    names = [
        td.text for td in browser.find_elements(By.CSS_SELECTOR, "#dataset-rows td:first-child")
    ]
    assert {"digits", "pca3d", "breast_cancer"} <= set(names)
    before_key = browser.get_log("browser")  # the first load, without a key: 401s only
    assert all("401" in e["message"] for e in before_key if e["level"] == "SEVERE"), before_key
    since_ms = browser.execute_script("return Date.now()")

    fill(browser, model="ui-ae", dataset="digits", kind="dense", code_size="3",
         hidden_sizes="16", epochs="5")  # fmt: skip
    job_id = wait(browser, "document.querySelector('#job-rows tr')?.dataset.jobId")
    row = f"document.querySelector('tr[data-job-id=\"{job_id}\"]')"
    status = wait(
        browser, f"['succeeded','failed'].includes({row}?.dataset.status) && {row}.dataset.status"
    )
    assert status == "succeeded", notice(browser)
    # 5 epochs, or 10 where the model lost to PCA and trained again on a linear path
    with server.client(headers={"Authorization": f"Bearer {key}"}) as http:
        progress = http.get(f"/v1/jobs/{job_id}").json()["progress"]
    n = progress["epochs"]
    assert n in (5, 10) and progress["epoch"] == n, progress
    # The row's status may come from the job list before the stream's last events land.
    wait(browser, f"(window.aesvcProgress['{job_id}'] || []).length >= {n}")
    epochs = browser.execute_script(f"return window.aesvcProgress['{job_id}']")
    assert epochs == list(range(1, n + 1))  # every epoch arrived over the stream, in order
    bar = browser.execute_script(
        f"const p = {row}.querySelector('progress'); return [p.value, p.max]"
    )
    assert bar == [n, n]
    # a job that early stopping ended at epoch 26 of 100 is complete, not a quarter full
    early = browser.execute_script(
        "const [cell] = progressCells({status: 'succeeded', progress: {epoch: 26, "
        "epochs: 100, train_loss: 1, val_loss: 1}}); const p = cell.querySelector('progress');"
        " return [p.value, p.max, cell.textContent]"
    )
    assert early[:2] == [100, 100] and "stopped early at 26/100" in early[2]
    assert browser.execute_script(f"return {row}.querySelector('.version').textContent") == "1"

    model_row = "document.querySelector('#model-rows tr[data-model=\"ui-ae\"]')"
    cells = wait(browser, f"{model_row} && [...{model_row}.cells].map(c => c.textContent)")
    assert cells[:4] == ["ui-ae", "1", "dense", "3"] and "latest" in cells[4]
    assert float(cells[5]) > 0 and float(cells[6]) > 0  # val MSE beside the PCA baseline
    with server.client(headers={"Authorization": f"Bearer {key}"}) as http:
        worse = http.get("/v1/models/ui-ae/versions/1").json()["worse_than"]
    assert cells[7] == ("worse than PCA" if worse else "")  # what the version JSON says

    loaded = (
        "[...document.querySelectorAll('img.plot')]"
        ".filter(i => i.complete && i.naturalWidth > 0).map(i => i.dataset.plot)"
    )
    plots = wait(browser, f"{loaded}.length === 6 && {loaded}")
    assert set(plots) == VERSION_PLOTS | {"loss"}

    fill(browser, model="ui-long", epochs="5000")
    long_id = wait(browser, f"(r => r && r.dataset.jobId !== '{job_id}' && r.dataset.jobId)"
                            "(document.querySelector('#job-rows tr'))")  # fmt: skip
    long_row = f"document.querySelector('tr[data-job-id=\"{long_id}\"]')"
    running = f"{long_row}?.dataset.status === 'running'"
    wait(browser, f"{running} && {long_row}.querySelector('progress').value >= 1")
    browser.execute_script(f"{long_row}.querySelector('button.cancel').click()")
    wait(browser, f"{long_row}?.dataset.status === 'cancelled'")
    with server.client(headers={"Authorization": f"Bearer {key}"}) as http:
        assert http.get(f"/v1/jobs/{long_id}").json()["status"] == "cancelled"

    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and entry["timestamp"] >= since_ms
    ]
    assert errors == [], errors
