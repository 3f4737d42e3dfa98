"""A user's mistakes with the CLI are one line that says what to fix and a non-zero exit,
never a traceback: a port that is not a number, --hidden-sizes that are not integers, an
--output that cannot be written (checked before the service does any work), an unknown
migration revision, a model name that is empty or holds a slash. No server needed: each is
refused before any request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from service.cli_client import ClientError, checked, http_client
from tests.live import free_port

pytestmark = [pytest.mark.slow, pytest.mark.any_database]  # a CLI process each


def aesvc(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "AESVC_URL": "", **env},
    )


def test_cli_mistakes_are_one_line_and_a_failing_exit(tmp_path: Path) -> None:
    rows = tmp_path / "rows.npy"
    np.save(rows, np.zeros((2, 3), dtype=np.float32))
    words, records, huge = (tmp_path / f"{n}.npy" for n in ("words", "records", "huge"))
    np.save(words, np.array([["a", "b"], ["c", "d"]]))
    np.save(records, np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))
    np.save(huge, np.full((2, 3), 1e300))
    local = ["--url", "http://127.0.0.1:1"]  # refused before any request
    data = {"AESVC_DATA_DIR": str(tmp_path / "var")}
    cases = {
        "port": (["models"], {"AESVC_PORT": "abc"}, 2, "not a service URL"),
        "hidden-sizes": (
            ["train", "--dataset", "digits", "--code-size", "2", "--hidden-sizes", "16,abc"],
            {},
            2,
            "comma-separated integers",
        ),
        "output": (
            ["encode", "--model", "m", "--input", str(rows), "--output", "/nonexistent/o.npy"],
            {},
            1,
            "not a file in an existing folder",
        ),
        "revision": (["migrate", "bogus"], data, 2, "bogus"),
        # PostgreSQL's VARCHAR(128) refused it with a traceback; SQLite stored it
        "long-key-name": (["keys", "create", "--name", "n" * 129], data, 2, "at most 128"),
        "empty-model": (
            ["encode", "--model", "@latest", "--input", str(rows), "--output", "o.npy"],
            {},
            2,
            "expected NAME or NAME@REF",
        ),
        "text-rows": (
            ["encode", "--model", "m", "--input", str(words), "--output", "o.npy"],
            {},
            1,
            "expected a matrix of numbers, got dtype <U1",
        ),
        "record-rows": (
            ["encode", "--model", "m", "--input", str(records), "--output", "o.npy"],
            {},
            1,
            "expected a matrix of numbers",
        ),
        "rows-past-float32": (
            ["encode", "--model", "m", "--input", str(huge), "--output", "o.npy"],
            {},
            1,
            "past float32's range",
        ),
        "non-ascii-key": (["jobs", "--api-key", "clé", *local], {}, 1, "AESVC_API_KEY"),
        "key-with-a-space": (
            ["train", "--dataset", "digits", "--code-size", "2", *local],
            {"AESVC_API_KEY": "aesvc abc"},
            1,
            "the API key (--api-key or AESVC_API_KEY)",
        ),
        "slash-model": (
            ["batch", "encode", "--model", "a/b", "--dataset", "digits"],
            {},
            2,
            "expected NAME or NAME@REF",
        ),
        # an empty Ray folder: `auto` finds no cluster (it exited 3 with a traceback)
        "ray-without-a-cluster": (
            ["serve", "--port", "1"],
            {
                **data,
                "AESVC_EXECUTOR": "ray",
                "RAY_ADDRESS": "auto",
                "RAY_TMPDIR": str(tmp_path / "ray"),
            },
            2,
            "found no running Ray cluster at RAY_ADDRESS=auto",
        ),
        # an address where nothing listens: ray.init retried it for minutes, serving nothing
        "ray-address-where-nothing-listens": (
            ["serve", "--port", "1"],
            {
                **data,
                "AESVC_EXECUTOR": "ray",
                "AESVC_RAY_CONNECT_TIMEOUT_S": "3",
                "RAY_ADDRESS": f"127.0.0.1:{free_port()}",
                "RAY_TMPDIR": str(tmp_path / "ray"),
            },
            2,
            "no Ray cluster answered at RAY_ADDRESS=127.0.0.1:",
        ),
    }
    (tmp_path / "ray").mkdir()
    for name, (args, env, status, says) in cases.items():
        done = aesvc(*args, env=env, cwd=tmp_path)
        assert done.returncode == status, (name, done.returncode, done.stderr)
        assert "Traceback" not in done.stderr and says in done.stderr, (name, done.stderr)


def test_a_key_read_with_its_newline_is_sent_without_it() -> None:
    with http_client("http://127.0.0.1:1", " aesvc_abc\n") as client:
        assert client.headers["Authorization"] == "Bearer aesvc_abc"
    with http_client("http://127.0.0.1:1", "\n") as client:  # an empty file: no key
        assert "Authorization" not in client.headers


def test_a_401_says_how_the_cli_sends_a_key() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/v1/models")
    body = {"title": "Unauthorized", "detail": "an API key is required"}
    with pytest.raises(ClientError) as refused:
        checked(httpx.Response(401, json=body, request=request))
    assert "--api-key or AESVC_API_KEY" in str(refused.value)
