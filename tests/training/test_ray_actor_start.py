"""A Ray job actor whose store check fails at start (the bucket unreachable for a moment)
exits, so that the job is requeued: it kept its name (get_if_exists handed the same dead
actor to every re-dispatch) and its CPU. No Ray cluster: the actor's class, called here."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from service.executors import ray_executor
from tests.live import free_port


def test_a_job_actor_whose_store_is_unreachable_at_start_still_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",  # no server: an outage
    }.items():
        monkeypatch.setenv(key, value)
    exits: list[int] = []
    monkeypatch.setattr(ray_executor, "_exit_actor", lambda: exits.append(1))
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, artifact_url="s3://bucket/p"
    )
    actor = ray_executor.JobActor(settings.model_dump_json(), "0" * 32, "ray:owner")
    actor._thread.join(timeout=60)
    assert not actor._thread.is_alive()
    assert exits == [1], "the actor never exits: it keeps its name and its CPU"
    assert actor.state()["status"] != "starting"
