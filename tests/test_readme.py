"""Every code block in README.md runs, in order, against a live server, as a user would
paste it (the README is the first page: a block that fails there fails here).

Blocks run in one scratch folder whose `.venv` is this checkout's; `localhost:8000` becomes
the live server's address (and the "another port" block's 8080 a free port). The two
`make` commands are checked with `make -n` (CI runs `make test` itself; `make run` is
`aesvc serve`, which the live server is).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings
from tests.live import LiveServer, free_port

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```$", re.S | re.M)


def readme_blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer((ROOT / "README.md").read_text())]


def test_readme_is_a_first_page() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    for task in ("Upload your data", "Train", "Follow", "Encode and score", "Aliases",
                 "Export", "/docs", "Another port", "API keys"):  # fmt: skip
        assert task in text, task
    assert "../shared" not in text


def test_the_two_commands_are_make_targets() -> None:
    first = readme_blocks()[0][1]
    targets = [line.split()[1] for line in first.splitlines() if line.startswith("make ")]
    assert targets == ["run", "test"]
    for target in targets:
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr
    assert (
        "aesvc serve"
        in subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True).stdout
    )


@pytest.mark.slow
@pytest.mark.any_database
def test_every_readme_block_runs(settings: Settings, tmp_path: Path) -> None:
    server = LiveServer(settings, workers=1).start()
    work = tmp_path / "user"
    work.mkdir()
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "clients").symlink_to(ROOT / "clients")
    other_port = str(free_port())
    env = {
        **os.environ,
        "AESVC_PORT": str(server.port),
        "AESVC_HOST": "127.0.0.1",
        "AESVC_DATA_DIR": str(settings.data_dir),
        "AESVC_DATABASE_URL": settings.resolved_database_url,
        "AESVC_WORKERS": "0",  # a server a block starts trains nothing
        "AESVC_URL": "",
        "COLUMNS": "200",
    }
    blocks = readme_blocks()[1:]
    assert len(blocks) >= 10
    for kind, code in blocks:
        code = code.replace("localhost:8000", f"127.0.0.1:{server.port}")
        code = code.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        code = code.replace("8080", other_port)
        if kind == "bash":
            command = ["bash", "-euo", "pipefail", "-c", code]
        else:
            command = [sys.executable, "-c", code]
        run = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, timeout=240
        )
        assert run.returncode == 0, f"{code}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
        assert "Traceback" not in run.stderr, run.stderr
        assert '"status":4' not in run.stdout and '"status":5' not in run.stdout, (
            code,
            run.stdout,
        )
    assert (work / "codes.npy").exists() and (work / "encoder.onnx").stat().st_size > 0
