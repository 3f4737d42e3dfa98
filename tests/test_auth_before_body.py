"""A request without a key must be 401 before its body is read or parsed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app


@pytest.fixture
def secured(settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings.model_copy(update={"auth": "required"}), start_workers=False)
    with TestClient(app) as client:
        yield client


def test_malformed_json_without_a_key_is_401_not_422(secured: TestClient) -> None:
    """docs/SECURITY.md: without a key, nothing but the public routes; 401 without a key."""
    response = secured.post(
        "/v1/jobs", content=b'{"model": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401, (response.status_code, response.text)


def test_malformed_multipart_upload_without_a_key_is_401_not_400(secured: TestClient) -> None:
    """The upload's form is parsed (and its files spooled) before the key is checked."""
    response = secured.post(
        "/v1/datasets",
        content=b"--xyz\r\nnot a part header\r\n\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 401, (response.status_code, response.text)


def test_an_anonymous_upload_is_refused_before_the_file_is_spooled(
    secured: TestClient, settings: Settings
) -> None:
    """A 2 MiB file without a key: starlette spools parts over 1 MiB to a temp file; the
    request must be refused before any of it is read, so the parser never sees a part."""
    import starlette.formparsers as fp

    seen: list[str] = []
    original = fp.MultiPartParser.on_part_begin

    def spy(self: fp.MultiPartParser) -> None:
        seen.append("part")
        original(self)

    fp.MultiPartParser.on_part_begin = spy  # type: ignore[method-assign]
    try:
        response = secured.post(
            "/v1/datasets",
            files={"file": ("x.npy", b"\0" * (2 << 20), "application/octet-stream")},
            data={"name": "anon"},
        )
    finally:
        fp.MultiPartParser.on_part_begin = original  # type: ignore[method-assign]
    assert response.status_code == 401
    assert seen == [], "the anonymous upload's parts were parsed before the 401"
