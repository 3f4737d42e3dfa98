"""ETags on JSON resources: If-None-Match -> 304 for pollers, If-Match -> 412 for writers."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.live import running
from tests.registry.builders import import_model

M = "/v1/models/ae"


def test_a_poller_gets_304_until_the_resource_changes(client: TestClient) -> None:
    import_model(client, "ae", seed=0)
    first = client.get(M)
    tag = first.headers["ETag"]
    assert tag.startswith('"') and len(tag) > 10
    same = client.get(M, headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b"" and same.headers["ETag"] == tag
    assert client.get(M, headers={"If-None-Match": '"other", ' + tag}).status_code == 304
    assert client.patch(M, json={"description": "changed"}).status_code == 200
    changed = client.get(M, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["description"] == "changed"
    # lists carry one too; binary and event routes keep their own handling
    assert client.get("/v1/models").headers["ETag"]
    schema = client.get("/openapi.json").json()
    read = schema["paths"]["/v1/models/{name}"]["get"]["responses"]
    assert "ETag" in read["200"]["headers"] and "304" in read


def test_an_alias_move_with_a_stale_etag_is_412_and_changes_nothing(client: TestClient) -> None:
    for seed in range(3):
        import_model(client, "ae", seed=seed)
    created = client.put(f"{M}/aliases/prod", json={"version": 1})
    tag = created.headers["ETag"]
    assert client.get(f"{M}/aliases/prod").headers["ETag"] == tag  # PUT's ETag is GET's
    moved = client.put(f"{M}/aliases/prod", json={"version": 2}, headers={"If-Match": tag})
    assert moved.status_code == 200, moved.text
    stale = client.put(f"{M}/aliases/prod", json={"version": 3}, headers={"If-Match": tag})
    assert stale.status_code == 412, stale.text
    assert stale.json()["code"] == "etag_mismatch"
    assert client.get(f"{M}/aliases/prod").json()["version"] == 2
    # "*": only if it exists; delete with the current ETag works, with the old one not
    assert (
        client.put(f"{M}/aliases/new", json={"version": 1}, headers={"If-Match": "*"}).status_code
        == 412
    )
    assert client.delete(f"{M}/aliases/prod", headers={"If-Match": tag}).status_code == 412
    current = client.get(f"{M}/aliases/prod").headers["ETag"]
    assert client.delete(f"{M}/aliases/prod", headers={"If-Match": current}).status_code == 204
    schema = client.get("/openapi.json").json()["paths"]
    assert "412" in schema["/v1/models/{name}/aliases/{alias}"]["put"]["responses"]


def test_model_patch_and_deletes_honour_if_match(client: TestClient) -> None:
    import_model(client, "ae", seed=0)
    import_model(client, "ae", seed=1)
    tag = client.get(M).headers["ETag"]
    client.put(f"{M}/aliases/prod", json={"version": 2})  # the model's aliases changed
    assert client.patch(M, json={"tags": {"a": "b"}}, headers={"If-Match": tag}).status_code == 412
    version_tag = client.get(f"{M}/versions/1").headers["ETag"]
    assert client.delete(f"{M}/versions/1", headers={"If-Match": '"nope"'}).status_code == 412
    assert client.delete(f"{M}/versions/1", headers={"If-Match": version_tag}).status_code == 204
    assert client.delete(M, headers={"If-Match": tag}).status_code == 412
    assert client.delete(M, headers={"If-Match": client.get(M).headers["ETag"]}).status_code == 204
    files = {"file": ("x.csv", b"a,b\n1,2\n3,4\n", "text/csv")}
    client.post("/v1/datasets", files=files, data={"name": "d"})
    dataset_tag = client.get("/v1/datasets/d").headers["ETag"]
    assert client.delete("/v1/datasets/d", headers={"If-Match": '"x"'}).status_code == 412
    assert client.delete("/v1/datasets/d", headers={"If-Match": dataset_tag}).status_code == 204


@pytest.mark.slow  # a real `aesvc serve`
def test_two_pipelines_promoting_at_once_from_one_etag_one_wins(settings: Settings) -> None:
    """On a live server, 8 concurrent moves of `production` from the same ETag, each to
    another version: exactly one 200, the rest 412, and the alias is where the winner put it."""
    with running(settings, workers=0) as live, live.client() as http:
        for seed in range(9):
            import_model(http, "ae", seed=seed)  # type: ignore[arg-type]
        http.put(f"{M}/aliases/production", json={"version": 1})
        tag = http.get(f"{M}/aliases/production").headers["ETag"]
        answers: dict[int, int] = {}
        barrier = threading.Barrier(8)

        def promote(version: int) -> None:
            with live.client() as own:
                barrier.wait()
                answers[version] = own.put(
                    f"{M}/aliases/production", json={"version": version}, headers={"If-Match": tag}
                ).status_code

        threads = [threading.Thread(target=promote, args=(v,)) for v in range(2, 10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        winners = [v for v, status in answers.items() if status == 200]
        assert len(answers) == 8 and len(winners) == 1, answers
        assert sorted(set(answers.values())) == [200, 412]
        assert http.get(f"{M}/aliases/production").json()["version"] == winners[0]
