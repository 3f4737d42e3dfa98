"""X-Forwarded-For is believed only from AESVC_TRUSTED_PROXIES: uvicorn's own default
trusts 127.0.0.1, so any local client could pick its address, and with it a fresh
per-address rate-limit bucket. A real `aesvc serve` on 127.0.0.1, auth disabled, the
limit on (burst 2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import module_settings
from tests.live import LiveServer, module_server

pytestmark = [pytest.mark.slow, pytest.mark.any_database]

ENV = {
    "AESVC_RATE_LIMIT_PER_S": "0.01",
    "AESVC_RATE_LIMIT_BURST": "2",
    "AESVC_BUILTIN_DATASETS": "false",
}


@pytest.fixture(scope="module", params=["", "127.0.0.1"], ids=["no-proxy", "local-proxy"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    data_dir: Path = tmp_path_factory.mktemp("proxies") / "var"
    env = {**ENV, "AESVC_TRUSTED_PROXIES": request.param}
    with module_settings(data_dir) as settings, module_server(settings, workers=0, env=env) as s:
        yield s, request.param


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(live: tuple[LiveServer, str]) -> None:
    server, trusted = live
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        plain = [client.get("/v1/jobs").status_code for _ in range(3)]
        assert plain == [200, 200, 429]  # the limit is on, per address
        forwarded = [
            client.get("/v1/jobs", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
            for i in range(5)
        ]
    # believed: each named address its own bucket; not: the connection's, already empty
    assert forwarded == ([200] * 5 if trusted else [429] * 5), forwarded
