"""A 1-D list where rows belong: one 422 that says how to send rows, not one per value."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.registry.builders import import_model


def test_one_dimensional_inputs_are_one_error_with_the_fix(client: TestClient) -> None:
    import_model(client, "flat")
    for operation, field, width in (("encode", "inputs", 6), ("decode", "codings", 2)):
        response = client.post(
            f"/v1/models/flat/versions/1/{operation}", json={field: [1.0] * width}
        )
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == [field], errors
        assert "list of lists: [[...]]" in errors[0]["message"]


def test_root_redirects_to_the_dashboard(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 307) and response.headers["location"] == "/ui"
