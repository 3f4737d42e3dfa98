"""Every inference answer, JSON as well as .npy, names the version that answered in
X-Model-Version, as the OpenAPI contract declares for every inference 200 (an alias or
`latest` resolved); JSON answers carried none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.inference.conftest import DIGITS

LATEST = "/v1/models/digits-ae/versions/latest"
BODIES = {
    "encode": {"inputs": DIGITS[:2].tolist()},
    "decode": {"codings": [[0.0] * 4]},
    "reconstruct": {"inputs": DIGITS[:2].tolist()},
    "score": {"inputs": DIGITS[:2].tolist()},
    "generate": {"n": 2, "seed": 1},
    "interpolate": {"start": DIGITS[0].tolist(), "end": DIGITS[1].tolist(), "steps": 3},
}


@pytest.mark.parametrize("op", sorted(BODIES))
def test_json_answer_names_the_version_that_answered_in_x_model_version(
    served: TestClient,
    op: str,
) -> None:
    response = served.post(f"{LATEST}/{op}", json=BODIES[op])
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    # declared on every inference 200 in openapi/openapi.json (service/openapi_contract.py)
    assert response.headers.get("x-model-version") == "1"


def test_openapi_declares_x_model_version_on_the_json_answer_too(served: TestClient) -> None:
    op = served.get("/openapi.json").json()["paths"]["/v1/models/{name}/versions/{ref}/encode"][
        "post"
    ]["responses"]["200"]
    assert "application/json" in op["content"] and "X-Model-Version" in op["headers"]
    response = served.post(f"{LATEST}/encode", json=BODIES["encode"])
    assert "x-model-version" in response.headers
