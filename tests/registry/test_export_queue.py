"""ONNX exports are built one at a time (_EXPORT_LOCK: the exporter is not thread-safe),
about a second of CPU each, and every request waiting for the lock holds one of the
threadpool's 40 threads. Downloads of 60 versions' parts not yet built (80 bytes each, the
`read` scope) left every synchronous route waiting behind them: a GET of a version took
15 s, /metrics 8 s, /readyz answered 503 (a balancer takes the instance out) and some of the
exports themselves 503 (here: 14 s). Now at most MAX_QUEUED_BUILDS (4) builds run or wait;
past them a download is a quick 503 with Retry-After."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from service.config import Settings
from service.registry.service import weights_blob
from tests.live import LiveServer
from tests.registry.builders import make_model

MODELS, PARTS = 20, ("full", "encoder", "decoder")  # 60 builds: past the threadpool's 40


@pytest.mark.slow
@pytest.mark.alone
def test_queued_onnx_exports_leave_other_routes_answering(settings: Settings) -> None:
    server = LiveServer(settings, workers=0).start()
    with server.client() as http:
        for i in range(MODELS):
            model, config = make_model(kind="dense", n_features=64, code_size=4, seed=i)
            blob = weights_blob(model.state_dict(), config, {})
            created = http.post(f"/v1/models/m{i}/versions", files={"file": ("m.st", blob)})
            assert created.status_code == 201, created.text

    answers: list[httpx.Response] = []

    def export(i: int, part: str) -> None:
        url = f"{server.base_url}/v1/models/m{i}/versions/1/artifact?format=onnx&part={part}"
        answers.append(httpx.get(url, timeout=300))

    threads = [threading.Thread(target=export, args=(i, p)) for i in range(MODELS) for p in PARTS]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        started = time.monotonic()
        answer = httpx.get(f"{server.base_url}/v1/models/m0/versions/1", timeout=300)
        waited = time.monotonic() - started
        ready = httpx.get(f"{server.base_url}/readyz", timeout=300).status_code
    finally:
        for thread in threads:
            thread.join()
    assert answer.status_code == 200
    assert waited < 2.0, f"a version's GET waited {waited:.1f} s (/readyz: {ready})"
    assert ready == 200
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) == {200, 503}, statuses  # some built, the rest told to come back
    assert all(r.headers.get("retry-after") for r in answers if r.status_code == 503)
