"""Sweeps in process (#26): the app on a real SQLite file, the real worker loop training
tiny nets on digits, no mocks. The live-server tests are in test_sweeps_live.py."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.config import Settings
from service.sweeps import search
from service.sweeps.schemas import Search
from service.training.tables import Job
from tests.factories import run_worker

TINY = {
    "architecture": {"hidden_sizes": [16]},
    "training": {"epochs": 2, "batch_size": 64},
}
# diverges at once: sgd at learning rate 10 on raw pixel values (0 to 16), no clipping
DIVERGES = {"learning_rate": 10.0, "optimizer": "sgd", "gradient_clip_norm": None}


def sweep_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "dg", "dataset": "digits", "base": TINY}
    return {**body, **overrides}


def random_space(n_trials: int, seed: int) -> dict[str, Any]:
    return {
        "space": {
            "architecture.code_size": {"type": "int", "low": 2, "high": 32, "log": True},
            "training.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
            "architecture.kind": {"type": "choice", "choices": ["dense", "vae"]},
        },
        "n_trials": n_trials,
        "seed": seed,
    }


def start(client: TestClient, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = client.post("/v1/sweeps", json=body, **kwargs)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/sweeps/{response.json()['id']}"
    return response.json()  # type: ignore[no-any-return]


def read(client: TestClient, sweep_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/sweeps/{sweep_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def jobs_of(client: TestClient, sweep_id: str) -> list[Job]:
    factory = client.app.state.ctx.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        return list(session.scalars(select(Job).where(Job.sweep_id == sweep_id)))


def test_a_grid_sweep_trains_every_combination_and_recommends_a_code_size(
    client: TestClient, settings: Settings
) -> None:
    grid = {"architecture.code_size": [2, 8, 32], "architecture.kind": ["dense", "linear"]}
    body = sweep_body(grid=grid, max_parallel=6, promote="chosen", tolerance=0.5)
    sweep = start(client, body)
    assert sweep["status"] == "running" and sweep["n_trials"] == 6
    assert [t["params"] for t in sweep["trials"]][:2] == [
        {"architecture.code_size": 2, "architecture.kind": "dense"},
        {"architecture.code_size": 2, "architecture.kind": "linear"},
    ]
    assert all(t["status"] == "queued" and t["job_id"] for t in sweep["trials"])
    assert run_worker(settings, max_jobs=6) == 6
    done = read(client, sweep["id"])
    assert done["status"] == "succeeded", done["error"]
    values = {t["number"]: t["value"] for t in done["trials"]}
    assert all(isinstance(v, float) and v > 0 for v in values.values())
    for trial in done["trials"]:
        job = client.get(f"/v1/jobs/{trial['job_id']}").json()  # an ordinary job
        assert job["model_version"] == trial["model_version"]
        assert job["sweep_id"] == sweep["id"]
        assert job["spec"]["architecture"]["code_size"] == trial["code_size"]
        assert trial["metrics"]["val_mse"] == trial["value"]
        assert trial["train_time_s"] > 0
    best = done["best"]
    assert best["value"] == min(values.values())
    within = [t for t in done["trials"] if t["value"] <= best["value"] * 1.5]
    smallest = min(t["code_size"] for t in within)
    assert done["recommended"]["code_size"] == smallest
    assert done["recommended"]["value"] == min(
        t["value"] for t in within if t["code_size"] == smallest
    )
    pca = {p["code_size"]: p["value"] for p in done["pca_baseline"]}
    assert set(pca) == {2, 8, 32} and pca[2] > pca[8] > pca[32] > 0
    # a linear autoencoder starts on PCA's solution: its val MSE is PCA's, give or take
    linear_2 = next(t for t in done["trials"] if t["params"] == grid_point(2, "linear"))
    assert abs(linear_2["value"] - pca[2]) / pca[2] < 0.1
    assert done["promoted_version"] == best["model_version"]
    alias = client.get("/v1/models/dg/aliases/chosen").json()
    assert alias["version"] == best["model_version"]


def grid_point(code_size: int, kind: str) -> dict[str, Any]:
    return {"architecture.code_size": code_size, "architecture.kind": kind}


def test_max_parallel_bounds_the_trials_queued_at_once(
    client: TestClient, settings: Settings
) -> None:
    sweep = start(client, sweep_body(grid={"architecture.code_size": [2, 3, 4, 5]}, max_parallel=2))
    assert [t["status"] for t in sweep["trials"]] == ["queued", "queued", "pending", "pending"]
    curve = client.get(f"/v1/sweeps/{sweep['id']}/plots/curve.png")  # no trial done yet
    assert curve.status_code == 200 and curve.content.startswith(b"\x89PNG")
    assert run_worker(settings, max_jobs=1) == 1  # the worker queues the next one itself
    statuses = [t["status"] for t in read(client, sweep["id"])["trials"]]
    assert statuses == ["succeeded", "queued", "queued", "pending"]
    assert run_worker(settings, max_jobs=3) == 3
    done = read(client, sweep["id"])
    assert done["status"] == "succeeded" and len(jobs_of(client, sweep["id"])) == 4


def test_a_random_search_is_reproducible_from_its_seed(
    client: TestClient, settings: Settings
) -> None:
    first = start(client, sweep_body(random=random_space(4, seed=11), max_parallel=4))
    again = start(client, sweep_body(random=random_space(4, seed=11), max_parallel=4))
    other = start(client, sweep_body(random=random_space(4, seed=12), max_parallel=4))
    params = [[t["params"] for t in s["trials"]] for s in (first, again, other)]
    assert len(params[0]) == 4 and params[0] == params[1] and params[0] != params[2]
    assert len({str(p) for p in params[0]}) == 4  # four different trials
    for p in params[0]:
        assert 2 <= p["architecture.code_size"] <= 32 and p["architecture.kind"] in ("dense", "vae")
        assert 1e-4 <= p["training.learning_rate"] <= 1e-2
    # the seed decided the parameters: only the two sweeps that share it need training
    assert client.post(f"/v1/sweeps/{other['id']}/cancel").status_code in (200, 202)
    assert run_worker(settings, max_jobs=8) == 8
    ended = [read(client, s["id"]) for s in (first, again)]
    assert all(s["status"] == "succeeded" for s in ended)
    jobs = [sorted(str(j.spec["architecture"]) for j in jobs_of(client, s["id"])) for s in ended]
    assert jobs[0] == jobs[1]


def test_a_search_sampler_is_told_the_finished_trials() -> None:
    """TPE's asks depend on the values told; random search's on the seed alone."""
    space = Search.model_validate(random_space(20, seed=3))
    told: list[dict[str, Any]] = []
    for number in range(12):  # past TPE's 10 random startup trials
        params = search.ask("random", space, told, higher_is_better=False)
        told.append({"number": number, "params": params, "value": 1.0})
    assert len({str(t["params"]) for t in told}) == 12
    low = [dict(t, value=t["params"]["architecture.code_size"] * 1.0) for t in told]
    high = [dict(t, value=-t["params"]["architecture.code_size"] * 1.0) for t in told]
    asked_low = search.ask("tpe", space, low, higher_is_better=False)
    asked_high = search.ask("tpe", space, high, higher_is_better=False)
    assert asked_low != asked_high
    assert search.ask("random", space, low, higher_is_better=False) == search.ask(
        "random", space, high, higher_is_better=False
    )


def test_a_tpe_search_runs_its_trials_one_after_another(
    client: TestClient, settings: Settings
) -> None:
    tpe = {**random_space(3, seed=1)}
    sweep = start(client, sweep_body(tpe=tpe, max_parallel=1))
    assert len(sweep["trials"]) == 1 and sweep["n_trials"] == 3
    assert run_worker(settings, max_jobs=3) == 3
    done = read(client, sweep["id"])
    assert done["status"] == "succeeded" and [t["number"] for t in done["trials"]] == [0, 1, 2]
    assert all(t["value"] is not None for t in done["trials"])


def test_auroc_scores_the_trials_and_pca_on_the_labelled_rows(
    client: TestClient, settings: Settings
) -> None:
    body = sweep_body(grid={"architecture.code_size": [2, 8]}, metric="auroc", normal_label=0)
    sweep = start(client, body)
    assert run_worker(settings, max_jobs=2) == 2
    done = read(client, sweep["id"])
    assert done["status"] == "succeeded" and done["higher_is_better"] is True
    values = [t["value"] for t in done["trials"]]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert done["best"]["value"] == max(values)
    assert all(0.5 < p["value"] <= 1.0 for p in done["pca_baseline"])  # digits: 0s stand out


def test_one_failed_trial_leaves_the_sweep_to_the_others(
    client: TestClient, settings: Settings
) -> None:
    training = {**TINY["training"], "max_attempts": 1, "gradient_clip_norm": None}
    architecture = {**TINY["architecture"], "code_size": 4}
    base = {"architecture": architecture, "training": training, "preprocessing": "none"}
    grid = {"training.learning_rate": [10.0, 0.003], "training.optimizer": ["sgd"]}
    sweep = start(client, sweep_body(base=base, grid=grid))
    assert run_worker(settings, max_jobs=2) == 2
    done = read(client, sweep["id"])
    assert done["status"] == "succeeded" and done["error"] is None
    failed, good = done["trials"]
    assert failed["status"] == "failed" and "diverged" in failed["error"]
    assert failed["value"] is None and done["best"]["number"] == good["number"] == 1


def test_a_sweep_whose_every_trial_fails_ends_failed_with_each_error(
    client: TestClient, settings: Settings
) -> None:
    training = {**TINY["training"], **DIVERGES, "max_attempts": 1}
    base = {**TINY, "training": training, "preprocessing": "none"}
    sweep = start(client, sweep_body(base=base, grid={"architecture.code_size": [2, 4]}))
    assert run_worker(settings, max_jobs=2) == 2
    done = read(client, sweep["id"])
    assert done["status"] == "failed" and done["best"] is None and done["recommended"] is None
    assert done["error"].startswith("every trial failed: trial 0: ")
    assert "trial 1: " in done["error"]
    assert all(t["status"] == "failed" and "diverged" in t["error"] for t in done["trials"])


def test_cancel_ends_the_queued_trials_and_queues_no_more(
    client: TestClient, settings: Settings
) -> None:
    sweep = start(client, sweep_body(grid={"architecture.code_size": [2, 3, 4]}, max_parallel=2))
    cancelled = client.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["finished_at"]
    assert [t["status"] for t in body["trials"]] == ["cancelled", "cancelled", "skipped"]
    assert run_worker(settings, max_jobs=0) == 0
    again = client.post(f"/v1/sweeps/{sweep['id']}/cancel").json()  # nothing more to do
    assert again["status"] == "cancelled" and len(jobs_of(client, sweep["id"])) == 2
    listed = client.get("/v1/sweeps", params={"status": "cancelled"}).json()
    assert [s["id"] for s in listed["data"]] == [sweep["id"]] and listed["count"] == 1


def test_an_idempotency_key_replays_the_first_sweep(client: TestClient) -> None:
    body = sweep_body(grid={"architecture.code_size": [2, 3]})
    key = {"idempotency-key": "sweep-once"}
    first = start(client, body, headers=key)
    replay = client.post("/v1/sweeps", json=body, headers=key)
    assert replay.status_code == 202 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first["id"]
    assert len(jobs_of(client, first["id"])) == 2
    other = client.post(
        "/v1/sweeps", json=sweep_body(grid={"architecture.code_size": [5]}), headers=key
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    factory = client.app.state.ctx.session_factory  # type: ignore[attr-defined]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 2


def test_sweeps_are_listed_newest_first_in_cursor_pages(client: TestClient) -> None:
    ids = [start(client, sweep_body(grid={"architecture.code_size": [k]}))["id"] for k in (2, 3, 4)]
    first = client.get("/v1/sweeps", params={"limit": 2}).json()
    assert [s["id"] for s in first["data"]] == ids[::-1][:2] and first["count"] == 3
    rest = client.get("/v1/sweeps", params={"limit": 2, "page_token": first["next_page_token"]})
    assert [s["id"] for s in rest.json()["data"]] == ids[:1]
    assert rest.json()["next_page_token"] is None
