"""A page of versions ends early where its versions' metrics would pass VERSION_PAGE_BYTES
of JSON together (one version at least), and its token goes on from there. An import's
metrics may hold 64 KiB besides the serving statistics, and a trained version's coding_mean
is code_size numbers: 1,000 versions of 63 KB made one page of
`GET /v1/models/m/versions?limit=1000` 64 MB in 2.8 s, and eight of those at once (a `read`
key) took 36 s, grew the server by 2.9 GB and held /healthz 4.9 s."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from service.registry.service import VERSION_PAGE_BYTES
from tests.registry.builders import model_blob

URL = "/v1/models/m/versions"
METRICS = json.dumps({"notes": "x" * 60_000})


def test_a_page_of_versions_with_large_metrics_ends_early_and_goes_on(
    client: TestClient,
) -> None:
    n = VERSION_PAGE_BYTES // 60_000 + 3
    blob, _ = model_blob()
    for _ in range(n):
        r = client.post(URL, files={"file": ("m.safetensors", blob)}, data={"metrics": METRICS})
        assert r.status_code == 201, r.text[:300]
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 1000, **({"page_token": token} if token else {})}
        page = client.get(URL, params=params).json()
        pages += 1
        assert page["count"] == n
        assert len(json.dumps(page)) < VERSION_PAGE_BYTES + 100_000
        seen += [v["version"] for v in page["data"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == list(range(1, n + 1)) and pages > 1
