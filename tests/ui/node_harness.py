"""Run the dashboard's app.js under node with a test's own harness script, and read the
JSON line it prints last (tests skip where node is missing)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

APP_JS = Path(__file__).parents[2] / "service/ui/static/app.js"


def run_harness(tmp_path: Path, harness: str, *args: str) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs node")
    script = tmp_path / "harness.js"
    script.write_text(harness)
    out = subprocess.run(
        [node, str(script), str(APP_JS), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
