"""Issue 22, defect 2: a `train` key cannot make a worker run out of memory on every
attempt. The cost of a spec is estimated on the meta device at submission (422 naming the
field past the cap), and a job that does run out of memory fails at once, not retried."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.zoo.budget import _footprint, footprint
from service.zoo.spec import ModelSpec
from tests.factories import job_body

HUGE = {"code_size": 4, "hidden_sizes": [65536, 65536, 65536]}


def test_a_network_past_the_parameter_cap_is_refused_at_submission(client: TestClient) -> None:
    response = client.post(
        "/v1/jobs", json=job_body(architecture=HUGE, training={"max_attempts": 20})
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "spec.architecture.hidden_sizes"
    assert "AESVC_MAX_MODEL_PARAMETERS" in problem["detail"]
    assert client.get("/v1/jobs").json()["count"] == 0


def test_a_batch_past_the_training_memory_cap_names_the_batch_size(settings: Settings) -> None:
    spec = ModelSpec.model_validate(
        {"architecture": {"code_size": 4, "hidden_sizes": [1024]}, "training": {"batch_size": 8192}}
    )
    cost = footprint(spec, n_features=64, image_shape=None)
    assert (
        cost.parameters
        == 64 * 1024
        + 1024
        + 1024 * 4
        + 4
        + 4 * 1024
        + 1024
        + 1024 * 64
        + 64
        + 128
        + 1
        + 4
        + 4 * 4  # the score's statistics: error scale, coding mean and precision
    )
    capped = settings.model_copy(update={"max_training_bytes": cost.training_bytes - 1})
    with TestClient(create_app(capped, start_workers=False)) as client:
        body = job_body(architecture=spec.architecture.model_dump(), training={"batch_size": 8192})
        refused = client.post("/v1/jobs", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "spec.training.batch_size"
        assert "AESVC_MAX_TRAINING_BYTES" in refused.json()["detail"]
        assert (
            client.post(
                "/v1/jobs", json=job_body(architecture=spec.architecture.model_dump())
            ).status_code
            == 202
        )


WORKER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
from service.config import Settings
from tests.factories import run_worker
run_worker(Settings(workers=0, poll_interval_s=0.05), max_jobs=1)
"""


@pytest.mark.slow  # a worker process made to run out of memory
def test_a_job_that_runs_out_of_memory_fails_at_once_without_retry(settings: Settings) -> None:
    """A real worker process with 2.5 GB of address space and a 2 GB network: torch's
    allocator refuses; the job fails on attempt 1 saying so, instead of being retried."""
    roomy = settings.model_copy(
        update={"max_model_parameters": 10**10, "max_training_bytes": 10**12}
    )
    big = {"code_size": 4, "hidden_sizes": [16384, 16384]}
    with TestClient(create_app(roomy, start_workers=False)) as client:
        job = client.post("/v1/jobs", json=job_body(architecture=big)).json()
        assert job["max_attempts"] == 3
        env = {
            **os.environ,
            "AESVC_DATA_DIR": str(settings.data_dir),
            "AESVC_DATABASE_URL": settings.resolved_database_url,
        }
        subprocess.run(
            [sys.executable, "-c", WORKER, str(int(2.5 * (1 << 30)))],
            env=env,
            check=True,
            timeout=120,
        )
        done = client.get(f"/v1/jobs/{job['id']}").json()
        assert done["status"] == "failed", done
        assert done["attempt"] == 1
        assert done["error"].startswith("out of memory"), done["error"]


def _spec(**parts: dict) -> ModelSpec:
    arch = {"code_size": 4, "hidden_sizes": [32]}
    return ModelSpec.model_validate(
        {"architecture": arch, **parts, "training": {"batch_size": 64, **parts.get("training", {})}}
    )


def test_a_footprint_is_measured_once_per_network_and_batch() -> None:
    """A sweep checks every trial's footprint (a meta-device forward, 14 ms): trials that
    differ only in what does not shape the network or its batch share one measurement (a
    256-trial grid over code sizes and learning rates took 4.4 s, 1.2 s so)."""
    first = footprint(_spec(), n_features=64, image_shape=None)
    again = footprint(
        _spec(training={"learning_rate": 0.1, "epochs": 3}), n_features=64, image_shape=None
    )
    assert again is first
    # and what does shape them is part of the key: each gives its own, fresh figures
    for other, kwargs in (
        (_spec(training={"batch_size": 128}), {"n_features": 64}),
        (_spec(), {"n_features": 65}),
        (_spec(regularization={"sparsity": {"kind": "kl", "target": 0.1}}), {"n_features": 64}),
    ):
        cost = footprint(other, image_shape=None, **kwargs)
        assert cost is not first
        _footprint.cache_clear()
        assert footprint(other, image_shape=None, **kwargs) == cost
    assert footprint(_spec(training={"batch_size": 128}), n_features=64, image_shape=None) != first
