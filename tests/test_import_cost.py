"""Processes import what they need: the API process not the training-time libraries
(scipy.stats, for the robust score statistics in service.zoo.serving, cost it 0.4 s and 60 MB
at start), and the CLI's client commands not torch (1.1 s a command) nor the server's
libraries."""

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


@pytest.mark.slow  # a fresh interpreter that imports the whole app
@pytest.mark.any_database
def test_the_app_does_not_import_training_time_libraries() -> None:
    assert modules_after("import service.main", ("scipy.stats", "sklearn")) == []
