"""A page of models ends early where its descriptions and tags would pass MODEL_PAGE_CHARS
together (one model at least), and its token goes on from there. A model may hold a
description of 10,000 characters and 64 tags of 1,152: 1,000 such models made one page of
`GET /v1/models?limit=1000` 84 MB, and eight of those at once (a `read` key) grew the server
by 1.95 GB and held /healthz 1.5 s."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.cli_client import _every_model
from service.registry.service import MODEL_PAGE_CHARS
from tests.registry.builders import import_model

TAGS = {f"{i:0128d}": "v" * 1024 for i in range(64)}
PER_MODEL = 10_000 + 64 * (128 + 1024)


def test_a_page_of_large_models_ends_early_and_goes_on(client: TestClient) -> None:
    n = MODEL_PAGE_CHARS // PER_MODEL + 3
    for i in range(n):
        import_model(client, f"m{i:03d}")
        r = client.patch(f"/v1/models/m{i:03d}", json={"tags": TAGS, "description": "d" * 10_000})
        assert r.status_code == 200, r.text[:300]
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 1000, **({"page_token": token} if token else {})}
        page = client.get("/v1/models", params=params).json()
        pages += 1
        assert page["count"] == n
        assert len(page["data"]) * PER_MODEL <= MODEL_PAGE_CHARS or len(page["data"]) == 1
        seen += [m["name"] for m in page["data"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [f"m{i:03d}" for i in range(n)] and pages > 1
    assert [m["name"] for m in _every_model(client)] == seen  # `aesvc models` reads them all


def test_small_models_fill_a_page(client: TestClient) -> None:
    for i in range(3):
        import_model(client, f"s{i}")
    page = client.get("/v1/models", params={"limit": 1000}).json()
    assert len(page["data"]) == 3 and page["next_page_token"] is None
