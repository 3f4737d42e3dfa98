"""If-Match uses the strong comparison (RFC 9110 13.1.1): a weak tag W/"..." never
matches, so a write sent with one is 412."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.registry.builders import import_model

M = "/v1/models/ae"


def test_a_weak_etag_in_if_match_is_412(client: TestClient) -> None:
    for seed in range(2):
        import_model(client, "ae", seed=seed)
    created = client.put(f"{M}/aliases/prod", json={"version": 1})
    tag = created.headers["ETag"]
    weak = client.put(f"{M}/aliases/prod", json={"version": 2}, headers={"If-Match": f"W/{tag}"})
    assert weak.status_code == 412, weak.text
    assert client.get(f"{M}/aliases/prod").json()["version"] == 1
