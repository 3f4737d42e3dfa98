"""A dataset's two views (AIP-157): `basic` without the per-feature arrays, the listing's
default; `full`, the single read's default, rendered once and kept; a full listing's page
ends early at FULL_PAGE_FEATURES features (AIP-158's short pages)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from service.datasets import service as datasets_service
from service.datasets.parsing import MAX_FEATURES
from service.datasets.schemas import FULL_PAGE_FEATURES, DatasetsPublic
from service.json_answers import CHUNK_BYTES
from tests.datasets.conftest import Upload
from tests.factories import csv_bytes, npy_bytes, random_matrix

PER_FEATURE = ("feature_names", "stats")


def _walk(client: TestClient, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of the listing, in order."""
    pages: list[list[dict[str, Any]]] = []
    token = None
    while len(pages) < 50:
        query = {**params, **({"page_token": token} if token else {})}
        answer = client.get("/v1/datasets", params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["data"])
        token = body["next_page_token"]
        if token is None:
            return pages
    raise AssertionError("the listing did not end")


def test_the_basic_view_is_the_full_one_without_the_per_feature_arrays(
    client: TestClient, upload: Upload
) -> None:
    X = random_matrix(30, 5)
    labels = ["cat", "dog", "emu"] * 10
    created = upload(
        "pets.csv", csv_bytes(X, header=list("abcde"), labels=labels), name="pets",
        label_column="label",
    )  # fmt: skip
    assert created.status_code == 201, created.text
    full = client.get("/v1/datasets/pets").json()  # the single read: full by default
    assert full == client.get("/v1/datasets/pets", params={"view": "full"}).json()
    assert full == created.json()
    assert full["feature_names"] == list("abcde") and len(full["stats"]["mean"]) == 5
    basic = client.get("/v1/datasets/pets", params={"view": "basic"}).json()
    assert basic == {**full, "feature_names": None, "stats": None}
    assert basic["label_names"] == ["cat", "dog", "emu"] and basic["profile"]["n_features"] == 5

    listed = client.get("/v1/datasets").json()["data"]  # the listing: basic by default
    assert {d["name"] for d in listed} == {"digits", "pca3d", "breast_cancer", "pets"}
    assert all(d[f] is None for d in listed for f in PER_FEATURE)
    assert all(d["profile"] is not None for d in listed)
    assert next(d for d in listed if d["name"] == "pets") == basic
    full_list = client.get("/v1/datasets", params={"view": "full"}).json()
    DatasetsPublic.model_validate(full_list)
    for d in full_list["data"]:
        assert d == client.get(f"/v1/datasets/{d['id']}").json()


def test_an_unknown_view_is_a_422_naming_view(client: TestClient) -> None:
    for path in ("/v1/datasets", "/v1/datasets/digits"):
        for view in ("FULL", "everything", ""):
            answer = client.get(path, params={"view": view})
            assert answer.status_code == 422, answer.text
            assert [e["field"] for e in answer.json()["errors"]] == ["view"], answer.text


def test_a_full_listing_ends_its_page_at_the_feature_budget_and_pages_on(
    client: TestClient, upload: Upload
) -> None:
    """The built-ins (64 + 3 + 30 features), then 150,000, 120,000 and 10 features: the
    first full page stops before the 120,000 (it would pass 262,144), the next holds the
    rest; the basic view takes them all in one page."""
    assert FULL_PAGE_FEATURES == MAX_FEATURES
    for name, width in (("wide", 150_000), ("wider", 120_000), ("narrow", 10)):
        created = upload(f"{name}.npy", npy_bytes(random_matrix(2, width)), name=name)
        assert created.status_code == 201, created.text
    pages = _walk(client, view="full")
    names = [[d["name"] for d in page] for page in pages]
    assert names == [["digits", "pca3d", "breast_cancer", "wide"], ["wider", "narrow"]]
    assert all(sum(d["n_features"] for d in page) <= FULL_PAGE_FEATURES for page in pages)
    assert all(len(d["feature_names"]) == d["n_features"] for page in pages for d in page)
    assert len(_walk(client)) == 1  # basic: no budget
    # newest first, two a page: the budget and the limit, whichever ends the page first
    pages = _walk(client, view="full", limit=2, order_by="-created_at")
    names = [[d["name"] for d in page] for page in pages]
    assert names == [["narrow", "wider"], ["wide", "breast_cancer"], ["pca3d", "digits"]]


def test_a_dataset_wider_than_the_budget_has_a_page_of_its_own(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(No dataset may be wider than the real budget: here a smaller one.)"""
    monkeypatch.setattr(datasets_service, "FULL_PAGE_FEATURES", 50)
    pages = _walk(client, view="full")  # 64, then 3 + 30, then the end
    assert [[d["name"] for d in page] for page in pages] == [["digits"], ["pca3d", "breast_cancer"]]


def test_a_wide_full_answer_is_chunked_tagged_and_answers_304(
    client: TestClient, upload: Upload
) -> None:
    created = upload("w.npy", npy_bytes(random_matrix(2, 20_000)), name="w")
    assert created.status_code == 201, created.text
    answer = client.get("/v1/datasets/w")
    assert answer.status_code == 200
    assert len(answer.content) > CHUNK_BYTES  # streamed in chunks
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == created.json()
    tag = answer.headers["etag"]
    again = client.get("/v1/datasets/w", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and "content-length" not in again.headers
    basic = client.get("/v1/datasets/w", params={"view": "basic"})
    assert basic.headers["etag"] != tag
    assert client.get("/v1/datasets/w", headers={"If-None-Match": '"other"'}).status_code == 200
    # a full listing of that page: tagged too
    listing = client.get("/v1/datasets", params={"view": "full"})
    retag = client.get(
        "/v1/datasets", params={"view": "full"}, headers={"If-None-Match": listing.headers["etag"]}
    )
    assert retag.status_code == 304


def test_a_delete_takes_the_etag_of_either_view(client: TestClient, upload: Upload) -> None:
    for name in ("a", "b"):
        assert upload(f"{name}.npy", npy_bytes(random_matrix(3, 4)), name=name).status_code == 201
    stale = client.get("/v1/datasets/a").headers["etag"]
    refused = client.delete("/v1/datasets/b", headers={"If-Match": stale})
    assert refused.status_code == 412, refused.text
    for name, view in (("a", "basic"), ("b", "full")):
        tag = client.get(f"/v1/datasets/{name}", params={"view": view}).headers["etag"]
        deleted = client.delete(f"/v1/datasets/{name}", headers={"If-Match": tag})
        assert deleted.status_code == 204, deleted.text


def test_a_name_given_again_after_a_delete_reads_the_new_dataset(
    client: TestClient, upload: Upload
) -> None:
    """The full view is kept by dataset id; a new upload under the same name is another."""
    first = upload("x.npy", npy_bytes(random_matrix(3, 4)), name="x").json()
    assert client.get("/v1/datasets/x").json()["n_features"] == 4
    assert client.delete("/v1/datasets/x").status_code == 204
    assert client.get(f"/v1/datasets/{first['id']}").status_code == 404
    X = np.arange(14, dtype=np.float32).reshape(2, 7)
    second = upload("x.npy", npy_bytes(X), name="x").json()
    read = client.get("/v1/datasets/x").json()
    assert read["id"] == second["id"] and read["n_features"] == 7
    assert read["stats"]["max"] == X.max(axis=0).tolist()


def test_a_basic_listing_and_read_never_read_the_per_feature_columns(
    client: TestClient, upload: Upload
) -> None:
    """The profile has its own column (migration 0012): read out of `stats` by a JSON path,
    it had the database parse a wide dataset's megabytes of `stats` for each listed one."""
    assert upload("rows.npy", npy_bytes(random_matrix(20, 4)), name="rows").status_code == 201
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    engine = client.app.state.ctx.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        listed = client.get("/v1/datasets").json()["data"]
        basic = client.get("/v1/datasets/rows", params={"view": "basic"}).json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert all(d["profile"]["n_features"] == d["n_features"] for d in listed)
    assert basic["profile"]["n_rows"] == 20
    dataset_reads = [s for s in statements if "from dataset" in s]
    assert dataset_reads and not [s for s in dataset_reads if "stats" in s], dataset_reads
