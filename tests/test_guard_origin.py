"""The request guard must answer any Origin header, never with a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app

DEFAULT_HOSTS = Settings.model_fields["allowed_hosts"].default


@pytest.fixture
def local(settings: Settings) -> Iterator[TestClient]:
    app = create_app(
        settings.model_copy(update={"allowed_hosts": DEFAULT_HOSTS}), start_workers=False
    )
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "http://]x"])
@pytest.mark.parametrize(
    "path", ["/v1/jobs", "/v1/models/m/versions/1/encode", "/v2/models/m/infer"]
)
def test_an_unparsable_origin_on_a_state_change_is_403_not_500(
    local: TestClient, origin: str, path: str
) -> None:
    response = local.post(path, json={}, headers={"Origin": origin})
    assert response.status_code == 403, (response.status_code, response.text[:200])
