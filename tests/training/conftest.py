"""Fixtures of the training tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.context import AppContext


@pytest.fixture
def ctx(settings: Settings, client: TestClient) -> Iterator[AppContext]:
    """A context of its own on the app's database (the app started first, by `client`)."""
    context = AppContext.from_settings(settings)
    try:
        yield context
    finally:
        context.close()
