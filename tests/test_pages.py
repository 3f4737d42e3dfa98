"""Cursor pages: every row once, whatever arrives between pages; tokens bound to their query."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from service.pages import _scope
from tests.factories import csv_bytes, job_body, random_matrix


def _submit(client: TestClient, n: int, model: str = "m") -> list[str]:
    ids = []
    for _ in range(n):
        response = client.post("/v1/jobs", json=job_body(model_name=model))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def _walk(client: TestClient, path: str, **params: Any) -> tuple[list[str], int]:
    """Every page of a list; returns the ids in order and how many pages it took."""
    seen: list[str] = []
    token, pages = None, 0
    while True:
        query = {**params, **({"page_token": token} if token else {})}
        body = client.get(path, params=query).json()
        seen += [str(row.get("id") or row.get("name") or row["version"]) for row in body["data"]]
        pages += 1
        token = body["next_page_token"]
        if token is None:
            return seen, pages
        assert pages < 100


def test_jobs_page_by_cursor_newest_first_and_a_job_arriving_between_pages_shifts_nothing(
    client: TestClient,
) -> None:
    ids = _submit(client, 7)
    first = client.get("/v1/jobs", params={"limit": 3}).json()
    assert first["count"] == 7
    assert len(first["data"]) == 3 and first["next_page_token"]
    newcomer = _submit(client, 1)[0]  # offset pages would now repeat a job
    rest, pages = [], 0
    token = first["next_page_token"]
    while token:
        body = client.get("/v1/jobs", params={"limit": 3, "page_token": token}).json()
        rest += [row["id"] for row in body["data"]]
        token, pages = body["next_page_token"], pages + 1
    walked = [row["id"] for row in first["data"]] + rest
    assert sorted(walked) == sorted(ids)  # each submitted job once, the newcomer not
    assert newcomer not in walked
    assert pages == 2
    oldest_first, _ = _walk(client, "/v1/jobs", limit=2, order_by="created_at")
    newest_first, _ = _walk(client, "/v1/jobs", limit=2)
    assert oldest_first == newest_first[::-1] and len(oldest_first) == 8


def test_a_token_is_refused_with_other_filters_or_order_and_garbage_names_the_field(
    client: TestClient,
) -> None:
    _submit(client, 3)
    token = client.get("/v1/jobs", params={"limit": 1}).json()["next_page_token"]
    for params in (
        {"page_token": token, "status": "running"},
        {"page_token": token, "order_by": "created_at"},
        {"page_token": "not-a-token"},
        {"page_token": "e30"},  # "{}": well-formed, not ours
    ):
        response = client.get("/v1/jobs", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["errors"][0]["field"] == "page_token"
    bad_order = client.get("/v1/jobs", params={"order_by": "name"})
    assert bad_order.status_code == 422
    assert bad_order.json()["errors"][0]["field"] == "order_by"
    both = client.get("/v1/jobs", params={"offset": 1, "page_token": token})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "offset"


@pytest.mark.parametrize(
    ("value", "row_id"),
    [
        ("not a date", "x"),  # a string where a datetime belongs
        ({"t": "2020-01-01T00:00:00"}, "x"),  # a datetime without a zone
        (12, "x"),
        ({"t": "2020-01-01T00:00:00+00:00"}, [1, 2]),  # a list as the row id
        ({"t": "2020-01-01T00:00:00+00:00"}, {"a": 1}),
    ],
    ids=["string", "naive", "int", "list-id", "object-id"],
)
def test_a_token_made_by_hand_with_values_of_the_wrong_type_is_422(
    client: TestClient, value: object, row_id: object
) -> None:
    """The token's scope is a digest of public values (order_by, filters): anyone can make
    one. Its value and row id must still be what the column holds (was a 500)."""
    scope = _scope("created_at", {})  # the datasets list has no filters
    payload = {"s": scope, "v": value, "i": row_id}
    token = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()
    response = client.get("/v1/datasets", params={"order_by": "created_at", "page_token": token})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "page_token"


def test_offset_still_works_but_says_it_is_deprecated(client: TestClient) -> None:
    _submit(client, 3)
    response = client.get("/v1/jobs", params={"offset": 1, "limit": 1})
    assert response.status_code == 200 and len(response.json()["data"]) == 1
    assert response.headers["Deprecation"].startswith("@")
    assert "GMT" in response.headers["Sunset"]
    assert "Deprecation" not in client.get("/v1/jobs").headers
    schema = client.get("/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/v1/jobs"]["get"]["parameters"]}
    assert params["offset"]["deprecated"] is True
    assert params["order_by"]["schema"]["enum"] == ["-created_at", "created_at"]


@pytest.mark.parametrize("order_by", ["name", "-name", "created_at", "-created_at"])
def test_datasets_page_in_every_order(client: TestClient, order_by: str) -> None:
    before = client.get("/v1/datasets", params={"limit": 1000}).json()["count"]
    for i in range(5):
        files = {"file": (f"d{i}.csv", csv_bytes(random_matrix(10, 3, seed=i)), "text/csv")}
        response = client.post("/v1/datasets", files=files, data={"name": f"pages-{i}"})
        assert response.status_code == 201, response.text
    everything = client.get("/v1/datasets", params={"limit": 1000, "order_by": order_by}).json()
    assert everything["count"] == before + 5 and everything["next_page_token"] is None
    walked, pages = _walk(client, "/v1/datasets", limit=2, order_by=order_by)
    assert walked == [row["id"] for row in everything["data"]]
    assert pages == -(-(before + 5) // 2)
    names = [row["name"] for row in everything["data"]]
    if order_by.endswith("name"):
        assert names == sorted(names, reverse=order_by.startswith("-"))


def test_models_filtered_by_name_page_and_the_filter_is_part_of_the_token(
    client: TestClient,
) -> None:
    from service.registry.tables import Model

    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.session_factory() as session:
        session.add_all([Model(name=f"pager-{i:02d}") for i in range(5)] + [Model(name="other")])
        session.commit()
    walked, pages = _walk(client, "/v1/models", limit=2, name_contains="pager")
    listed = client.get("/v1/models", params={"name_contains": "pager"}).json()["data"]
    assert walked == [row["name"] for row in listed]
    assert [row["name"] for row in listed] == [f"pager-{i:02d}" for i in range(5)]
    assert pages == 3
    token = client.get("/v1/models", params={"limit": 2, "name_contains": "pager"}).json()[
        "next_page_token"
    ]
    response = client.get("/v1/models", params={"page_token": token, "name_contains": "pag"})
    assert response.status_code == 422


def test_a_token_value_past_int64_does_not_fit_an_integer_column() -> None:
    """orjson reads 2**63 as an int; no database column holds it (SQLite: OverflowError)."""
    from service.pages import _fits
    from service.registry.tables import ModelVersion

    assert _fits(7, ModelVersion.version)
    assert not _fits(2**63, ModelVersion.version)
    assert not _fits(-(2**63) - 1, ModelVersion.version)


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
@pytest.mark.parametrize(
    ("path", "filters"),
    [
        ("/v1/jobs", {"status": None, "model_name": None}),
        ("/v1/batch-jobs", {"status": None, "model": None, "kind": "batch"}),
        ("/v1/sweeps", {"status": None}),
        ("/v1/datasets", {}),
    ],
)
def test_a_token_made_by_hand_with_a_moment_past_the_calendar_in_utc_is_422(
    client: TestClient, path: str, filters: dict[str, Any], moment: str
) -> None:
    """An aware moment that is a year 10,000 (or 0) in UTC: the database's UTC conversion
    overflowed (a 500 on every list sorted by created_at)."""
    payload = {"s": _scope("created_at", filters), "v": {"t": moment}, "i": "a" * 32}
    token = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()
    lenient = TestClient(client.app, raise_server_exceptions=False)
    response = lenient.get(path, params={"order_by": "created_at", "page_token": token})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "page_token"
