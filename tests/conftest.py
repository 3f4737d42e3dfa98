"""Shared fixtures: a real SQLite file per test, or a fresh PostgreSQL database per test
when AESVC_TEST_DATABASE_URL names a server (CI runs the suite both ways)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.context import AppContext
from service.main import create_app
from tests.azurite import AzuriteServer, azurite_binary
from tests.bad_input import WORLD_SETTINGS, Seeded, World, open_world, seed_world
from tests.factories import module_settings, seed_builtin_datasets, temporary_database_url
from tests.s3 import S3Server

# starlette's TestClient sends `Host: testserver`; the service answers only to the hosts in
# AESVC_ALLOWED_HOSTS (loopback names by default). tests/test_security.py checks the default.
os.environ.setdefault("AESVC_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with temporary_database_url(tmp_path / "var") as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        workers=0,
        heartbeat_interval_s=0.3,
        lease_timeout_s=5.0,
        poll_interval_s=0.05,
    )
    if request.node.get_closest_marker("unseeded") is None:
        seed_builtin_datasets(settings)
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app in process, no worker processes (tests run workers themselves)."""
    with TestClient(create_app(settings, start_workers=False)) as test_client:
        yield test_client


@pytest.fixture
def ctx(settings: Settings, client: TestClient) -> Iterator[AppContext]:
    """A context of its own on the app's database (the app started first, by `client`)."""
    context = AppContext.from_settings(settings)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _reap_live_servers() -> Iterator[None]:
    """Whatever a test did, no server or worker it started outlives it."""
    yield
    from tests.live import LIVE_SERVERS

    while LIVE_SERVERS:
        LIVE_SERVERS.pop().cleanup()


@pytest.fixture
def root_logging() -> Iterator[None]:
    """For tests that run `aesvc serve`, which configures the root logger: put back what
    pytest had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One moto S3 server for the session; each test takes a bucket of its own."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, and the usual AWS variables pointing at the server (this process
    and the servers a test starts inherit them)."""
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return f"s3://{s3_server.create_bucket()}/aesvc"


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """One Azurite for the session; each test takes a container of its own."""
    binary = azurite_binary()
    if binary is None:
        message = "needs Azurite from npm (bash scripts/install_azurite.sh, see .ci/run)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = AzuriteServer(binary, tmp_path_factory.mktemp("azurite") / "azurite.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def az_url(azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh container, and the emulator variables obstore reads (inherited by the
    servers a test starts)."""
    for key, value in azurite_server.env().items():
        monkeypatch.setenv(key, value)
    return f"az://{azurite_server.create_container()}/aesvc"


@pytest.fixture(scope="session")
def bad_input_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The bad-input matrix's world (tests/bad_input.py), trained and seeded once: its
    cases, in several modules, leave it as they found it."""
    with module_settings(tmp_path_factory.mktemp("bad-input") / "var", **WORLD_SETTINGS) as s:
        with TestClient(create_app(s, start_workers=False)) as client:
            ids = seed_world(client, s)
        yield Seeded(s, ids)


@pytest.fixture(scope="module")
def bad_input_world(bad_input_seed: Seeded) -> Iterator[World]:
    """An app of the module's own on the bad-input world (no app outlives its module)."""
    with open_world(bad_input_seed) as world:
        yield world
