"""The HTTP client commands against a real server: train --follow, models, jobs, encode."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from service.config import Settings
from tests.live import LiveServer


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    yield LiveServer(settings, workers=1).start()


def aesvc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_train_follows_a_real_job_to_the_end(server: LiveServer, tmp_path: Path) -> None:
    run = aesvc(
        "train", "--dataset", "digits", "--code-size", "2", "--kind", "vae",
        "--hidden-sizes", "16", "--epochs", "3", "--model", "cli-vae",
        "--follow", "--url", server.base_url,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "succeeded" in run.stdout and "model cli-vae version 1" in run.stdout, run.stdout
    assert "3/3" in run.stdout  # the progress bar reached the last epoch

    with server.client() as http:
        jobs = http.get("/v1/jobs").json()["data"]
    assert [j["status"] for j in jobs] == ["succeeded"]

    listed = aesvc("models", env={"AESVC_URL": server.base_url})
    assert listed.returncode == 0 and "cli-vae" in listed.stdout and "vae" in listed.stdout
    history = aesvc("jobs", "--url", server.base_url)
    assert history.returncode == 0 and jobs[0]["id"] in history.stdout

    rows = load_digits().data[:7].astype(np.float32)
    np.savetxt(tmp_path / "rows.csv", rows, delimiter=",", header="a" * 3, comments="")
    np.save(tmp_path / "rows.npy", rows)
    for source, target in (("rows.csv", "codes.npy"), ("rows.npy", "codes.csv")):
        encoded = aesvc(
            "encode", "--model", "cli-vae@1", "--input", str(tmp_path / source),
            "--output", str(tmp_path / target), "--url", server.base_url,
        )  # fmt: skip
        assert encoded.returncode == 0, encoded.stderr
        assert "encoded 7 rows with cli-vae version 1" in encoded.stdout
    from_npy = np.load(tmp_path / "codes.npy")
    from_csv = np.loadtxt(tmp_path / "codes.csv", delimiter=",", skiprows=1)
    assert from_npy.shape == from_csv.shape == (7, 2)
    assert np.allclose(from_npy, from_csv, atol=1e-5)
    with server.client() as http:
        served = http.post(
            "/v1/models/cli-vae/versions/1/encode", json={"inputs": rows.tolist()}
        ).json()
    assert np.allclose(from_npy, np.asarray(served["codings"]), atol=1e-5)

    refused = aesvc(
        "train", "--dataset", "no-such-data", "--code-size", "2", "--follow",
        "--url", server.base_url,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "404" in refused.stderr and "no-such-data" in refused.stderr


def test_read_rows_takes_one_column_as_rows_and_refuses_no_rows(tmp_path: Path) -> None:
    from service.cli_client import ClientError, read_rows

    (tmp_path / "one.csv").write_text("x\n1\n2\n3\n")
    assert read_rows(tmp_path / "one.csv").shape == (3, 1)  # not one row of three
    np.save(tmp_path / "flat.npy", np.arange(4, dtype=np.float32))
    assert read_rows(tmp_path / "flat.npy").shape == (4, 1)
    np.save(tmp_path / "empty.npy", np.zeros((0, 3), np.float32))
    with pytest.raises(ClientError, match="2-D matrix of rows"):
        read_rows(tmp_path / "empty.npy")


def test_encode_chunks_after_the_first_go_to_the_version_it_answered() -> None:
    from service.cli_client import encode_path

    assert encode_path("m", "", None) == "/v1/models/m/versions/latest/encode"
    assert encode_path("m", "prod", None) == "/v1/models/m/versions/prod/encode"
    assert encode_path("m", "prod", "2") == "/v1/models/m/versions/2/encode"
