"""Aliases: set, move, delete, history, latest, and every refusal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.registry.builders import import_model, raw_rows

M = "/v1/models/ae"


@pytest.fixture
def three_versions(client: TestClient) -> TestClient:
    for seed in range(3):
        import_model(client, "ae", seed=seed)
    return client


def test_alias_moves_are_recorded_in_order(three_versions: TestClient) -> None:
    client = three_versions
    first = client.put(f"{M}/aliases/prod", json={"version": 1})
    assert first.status_code == 200, first.text
    assert first.json()["alias"] == "prod" and first.json()["version"] == 1
    assert client.put(f"{M}/aliases/prod", json={"version": 2}).json()["version"] == 2
    assert client.put(f"{M}/aliases/prod", json={"version": 2}).status_code == 200  # no move
    assert client.delete(f"{M}/aliases/prod").status_code == 204
    assert client.put(f"{M}/aliases/prod", json={"version": 3}).status_code == 200

    history = client.get(f"{M}/aliases/prod/history").json()
    moves = [(e["from_version"], e["to_version"]) for e in history["data"]]
    assert moves == [(None, 1), (1, 2), (2, None), (None, 3)]
    assert history["count"] == 4
    assert all(e["actor"] is None and e["created_at"] for e in history["data"])
    page = client.get(f"{M}/aliases/prod/history", params={"offset": 1, "limit": 2}).json()
    assert [e["to_version"] for e in page["data"]] == [2, None] and page["count"] == 4

    assert client.get(f"{M}/aliases/prod").json()["version"] == 3
    assert client.get(f"{M}").json()["aliases"] == {"prod": 3, "latest": 3}
    assert client.get(f"{M}/versions/prod").json()["version"] == 3
    assert client.get(f"{M}/versions/3").json()["aliases"] == ["prod", "latest"]


def test_every_ref_takes_an_alias(three_versions: TestClient) -> None:
    client = three_versions
    client.put(f"{M}/aliases/staging", json={"version": 1})
    rows = raw_rows(3).tolist()
    by_alias = client.post(f"{M}/versions/staging/encode", json={"inputs": rows}).json()
    by_number = client.post(f"{M}/versions/1/encode", json={"inputs": rows}).json()
    assert by_alias["version"] == 1 and by_alias["codings"] == by_number["codings"]
    assert client.post(f"{M}/versions/latest/encode", json={"inputs": rows}).json()["version"] == 3
    artifact = client.get(f"{M}/versions/staging/artifact")
    assert (
        artifact.headers["x-checksum-sha256"]
        == client.get(f"{M}/versions/1").json()["artifact_sha256"]
    )


def test_latest_follows_the_newest_ready_version(three_versions: TestClient) -> None:
    client = three_versions
    assert client.get(f"{M}/aliases/latest").json() == {
        "model": "ae",
        "alias": "latest",
        "version": 3,
        "updated_at": None,
    }
    assert client.delete(f"{M}/versions/3").status_code == 204
    assert client.get(f"{M}/versions/latest").json()["version"] == 2
    assert client.get(f"{M}").json()["latest_version"] == 2
    import_model(client, "ae", seed=7)
    assert client.get(f"{M}/versions/latest").json()["version"] == 4


@pytest.mark.parametrize(
    ("alias", "where"),
    [
        ("latest", "latest"),
        ("123", "alias"),
        ("1st", "alias"),
        ("a" * 65, "alias"),
        ("a.b", "letter"),
    ],
)
def test_bad_alias_names_are_422(three_versions: TestClient, alias: str, where: str) -> None:
    client = three_versions
    response = client.put(f"{M}/aliases/{alias}", json={"version": 1})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "alias"
    assert where in response.json()["detail"]
    assert client.delete(f"{M}/aliases/{alias}").status_code == 422
    assert client.get(f"{M}/aliases/{alias}/history").status_code in (404, 422)
    assert set(client.get(f"{M}").json()["aliases"]) == {"latest"}


def test_alias_refusals(three_versions: TestClient) -> None:
    client = three_versions
    unknown = client.put(f"{M}/aliases/prod", json={"version": 9})
    assert unknown.status_code == 404 and "9" in unknown.json()["detail"]
    assert client.put("/v1/models/nope/aliases/prod", json={"version": 1}).status_code == 404
    assert client.put(f"{M}/aliases/prod", json={"version": 0}).status_code == 422
    assert client.put(f"{M}/aliases/prod", json={"v": 1}).status_code == 422

    assert client.delete(f"{M}/versions/2").status_code == 204
    archived = client.put(f"{M}/aliases/prod", json={"version": 2})
    assert archived.status_code == 409 and "archived" in archived.json()["detail"]

    assert client.delete(f"{M}/aliases/prod").status_code == 404
    assert client.get(f"{M}/aliases/prod").status_code == 404
    assert client.get(f"{M}/aliases/prod/history").status_code == 404
    assert client.get(f"{M}/versions/prod").status_code == 404
    # none of the refusals left an event behind
    client.put(f"{M}/aliases/prod", json={"version": 1})
    assert client.get(f"{M}/aliases/prod/history").json()["count"] == 1


def test_a_moved_alias_serves_the_new_version_on_the_next_request(
    three_versions: TestClient,
) -> None:
    client = three_versions
    rows = raw_rows(2).tolist()
    for version in (1, 2, 1, 3):
        assert client.put(f"{M}/aliases/prod", json={"version": version}).status_code == 200
        served = client.post(f"{M}/versions/prod/encode", json={"inputs": rows}).json()
        assert served["version"] == version  # not a {ref} remembered from before the move
    client.delete(f"{M}/aliases/prod")
    assert client.post(f"{M}/versions/prod/encode", json={"inputs": rows}).status_code == 404


def test_version_numbers_past_32_bits_are_404_or_422_not_500(three_versions: TestClient) -> None:
    """model_version.version is 32-bit on PostgreSQL: huge numbers must not reach it."""
    client = three_versions
    huge = 2**40
    assert client.get(f"{M}/versions/{huge}").status_code == 404
    rows = raw_rows(1).tolist()
    assert client.post(f"{M}/versions/{huge}/encode", json={"inputs": rows}).status_code == 404
    assert client.put(f"{M}/aliases/prod", json={"version": huge}).status_code == 422
    assert client.delete(f"{M}/versions/{huge}").status_code == 404  # the same {ref} as GET
