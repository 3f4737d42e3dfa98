"""At most MAX_SWEEP_CHECKS sweeps are checked at once; past them a quick 503 with
Retry-After. A sweep's checks build and measure every trial's network on a threadpool
thread, which the synchronous routes share (/healthz and /readyz among them): a 4 KB
search space took 17.6 s, and 45 such sweeps sent at once (a `train` key, 190 KB in all)
held /healthz past 60 s. The checks are slowed here instead of made big."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.sweeps import service as sweeps_service

BODY = {
    "dataset": "pca3d",
    "base": {"training": {"epochs": 1}},
    "grid": {"architecture.code_size": [1, 2]},
}


def test_sweeps_past_the_checks_in_progress_are_503_at_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sweeps_service.planned_trials

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.5)  # as a large search space takes
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps_service, "planned_trials", slow)
    answers: list[tuple[float, httpx.Response]] = []

    def submit(i: int) -> None:
        started = time.monotonic()
        answer = client.post("/v1/sweeps", json={**BODY, "model": f"capped-{i}"})
        answers.append((time.monotonic() - started, answer))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    checked = [a for _, a in answers if a.status_code == 202]
    refused = [(s, a) for s, a in answers if a.status_code == 503]
    assert len(checked) == sweeps_service.MAX_SWEEP_CHECKS, [a.text for _, a in answers]
    assert len(refused) == 6 - sweeps_service.MAX_SWEEP_CHECKS
    assert all(s < 1.0 and a.headers["retry-after"] for s, a in refused)
    assert "retry shortly" in refused[0][1].json()["detail"]
    assert client.post("/v1/sweeps", json={**BODY, "model": "after"}).status_code == 202
