"""The {ref} cache is keyed by what a ref names, not by how the client spelled it: "1",
"01" and "0...01" are one version, and one entry. Each spelling was an entry of its own,
never dropped until the model changed (its time to live is checked on reading only), so a
client that sent the same encode with ever more leading zeros grew the API's memory by
its path's bytes (20,000 such requests, 252 MB sent: 227 MB more RSS, kept)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.inference.runtime.cache import ModelCache
from tests.registry.builders import import_model

SPELLINGS = 200


def test_spellings_of_one_version_share_one_cache_entry(client: TestClient) -> None:
    import_model(client, "spelled", n_features=6, code_size=2)
    cache: ModelCache = client.app.state.ctx.model_cache  # type: ignore[attr-defined]
    for zeros in range(SPELLINGS):
        ref = "0" * zeros + "1"
        r = client.post(f"/v1/models/spelled/versions/{ref}/encode", json={"inputs": [[1.0] * 6]})
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1
    kept = [key for key in cache._refs if key[0] == "spelled"]
    assert kept == [("spelled", "1")]
    assert cache.lookup_ref("spelled", "0001", ttl_s=60.0) is not None  # any spelling hits
