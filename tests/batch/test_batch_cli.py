"""`aesvc batch ... --follow` against a real server and its worker: it follows the job to
its end and exits 0 only if it succeeded."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.batch.conftest import CODE_SIZE, DATASET, MODEL, N_ROWS
from tests.live import LiveServer
from tests.ui.test_cli_client import aesvc

pytestmark = pytest.mark.slow  # a real server, followed by the CLI


@pytest.fixture
def server(settings: Settings, world: np.ndarray) -> Iterator[LiveServer]:
    yield LiveServer(settings, workers=1).start()


def test_batch_encode_follows_to_the_end(
    server: LiveServer, client: TestClient, world: np.ndarray
) -> None:
    run = aesvc(
        "batch", "encode", "--model", f"{MODEL}@1", "--dataset", DATASET,
        "--output", "codes", "--follow", "--url", server.base_url,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "succeeded" in run.stdout and f"{N_ROWS} rows written to dataset codes" in run.stdout
    assert "8/8" in run.stdout  # the progress bar reached the last chunk
    codes = np.load(io.BytesIO(client.get("/v1/datasets/codes/data").content))
    assert codes.shape == (N_ROWS, CODE_SIZE)

    again = aesvc(
        "batch", "score", "--model", f"{MODEL}@1", "--dataset", DATASET,
        "--output", "codes", "--follow", "--url", server.base_url,
    )  # fmt: skip
    assert again.returncode == 1 and "409" in again.stderr, again.stdout + again.stderr
    unknown = aesvc(
        "batch", "reconstruct", "--model", f"{MODEL}@no-such-alias", "--dataset", DATASET,
        "--follow", "--url", server.base_url,
    )  # fmt: skip
    assert unknown.returncode == 1 and "404" in unknown.stderr, unknown.stdout + unknown.stderr
