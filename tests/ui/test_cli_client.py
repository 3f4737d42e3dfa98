"""The HTTP client commands against a real server: train --follow, models, jobs, encode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from service.config import Settings
from tests.live import LiveServer, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.any_database,
]  # real servers followed through whole trainings by the CLI


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
    names = ",".join(f"pixel_{i // 8}_{i % 8}" for i in range(64))
    np.savetxt(tmp_path / "rows.csv", rows, delimiter=",", header=names, comments="")
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


def test_train_follow_says_when_the_new_version_is_worse_than_pca(
    server: LiveServer,
) -> None:
    """`latest` moves to the newest version whatever its quality; --follow says so. One
    epoch of a 2-d VAE on digits is far from PCA's 2 components."""
    run = aesvc(
        "train", "--dataset", "digits", "--code-size", "2", "--kind", "vae",
        "--hidden-sizes", "8", "--epochs", "1", "--seed", "0", "--model", "weak",
        "--follow", "--url", server.base_url,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning version 1: val_mse" in run.stdout and "worse than PCA's" in run.stdout
    with server.client() as http:
        version = http.get("/v1/models/weak/versions/latest").json()
    assert [w["against"] for w in version["worse_than"]] == ["pca"]


TABLE = "a,b,c,d,e,f"


def table_rows(n_rows: int = 24, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_rows, 6)) * np.arange(1, 7) + 10).astype(np.float32)


def test_encode_matches_csv_columns_by_name(server: LiveServer, tmp_path: Path) -> None:
    """Reordered columns give the same codings (they gave others, exit 0); missing and extra
    columns, a bad cell, another separator and a numeric first row are one-line errors."""
    rows = table_rows()
    labels = np.arange(len(rows)) % 3
    lines = [f"{TABLE},kind"] + [
        ",".join(f"{v:.6g}" for v in row) + f",k{label}"
        for row, label in zip(rows, labels, strict=True)
    ]
    with server.client() as http:
        uploaded = http.post(
            "/v1/datasets",
            files={"file": ("t.csv", "\n".join(lines).encode(), "text/csv")},
            data={"name": "table", "label_column": "kind"},
        )
        assert uploaded.status_code == 201, uploaded.text
        job = http.post(
            "/v1/jobs",
            json={"model_name": "tab", "dataset": "table", "architecture": {"code_size": 2},
                  "training": {"epochs": 2}},
        ).json()  # fmt: skip
    with server.client() as http:
        deadline = time.monotonic() + 120
        while http.get(f"/v1/jobs/{job['id']}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline, http.get(f"/v1/jobs/{job['id']}").json()
            time.sleep(0.2)
        expected = np.asarray(
            http.post("/v1/models/tab/versions/1/encode", json={"inputs": rows.tolist()}).json()[
                "codings"
            ]
        )

    def write(name: str, header: str | None, matrix: np.ndarray, extra: str = "") -> Path:
        path = tmp_path / name
        body = "\n".join(",".join(f"{v:.6g}" for v in row) + extra for row in matrix)
        path.write_text((f"{header}\n" if header is not None else "") + body + "\n")
        return path

    def encode(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
        return aesvc("encode", "--model", "tab@1", "--input", str(path), "--output",
                     str(tmp_path / "out.npy"), "--url", server.base_url, *options)  # fmt: skip

    order = [3, 0, 5, 1, 4, 2]
    shuffled = write("shuffled.csv", ",".join(TABLE.split(",")[i] for i in order), rows[:, order])
    done = encode(shuffled)
    assert done.returncode == 0, done.stderr
    assert np.allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-4)

    labelled = write("labelled.csv", f"{TABLE},kind", rows, extra=",k1")
    done = encode(labelled)
    assert done.returncode == 0, done.stderr
    assert "dropped the label column 'kind'" in done.stderr
    assert np.allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-4)

    bare = write("bare.csv", None, rows)
    assert encode(bare, "--no-header").returncode == 0
    assert np.allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-4)

    refusals = {
        "missing": (write("m.csv", "a,b,c,d,e", rows[:, :5]), ["missing ['f']"]),
        "extra": (write("x.csv", f"{TABLE},g,h", rows, extra=",1,2"), ["'g', 'h'"]),
        "numeric first row": (bare, ["all numbers", "--no-header"]),
        "semicolons": (tmp_path / "semi.csv", ["semicolon", "';'"]),
        "bad cell": (tmp_path / "cell.csv", ["column 'c'", "row 2", "'oops'"]),
    }
    (tmp_path / "semi.csv").write_text("a;b;c;d;e;f\n1;2;3;4;5;6\n")
    (tmp_path / "cell.csv").write_text(f"{TABLE}\n1,2,3,4,5,6\n1,2,oops,4,5,6\n")
    for what, (path, needles) in refusals.items():
        refused = encode(path)
        assert refused.returncode == 1, what
        assert "Traceback" not in refused.stderr and refused.stderr.count("\n") == 1, (
            what,
            refused.stderr,
        )
        assert all(n in refused.stderr for n in needles), (what, refused.stderr)


def test_cli_follows_aesvc_port_and_names_the_url_it_tried(server: LiveServer) -> None:
    env = {"AESVC_PORT": str(server.port), "AESVC_HOST": "0.0.0.0", "AESVC_URL": ""}
    listed = aesvc("models", env=env)
    assert listed.returncode == 0, listed.stderr
    with server.client() as http:
        http.post("/v1/jobs", json={"model_name": "wide", "dataset": "digits",
                                    "architecture": {"code_size": 2}})  # fmt: skip
        job_id = http.get("/v1/jobs").json()["data"][0]["id"]
    # not a terminal: whole ids, however narrow the console would be
    jobs = aesvc("jobs", env={**env, "COLUMNS": "40"})
    assert jobs.returncode == 0 and job_id in jobs.stdout, jobs.stdout
    port = free_port()
    unreachable = aesvc("jobs", env={"AESVC_PORT": str(port), "AESVC_URL": ""})
    assert unreachable.returncode == 1
    assert f"http://127.0.0.1:{port}/v1/jobs" in unreachable.stderr
    assert unreachable.stderr.count("\n") == 1, unreachable.stderr


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


def test_an_early_stopped_job_reads_as_complete() -> None:
    from service.cli_client import stopped_early

    job = {"status": "succeeded", "progress": {"epoch": 26, "epochs": 100}}
    assert stopped_early(job) == "stopped early at 26/100"
    assert stopped_early({**job, "status": "running"}) is None
    assert stopped_early({"status": "succeeded", "progress": {"epoch": 5, "epochs": 5}}) is None


def test_a_job_inside_an_epoch_reads_with_its_batch() -> None:
    from service.cli_client import epochs_done, within_epoch

    between = {"epoch": 2, "epochs": 10, "val_loss": 0.5}
    assert epochs_done(between) == "2/10" and within_epoch(between) is None
    inside = {**between, "batch": 125, "batches": 500}
    assert epochs_done(inside) == "2/10 + batch 125/500 of epoch 3"
