"""Accept is negotiated as RFC 9110 says: q=0 refuses .npy, the higher q wins, media types
match whole and without case (it was a substring test: `application/x-npy;q=0` got .npy)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.inference.conftest import DIGITS

AE = "/v1/models/digits-ae/versions/1"


@pytest.mark.parametrize(
    "accept",
    [
        "application/json, application/x-npy;q=0",
        "application/x-npy;q=0, */*",
        "application/json;q=1.0, application/x-npy;q=0.1",
        "application/x-npy-compressed, application/json;q=0.5",
    ],
)
def test_json_is_served_when_the_client_does_not_prefer_npy(
    served: TestClient,
    accept: str,
) -> None:
    response = served.post(
        f"{AE}/encode", json={"inputs": DIGITS[:2].tolist()}, headers={"accept": accept}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("accept", ["Application/X-NPY", "APPLICATION/x-npy"])
def test_media_types_in_accept_are_case_insensitive(served: TestClient, accept: str) -> None:
    response = served.post(
        f"{AE}/encode", json={"inputs": DIGITS[:2].tolist()}, headers={"accept": accept}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-npy"  # RFC 9110 §8.3.1
