"""A listing of sweeps reads their trials only for a page it has sized: a sweep row keeps
its every trial (params, job, value, metrics), and GET /v1/sweeps?limit=1000 read them
all to count the trials done: 1,000 sweeps of 256 trials, 77 MB of JSON, grew the API by
108 MB a listing, 1.7 s each, and 8 listings at once (a few hundred bytes of requests, the
`read` scope) by 2.5 GB, with /healthz waiting 1.7 s. Now a page ends early where its
sweeps' stored JSON passes SWEEP_PAGE_CHARS (AIP-158's short page, one sweep at least)."""

from __future__ import annotations

import tracemalloc
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert

from service.context import AppContext
from service.database import utcnow
from service.sweeps.tables import Sweep

SWEEPS, TRIALS = 200, 256


def _trial(number: int, done: bool) -> dict[str, Any]:
    trial: dict[str, Any] = {
        "number": number,
        "params": {"architecture.code_size": number % 16 + 1, "architecture.hidden_sizes": [64]},
        "code_size": number % 16 + 1,
        "kind": "dense",
        "job_id": uuid.uuid4().hex,
    }
    if done:
        trial["value"] = 0.0123456789
        trial["metrics"] = {"val_mse": 0.0123456789, "val_mae": 0.0234, "seconds": 12.3456}
    return trial


def test_a_listing_page_of_large_sweeps_is_short_and_reads_little(
    client: TestClient, ctx: AppContext
) -> None:
    request = {"model": "m", "dataset": "digits", "metric": "val_mse", "tolerance": 0.1}
    request["grid"] = {"architecture.code_size": list(range(1, 17))}
    rows = [
        {
            "id": uuid.uuid4().hex,
            "model_name": "m",
            "request": request,
            "search": "grid",
            "status": "succeeded",
            "trials": [_trial(n, done=n < 100 + i % 7) for n in range(TRIALS)],
            "baseline": {},
            "created_at": utcnow(),
        }
        for i in range(SWEEPS)
    ]
    with ctx.session_factory() as session:
        session.execute(insert(Sweep), rows)
        session.commit()
    done = {row["id"]: 100 + i % 7 for i, row in enumerate(rows)}

    tracemalloc.start()
    try:
        first = client.get("/v1/sweeps", params={"limit": 1000})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["count"] == SWEEPS and page["next_page_token"] is not None
    assert 1 <= len(page["data"]) < SWEEPS // 4, len(page["data"])
    assert peak < 40 << 20, f"a listing page took {peak >> 20} MB"

    seen = {s["id"]: s for s in page["data"]}
    token = page["next_page_token"]
    while token is not None:
        more = client.get("/v1/sweeps", params={"limit": 1000, "page_token": token}).json()
        seen.update({s["id"]: s for s in more["data"]})
        token = more["next_page_token"]
    assert set(seen) == set(done)
    assert all(s["trials_done"] == done[i] and s["n_trials"] == TRIALS for i, s in seen.items())
