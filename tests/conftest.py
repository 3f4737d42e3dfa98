"""Shared fixtures: a real SQLite file per test, or a fresh PostgreSQL database per test
when AESVC_TEST_DATABASE_URL names a server (CI runs the suite both ways)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.config import Settings
from service.main import create_app

PG_ADMIN_URL = os.environ.get("AESVC_TEST_DATABASE_URL")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not PG_ADMIN_URL:
        yield f"sqlite:///{tmp_path / 'var' / 'aesvc.db'}"
        return
    name = f"aesvc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        workers=0,
        heartbeat_interval_s=0.3,
        lease_timeout_s=5.0,
        poll_interval_s=0.05,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app in process, no worker processes (tests run workers themselves)."""
    with TestClient(create_app(settings, start_workers=False)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _reap_live_servers() -> Iterator[None]:
    """Whatever a test did, no server or worker it started outlives it."""
    yield
    from tests.live import LIVE_SERVERS

    while LIVE_SERVERS:
        LIVE_SERVERS.pop().cleanup()
