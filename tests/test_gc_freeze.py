"""gc.freeze at serve start: `create_app(freeze_gc=True)` moves what startup built to the
permanent generation once the lifespan has started; the default leaves the collector alone;
`aesvc serve` asks for it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings
from service.main import create_app


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Each test starts with nothing frozen and leaves nothing frozen."""
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()


def test_freeze_gc_freezes_once_started(settings: Settings) -> None:
    app = create_app(settings, start_workers=False, freeze_gc=True)
    assert gc.get_freeze_count() == 0  # building the app freezes nothing
    with TestClient(app):
        assert gc.get_freeze_count() > 0


def test_the_default_leaves_the_collector_alone(settings: Settings) -> None:
    with TestClient(create_app(settings, start_workers=False)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("root_logging")
def test_aesvc_serve_freezes(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    monkeypatch.setenv("AESVC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AESVC_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 0, result.output
    (app,) = served
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 0
