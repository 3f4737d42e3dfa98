"""Processes import what they need: the API process not the training-time libraries nor
the plotting one (scipy.stats, sklearn, matplotlib: docs/performance.md), and the CLI's
client commands not torch (1.1 s a command) nor the server's libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def modules_after(statement: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of `candidates` a fresh interpreter has imported after `statement`."""
    found = f"sorted(m for m in {candidates!r} if m in sys.modules)"
    probe = f"import json, sys; {statement}; print(json.dumps({found}))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.any_database
def test_the_cli_imports_no_torch_and_no_server_libraries() -> None:
    heavy = ("torch", "onnxruntime", "sqlalchemy", "fastapi", "scipy", "sklearn")
    assert modules_after("import service.cli", heavy) == []


BUILD_APP = (
    "import pathlib, tempfile; from service.config import Settings; "
    "from service.main import create_app; "
    "create_app(Settings(data_dir=pathlib.Path(tempfile.mkdtemp())))"
)


@pytest.mark.slow  # a fresh interpreter that builds the whole app
@pytest.mark.any_database
def test_the_app_does_not_import_training_time_libraries() -> None:
    """Built, not only imported: its routers are imported as the app is built. The sweeps'
    AUROC (sklearn, scipy.stats) and the dashboard's plots (matplotlib) were, and took an
    API process 4.2 s to build instead of 2.7 (docs/performance.md)."""
    heavy = ("scipy.stats", "sklearn", "matplotlib")
    assert modules_after(BUILD_APP, heavy) == []
