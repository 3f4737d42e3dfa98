"""`aesvc keys create` needs no artifact store: with AESVC_ARTIFACT_URL unreachable it still
makes the first key of a new deployment (it died with a StoreMisconfigured traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import free_port


@pytest.mark.slow  # the CLI as a process
def test_keys_create_with_an_unreachable_store(tmp_path: Path, database_url: str) -> None:
    env = {
        **os.environ,
        "AESVC_DATA_DIR": str(tmp_path / "var"),
        "AESVC_DATABASE_URL": database_url,
        "AESVC_ARTIFACT_URL": "s3://bucket/p",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_REGION": "us-east-1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "keys",
            "create",
            "--name",
            "me",
            "--scopes",
            "admin",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    assert result.returncode == 0, result.stderr[-1500:]
    assert result.stdout.strip().startswith("aesvc_"), result.stdout
