"""Fixtures of the tests that run several servers: a PostgreSQL they all share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fault.conftest import postgres_cluster  # noqa: F401 (a fixture, used by name)


@pytest.fixture
def shared_database_url(database_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """PostgreSQL for processes that share it: the suite's own database where the run is on
    PostgreSQL (AESVC_TEST_DATABASE_URL), else a throwaway cluster of this test."""
    if database_url.startswith("postgresql"):
        yield database_url
    else:
        yield request.getfixturevalue("postgres_cluster").url
