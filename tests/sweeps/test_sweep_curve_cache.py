"""The sweep's curve plot was rendered on every GET, finished sweep or not: 0.3 s of CPU
for a request of 100 bytes. It is kept (the plot cache) under the hash of the sweep's
answer, which it is drawn from alone: a sweep that has not changed is rendered once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.sweeps import plots
from tests.sweeps.test_sweeps_api import start, sweep_body


def test_the_curve_of_an_unchanged_sweep_is_rendered_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[str] = []
    curve_png = plots.curve_png

    def counted(sweep: Any) -> bytes:
        renders.append(sweep.id)
        return curve_png(sweep)

    monkeypatch.setattr(plots, "curve_png", counted)
    sweep = start(client, sweep_body(grid={"architecture.code_size": [2, 3]}))
    url = f"/v1/sweeps/{sweep['id']}/plots/curve.png"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.content.startswith(b"\x89PNG")
    assert renders == [sweep["id"]]
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.post(f"/v1/sweeps/{sweep['id']}/cancel").status_code == 200
    assert client.get(url).status_code == 200
    assert renders == [sweep["id"]] * 2  # a sweep that changed is drawn again
