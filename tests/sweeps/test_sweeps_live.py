"""Sweeps through a real `aesvc serve` (tests/live.py): its local worker pool trains the
trials, the API's advancer and the workers move the sweep on, and a SIGKILLed API (its
workers with it) loses nothing of a sweep half done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.factories import wait_for
from tests.live import LiveServer

pytestmark = pytest.mark.slow  # real servers through whole trainings

TERMINAL = ("succeeded", "failed", "cancelled")


def sweep_of(client: httpx.Client, sweep_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/sweeps/{sweep_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ended(client: httpx.Client, sweep_id: str, timeout_s: float = 180) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        sweep = sweep_of(client, sweep_id)
        return sweep if sweep["status"] in TERMINAL else None

    return wait_for(done, timeout_s=timeout_s, interval_s=0.3)  # type: ignore[no-any-return]


def test_a_grid_sweep_end_to_end_on_a_live_server(settings: Settings) -> None:
    live = LiveServer(settings, workers=2).start()
    body = {
        "model": "digits-sweep",
        "dataset": "digits",
        "base": {"architecture": {"hidden_sizes": [32]}, "training": {"epochs": 4}},
        "grid": {"architecture.code_size": [2, 8, 32], "architecture.kind": ["dense", "vae"]},
        "max_parallel": 2,
        "promote": "best",
    }
    with live.client() as client:
        created = client.post("/v1/sweeps", json=body)
        assert created.status_code == 202, created.text
        sweep_id = created.json()["id"]
        statuses = [t["status"] for t in created.json()["trials"]]  # a worker may be quick
        assert sorted(statuses)[:4] == ["pending"] * 4 and len(statuses) == 6
        assert set(sorted(statuses)[4:]) <= {"queued", "running"}
        sweep = ended(client, sweep_id)
        assert sweep["status"] == "succeeded", sweep["error"]
        trials = sweep["trials"]
        assert len(trials) == 6 and all(t["status"] == "succeeded" for t in trials)
        assert sorted(t["model_version"] for t in trials) == [1, 2, 3, 4, 5, 6]
        best = sweep["best"]
        assert best["value"] == min(t["value"] for t in trials)
        within = [t for t in trials if t["value"] <= best["value"] * 1.1]
        assert sweep["recommended"]["code_size"] == min(t["code_size"] for t in within)
        assert [p["code_size"] for p in sweep["pca_baseline"]] == [2, 8, 32]
        alias = client.get("/v1/models/digits-sweep/aliases/best").json()
        assert alias["version"] == best["model_version"] == sweep["promoted_version"]
        version = client.get(f"/v1/models/digits-sweep/versions/{best['model_version']}").json()
        assert version["metrics"]["val_mse"] == best["value"]
        png = client.get(f"/v1/sweeps/{sweep_id}/plots/curve.png")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        etag = png.headers["etag"]
        again = client.get(
            f"/v1/sweeps/{sweep_id}/plots/curve.png", headers={"if-none-match": etag}
        )
        assert again.status_code == 304
    live.stop()


def test_an_api_killed_mid_sweep_loses_nothing(settings: Settings) -> None:
    """SIGKILL the API (its worker dies with it) while a trial trains; a new API on the
    same database finishes the sweep: every trial once, none lost, none doubled."""
    slow = {"epochs": 80, "early_stopping_patience": None}
    body = {
        "model": "restart",
        "dataset": "digits",
        "base": {"architecture": {"hidden_sizes": [64]}, "training": slow},
        "grid": {"architecture.code_size": [2, 4, 8]},
        "max_parallel": 1,
    }
    first = LiveServer(settings, workers=1).start()
    with first.client() as client:
        sweep_id = client.post("/v1/sweeps", json=body).json()["id"]

        def second_trial_running() -> bool:
            trials = sweep_of(client, sweep_id)["trials"]
            return trials[0]["status"] == "succeeded" and trials[1]["status"] == "running"

        wait_for(second_trial_running, timeout_s=120, interval_s=0.1)
    first.stop(signal.SIGKILL)
    first.cleanup()
    second = LiveServer(settings, workers=1).start()
    with second.client() as client:
        sweep = ended(client, sweep_id, timeout_s=240)
        assert sweep["status"] == "succeeded", sweep["error"]
        trials = sweep["trials"]
        assert [t["status"] for t in trials] == ["succeeded"] * 3
        assert [t["params"]["architecture.code_size"] for t in trials] == [2, 4, 8]
        jobs = client.get("/v1/jobs", params={"model_name": "restart"}).json()
        assert jobs["count"] == 3  # no trial queued twice
        assert {j["id"] for j in jobs["data"]} == {t["job_id"] for t in trials}
        events = client.get(f"/v1/jobs/{trials[1]['job_id']}/events").text
        assert events.count('"status":"running"') == 2  # killed mid-training, run again
    second.stop()


def test_cancel_stops_the_running_trial_and_queues_no_more(settings: Settings) -> None:
    live = LiveServer(settings, workers=1).start()
    slow = {"epochs": 2000, "early_stopping_patience": None}
    body = {
        "model": "cancelled",
        "dataset": "digits",
        "base": {"architecture": {"hidden_sizes": [64]}, "training": slow},
        "grid": {"architecture.code_size": [2, 4, 8]},
        "max_parallel": 2,
    }
    with live.client() as client:
        sweep_id = client.post("/v1/sweeps", json=body).json()["id"]
        wait_for(
            lambda: sweep_of(client, sweep_id)["trials"][0]["status"] == "running", timeout_s=60
        )
        cancelled = client.post(f"/v1/sweeps/{sweep_id}/cancel").json()
        assert cancelled["status"] == "cancelled"
        statuses = [t["status"] for t in cancelled["trials"]]
        assert statuses == ["cancelling", "cancelled", "skipped"]

        def trial_stopped() -> bool:
            return sweep_of(client, sweep_id)["trials"][0]["status"] == "cancelled"

        wait_for(trial_stopped, timeout_s=60)  # at its next heartbeat, not after 2000 epochs
        time.sleep(1.5)  # an advancer pass or two: nothing is queued after the cancel
        ended = sweep_of(client, sweep_id)
        assert ended["status"] == "cancelled"
        assert [t["status"] for t in ended["trials"]] == ["cancelled", "cancelled", "skipped"]
        assert client.get("/v1/jobs", params={"model_name": "cancelled"}).json()["count"] == 2
    live.stop()


def aesvc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_aesvc_sweep_follows_a_live_table_to_the_recommended_version(settings: Settings) -> None:
    live = LiveServer(settings, workers=2).start()
    run = aesvc(
        "sweep", "--dataset", "digits", "--code-sizes", "2,8", "--kinds", "dense,vae",
        "--epochs", "3", "--hidden-sizes", "16", "--model", "cli-sweep", "--promote", "best",
        "--follow", "--url", live.base_url,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 trials of model cli-sweep" in run.stdout
    assert "recommended" in run.stdout and "best" in run.stdout
    with live.client() as client:
        sweep = client.get("/v1/sweeps").json()["data"][0]
        chosen = client.get(f"/v1/sweeps/{sweep['id']}").json()["recommended"]
    last_line = run.stdout.strip().splitlines()[-1]
    assert last_line.startswith(f"recommended: model cli-sweep version {chosen['model_version']} ")
    assert f"code size {chosen['code_size']}" in last_line
    bad = aesvc("sweep", "--dataset", "digits", "--code-sizes", "2,64", "--url", live.base_url)
    assert bad.returncode == 1 and "grid.architecture.code_size" in bad.stderr
    # a sweep whose every trial fails: the command says so and exits 1
    failing = aesvc(
        "sweep", "--dataset", "no-such-dataset", "--code-sizes", "2", "--follow",
        "--url", live.base_url,
    )  # fmt: skip
    assert failing.returncode == 1 and "404" in failing.stderr
    live.stop()
