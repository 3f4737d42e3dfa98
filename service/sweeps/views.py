"""A sweep as the API answers it: each trial from its job and version, the best, the
recommended code size, PCA's baseline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.registry.tables import Model, ModelVersion
from service.sweeps.schemas import (
    TERMINAL_SWEEP_STATES,
    BaselinePoint,
    SweepPublic,
    SweepStatus,
    SweepSummary,
)
from service.sweeps.tables import Sweep
from service.sweeps.trials import trial_public
from service.sweeps.values import best_of, higher_is_better, recommended_of
from service.training.tables import Job


def trial_views(session: Session, sweep: Sweep) -> list[Any]:
    job_ids = [t["job_id"] for t in sweep.trials if t.get("job_id")]
    jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    versions: dict[int, ModelVersion] = {}
    model = session.scalars(select(Model).where(Model.name == sweep.model_name)).first()
    numbers = [j.model_version for j in jobs.values() if j.model_version is not None]
    if model is not None and numbers:
        rows = session.scalars(
            select(ModelVersion).where(
                ModelVersion.model_id == model.id, ModelVersion.version.in_(numbers)
            )
        )
        versions = {v.version: v for v in rows}
    ended = sweep.status in TERMINAL_SWEEP_STATES
    views = []
    for trial in sweep.trials:
        job = jobs.get(trial.get("job_id") or "")
        version = versions.get(job.model_version) if job and job.model_version else None
        views.append(trial_public(trial, job, version, ended=ended))
    return views


def n_trials_of(sweep: Sweep) -> int:
    search = sweep.request.get(sweep.search) or {}
    return len(sweep.trials) if sweep.search == "grid" else int(search.get("n_trials", 0))


def to_public(session: Session, sweep: Sweep) -> SweepPublic:
    views = trial_views(session, sweep)
    by_number = {v.number: v for v in views}
    metric, tolerance = sweep.request["metric"], sweep.request["tolerance"]
    best = best_of(sweep.trials, metric)
    recommended = recommended_of(sweep.trials, metric, tolerance)
    baseline = [
        BaselinePoint(code_size=int(k), value=v)
        for k, v in sorted(sweep.baseline.items(), key=lambda kv: int(kv[0]))
        if v is not None
    ]
    return SweepPublic(
        id=sweep.id,
        model=sweep.model_name,
        dataset_id=sweep.dataset_id,
        search=sweep.search,  # type: ignore[arg-type]
        status=SweepStatus(sweep.status),
        metric=metric,
        higher_is_better=higher_is_better(metric),
        tolerance=tolerance,
        max_parallel=sweep.request["max_parallel"],
        promote=sweep.request.get("promote"),
        promoted_version=sweep.promoted_version,
        n_trials=n_trials_of(sweep),
        trials=views,
        best=by_number[best["number"]] if best else None,
        recommended=by_number[recommended["number"]] if recommended else None,
        pca_baseline=baseline,
        error=sweep.error,
        created_at=sweep.created_at,
        finished_at=sweep.finished_at,
        request=sweep.request,
    )


def to_summary(sweep: Sweep) -> SweepSummary:
    done = sum(1 for t in sweep.trials if t.get("value") is not None or t.get("error"))
    return SweepSummary(
        id=sweep.id,
        model=sweep.model_name,
        search=sweep.search,  # type: ignore[arg-type]
        status=SweepStatus(sweep.status),
        metric=sweep.request["metric"],
        n_trials=n_trials_of(sweep),
        trials_done=done,
        created_at=sweep.created_at,
        finished_at=sweep.finished_at,
    )
