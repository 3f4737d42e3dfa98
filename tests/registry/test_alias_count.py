"""A model holds at most MAX_ALIASES aliases: every read of the model lists them, and every
read of one of its versions (each row of a page of versions) read them all. 20,000 aliases
(admin PUTs of 120 bytes, 4 ms each) made a page of 50 versions take 7.8 s, and four such
pages at once 53 s, each holding a worker thread and a database connection throughout."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.registry.aliases import MAX_ALIASES
from tests.registry.builders import import_model

M = "/v1/models/ae"


def test_a_model_holds_at_most_its_share_of_aliases(client: TestClient) -> None:
    import_model(client, "ae")
    for i in range(MAX_ALIASES):
        r = client.put(f"{M}/aliases/a{i}", json={"version": 1})
        assert r.status_code == 200, r.text
    refused = client.put(f"{M}/aliases/one-more", json={"version": 1})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "alias", refused.text
    assert str(MAX_ALIASES) in refused.json()["errors"][0]["message"]
    assert client.get(f"{M}/aliases/one-more").status_code == 404  # nothing stored
    assert client.put(f"{M}/aliases/a0", json={"version": 1}).status_code == 200  # a move
    assert client.delete(f"{M}/aliases/a0").status_code == 204
    assert client.put(f"{M}/aliases/one-more", json={"version": 1}).status_code == 200
    assert len(client.get(M).json()["aliases"]) == MAX_ALIASES + 1  # and latest
