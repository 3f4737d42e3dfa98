"""Upload helpers shared by the dataset tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.config import Settings

Upload = Callable[..., httpx.Response]


@pytest.fixture
def upload(client: TestClient) -> Upload:
    def post(
        filename: str,
        data: bytes,
        *,
        name: str = "ds",
        content_type: str = "application/octet-stream",
        **form: str,
    ) -> httpx.Response:
        return client.post(
            "/v1/datasets",
            files={"file": (filename, data, content_type)},
            data={"name": name, **form},
        )

    return post


Footprint = Callable[[], tuple[int, set[Path]]]


@pytest.fixture
def footprint(client: TestClient, settings: Settings) -> Footprint:
    """The dataset count and every file in the store, temporary and spooled files included:
    a rejected upload must leave both as they were."""
    roots = [
        settings.resolved_artifact_root / "sha256",
        settings.resolved_artifact_root / "tmp",
        settings.data_dir / "tmp",
    ]

    def take() -> tuple[int, set[Path]]:
        count: Any = client.get("/v1/datasets").json()["count"]
        files = {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}
        return int(count), files

    return take
