"""Moving a sweep on: record finished trials, queue the next ones, end it, promote.

`advance_sweep` is idempotent and restart-safe: everything it reads and writes is in the
database, and its decisions are taken under the sweep row's lock (BEGIN IMMEDIATE on
SQLite, SELECT ... FOR UPDATE on PostgreSQL), so any number of callers at once queue each
trial once. It runs in three places: when the sweep is created (its first trials come in
the 202), in every worker as soon as one of the sweep's trials ends (no waiting for the
next trial), and in the API every AESVC_SWEEP_ADVANCE_S (`SweepAdvancer`), which covers
restarts, a Ray executor and cancellations. The slow parts (reading the dataset for the
PCA baseline, scoring a version for AUROC) run before the lock and write only values.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore
from service.config import Settings
from service.database import utcnow
from service.datasets.service import held_dataset
from service.datasets.tables import Dataset
from service.errors import ServiceError, Unprocessable
from service.registry.aliases import set_alias
from service.registry.tables import Model, ModelVersion
from service.sweeps import plan, search
from service.sweeps.schemas import TERMINAL_SWEEP_STATES, SweepCreate, SweepStatus
from service.sweeps.tables import Sweep
from service.sweeps.trials import queue_trial
from service.sweeps.values import (
    MetricUnavailable,
    best_of,
    higher_is_better,
    pca_baseline,
    trial_value,
)
from service.training.lifecycle import immediate_session
from service.training.schemas import ACTIVE_STATES, JobStatus
from service.training.service import validate_spec_for
from service.training.tables import Job

log = logging.getLogger(__name__)


@contextlib.contextmanager
def locked_sweep(factory: sessionmaker[Session], sweep_id: str) -> Iterator[tuple[Session, Sweep]]:
    """The sweep row under a write lock held to the end of the block (or its commit)."""
    with immediate_session(factory) as session:
        sweep = session.get(Sweep, sweep_id, with_for_update=True, populate_existing=True)
        if sweep is None:
            raise LookupError(sweep_id)
        yield session, sweep


@dataclass
class _Outcomes:
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    baseline: dict[str, float | None] = field(default_factory=dict)
    act: bool = False  # anything for the locked step to do (else no write lock is taken)


def _outcomes(factory: sessionmaker[Session], store: ArtifactStore, sweep_id: str) -> _Outcomes:
    """Without the lock: the values of the trials that ended since the last look, PCA's
    baseline at the code sizes it lacks, and whether a trial may be queued or the sweep
    ended."""
    out = _Outcomes()
    updates = out.updates
    with factory() as session:
        sweep = session.get(Sweep, sweep_id)
        if sweep is None or sweep.status in TERMINAL_SWEEP_STATES:
            return out
        request = SweepCreate.model_validate(sweep.request)
        dataset = session.get(Dataset, sweep.dataset_id) if sweep.dataset_id else None
        open_trials = [t for t in sweep.trials if t.get("job_id") and _undecided(t)]
        jobs = {
            j.id: j
            for j in session.scalars(
                select(Job).where(Job.id.in_([t["job_id"] for t in open_trials]))
            )
        }
        for trial in open_trials:
            job = jobs.get(trial["job_id"])
            if job is None:
                updates[trial["number"]] = {"error": "its job was deleted"}
            elif job.status == JobStatus.SUCCEEDED:
                updates[trial["number"]] = _value_of(session, store, request, sweep, job, dataset)
            elif job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
                updates[trial["number"]] = {"error": job.error or f"job {job.status}"}
        n_active = len(open_trials) - len(updates)
        if sweep.search == "grid":
            more = any(not t.get("job_id") and not t.get("invalid") for t in sweep.trials)
        else:
            more = len(sweep.trials) < _n_trials(sweep)
        out.act = bool(updates) or (n_active < request.max_parallel if more else n_active == 0)
        sizes = {t["code_size"] for t in sweep.trials if t.get("code_size")}
        missing = sorted(k for k in sizes if str(k) not in sweep.baseline)
        if missing and dataset is not None:
            training = request.base.training
            found = pca_baseline(
                session,
                store,
                dataset=dataset,
                code_sizes=missing,
                metric=request.metric,
                normal_label=request.normal_label,
                validation_fraction=float(training.get("validation_fraction", 0.2)),
                seed=int(training.get("seed", 0)),
            )
            # a size PCA has no value for (AUROC of one class) is kept as None: not redone
            out.baseline = {str(k): found.get(str(k)) for k in missing}
            out.act = True
    return out


def _undecided(trial: dict[str, Any]) -> bool:
    return trial.get("value") is None and trial.get("error") is None


def _value_of(
    session: Session,
    store: ArtifactStore,
    request: SweepCreate,
    sweep: Sweep,
    job: Job,
    dataset: Dataset | None,
) -> dict[str, Any]:
    version = session.scalars(
        select(ModelVersion)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(Model.name == sweep.model_name, ModelVersion.source_job_id == job.id)
    ).first()
    if version is None:
        return {"error": "its version was deleted"}
    try:
        value = trial_value(
            session,
            store,
            metric=request.metric,
            normal_label=request.normal_label,
            version=version,
            dataset=dataset,
        )
    except MetricUnavailable as exc:
        return {"error": str(exc)}
    return {"value": value, "version": version.version}


def advance_sweep(
    factory: sessionmaker[Session], store: ArtifactStore, settings: Settings, sweep_id: str
) -> None:
    seen = _outcomes(factory, store, sweep_id)
    updates, baseline = seen.updates, seen.baseline
    if not seen.act:
        return
    with locked_sweep(factory, sweep_id) as (session, sweep):
        if sweep.status in TERMINAL_SWEEP_STATES:
            return
        trials = [dict(t) for t in sweep.trials]
        for trial in trials:
            if trial["number"] in updates and _undecided(trial):
                trial.update(updates[trial["number"]])
        if baseline:
            sweep.baseline = {**sweep.baseline, **baseline}
        _queue_next(session, sweep, trials, settings)
        sweep.trials = trials
        best = _end_if_done(sweep, trials)
        session.commit()
    if best is not None:  # done, and an alias to move before the sweep reads succeeded
        _promote(factory, sweep_id, best)


def _queue_next(
    session: Session, sweep: Sweep, trials: list[dict[str, Any]], settings: Settings
) -> None:
    """Queue trials until max_parallel of them are queued or running, or none is left."""
    request = SweepCreate.model_validate(sweep.request)
    dataset = held_dataset(session, sweep.dataset_id) if sweep.dataset_id else None
    launched = [t["job_id"] for t in trials if t.get("job_id") and _undecided(t)]
    n_active = (
        session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.id.in_(launched), Job.status.in_(ACTIVE_STATES))
        )
        or 0
    )
    room = request.max_parallel - n_active
    quota = settings.resolved_quota_active_jobs
    if sweep.api_key_id is not None and quota is not None:  # the key's jobs, trials or not
        owned = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.api_key_id == sweep.api_key_id, Job.status.in_(ACTIVE_STATES))
        )
        room = min(room, quota - (owned or 0))
    while room > 0:
        trial = _next_trial(request, sweep, trials)
        if trial is None:
            return
        if trial.get("invalid"):
            continue
        if dataset is None:
            trial.update(invalid=True, error="the sweep's dataset was deleted")
            continue
        try:
            spec = plan.spec_of(request, trial["params"], lambda path: (path,))
            validate_spec_for(spec, dataset, limits=settings)
        except Unprocessable as exc:
            trial.update(invalid=True, error=exc.detail)
            continue
        trial.update(code_size=spec.architecture.code_size, kind=spec.architecture.kind)
        trial["job_id"] = queue_trial(session, sweep, spec).id
        room -= 1


def _next_trial(
    request: SweepCreate, sweep: Sweep, trials: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The grid's next planned trial, or a new one asked of Optuna; None when all are out."""
    if sweep.search == "grid":
        return next((t for t in trials if not t.get("job_id") and not t.get("invalid")), None)
    searched = request.random or request.tpe
    assert searched is not None
    if len(trials) >= searched.n_trials:
        return None
    trial: dict[str, Any] = {"number": len(trials), "params": {}}
    try:
        trial["params"] = search.ask(
            sweep.search, searched, trials, higher_is_better=higher_is_better(request.metric)
        )
    except Exception as exc:  # a space Optuna cannot sample: this trial fails, not the pass
        log.warning("sweep %s: Optuna could not ask trial %s: %s", sweep.id, len(trials), exc)
        trial.update(invalid=True, error=f"Optuna could not sample the space: {exc}")
    trials.append(trial)
    return trial


def _end_if_done(sweep: Sweep, trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """End the sweep once every trial is decided; returns the best trial where the sweep
    succeeded but its `promote` alias is still to move (it then ends in _promote)."""
    if any(_undecided(t) for t in trials) or (
        sweep.search != "grid" and len(trials) < _n_trials(sweep)
    ):
        return None
    best = best_of(trials, sweep.request["metric"])
    if best is not None and sweep.request.get("promote"):
        return best
    sweep.finished_at = utcnow()
    if best is not None:
        sweep.status = SweepStatus.SUCCEEDED
        return None
    sweep.status = SweepStatus.FAILED
    errors = "; ".join(f"trial {t['number']}: {t.get('error')}" for t in trials)
    sweep.error = f"every trial failed: {errors}" if trials else "no trial ran"
    return None


def _n_trials(sweep: Sweep) -> int:
    return int((sweep.request.get(sweep.search) or {}).get("n_trials", 0))


def _promote(factory: sessionmaker[Session], sweep_id: str, best: dict[str, Any]) -> None:
    """Move the `promote` alias to the best version, then end the sweep succeeded. Both
    steps are idempotent: a crash between them leaves the sweep running with every trial
    decided, and the next pass does both again. So a sweep reads succeeded only with its
    alias moved, or with `error` saying why it could not be."""
    version, error = int(best["version"]), None
    with factory() as session:
        sweep = session.get(Sweep, sweep_id)
        assert sweep is not None
        alias = sweep.request["promote"]
        try:
            set_alias(
                session=session,
                name=sweep.model_name,
                alias=alias,
                version=version,
                actor=f"sweep {sweep_id}",
            )
        except ServiceError as exc:  # an archived version, a deleted model: say so
            session.rollback()
            log.warning("sweep %s: promoting %r failed: %s", sweep_id, alias, exc.detail)
            error = f"promote {alias!r} failed: {exc.detail}"
    with locked_sweep(factory, sweep_id) as (session, sweep):
        if sweep.status in TERMINAL_SWEEP_STATES:  # cancelled meanwhile
            return
        sweep.status, sweep.finished_at = SweepStatus.SUCCEEDED, utcnow()
        sweep.promoted_version, sweep.error = (None, error) if error else (version, None)
        session.commit()
