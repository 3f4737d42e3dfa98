"""Sweeps as the API sees them: create (every input checked before any row), read, list,
cancel. Moving a sweep on (queueing trials, telling results, ending it) is
service.sweeps.advance."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session, defer, sessionmaker, undefer, with_expression

from service.artifacts import ArtifactStore
from service.config import Settings
from service.database import utcnow
from service.datasets.service import get_dataset, use_dataset
from service.datasets.tables import Dataset
from service.errors import NotFound, ServiceUnavailable, Unprocessable
from service.idempotency import body_digest, commit_or_replay, replayed_row
from service.pages import PageRequest, paginate
from service.registry.aliases import check_alias_name
from service.sweeps import plan
from service.sweeps.schemas import (
    TERMINAL_SWEEP_STATES,
    SweepCreate,
    SweepStatus,
)
from service.sweeps.tables import Sweep
from service.sweeps.values import dataset_labels
from service.training.schemas import ACTIVE_STATES
from service.training.service import cancel_job, check_quota, validate_spec_for
from service.training.tables import Job

# Sweeps checked at once; past them a quick 503 with Retry-After. A sweep's checks build and
# measure each trial's network on a threadpool thread, which the synchronous routes share
# (/healthz and /readyz among them): a search space of 4 KB took 17.6 s, and 45 such sweeps
# sent at once held /healthz past 60 s.
MAX_SWEEP_CHECKS = 2
CHECKS_RETRY_AFTER_S = 5
_CHECK_SLOTS = threading.BoundedSemaphore(MAX_SWEEP_CHECKS)
# A listing page's sweeps hold at most this much stored JSON (trials and requests) together
SWEEP_PAGE_CHARS = 2 << 20


def _check_search(body: SweepCreate) -> str:
    given = [name for name in ("grid", "random", "tpe") if getattr(body, name) is not None]
    if len(given) != 1:
        shown = ", ".join(given) or "none"
        raise Unprocessable(
            given[1] if len(given) > 1 else "grid",
            f"give exactly one of grid, random or tpe (given: {shown})",
        )
    return given[0]


def _check_metric(body: SweepCreate, dataset: Dataset, store: ArtifactStore) -> None:
    if body.metric != "auroc":
        if body.normal_label is not None:
            raise Unprocessable(
                "normal_label", f"{body.normal_label!r}: only metric 'auroc' takes a normal_label"
            )
        return
    if dataset.labels_sha256 is None:
        raise Unprocessable(
            "metric",
            f"'auroc' needs a labelled dataset; {dataset.name!r} has no labels",
            code="dataset_has_no_labels",
        )
    if body.normal_label is None:
        raise Unprocessable("normal_label", "None: metric 'auroc' needs the normal rows' label")
    labels = dataset_labels(store, dataset)
    if str(body.normal_label) not in labels:
        raise Unprocessable(
            "normal_label",
            f"{body.normal_label!r} is not a label of {dataset.name!r} "
            f"({', '.join(sorted(labels)[:20])})",
        )


def _check_promote(body: SweepCreate) -> None:
    if body.promote is None:
        return
    try:
        check_alias_name(body.promote)
    except Unprocessable as exc:
        raise Unprocessable(
            "promote", f"{body.promote!r}: {exc.detail.split(': ', 1)[-1]}"
        ) from exc


def planned_trials(body: SweepCreate, dataset: Dataset, limits: Settings) -> list[dict[str, Any]]:
    """A grid's every trial, each spec checked as a job's would be; a search's space
    checked (its trials are asked one by one as the sweep runs)."""

    def check(spec: Any) -> None:
        validate_spec_for(spec, dataset, limits=limits)

    kind = _check_search(body)
    if kind != "grid":
        plan.check_space(kind, body, limits.max_sweep_trials, check)
        return []
    combos = plan.grid_combinations(body, limits.max_sweep_trials)
    field_of = plan.field_for("grid", set(body.grid or {}))
    trials = []
    for number, params in enumerate(combos):
        spec = plan.check_trial(body, params, field_of, check)
        trials.append(
            {
                "number": number,
                "params": params,
                "code_size": spec.architecture.code_size,
                "kind": spec.architecture.kind,
            }
        )
    return trials


def create_sweep(
    *,
    session: Session,
    store: ArtifactStore,
    body: SweepCreate,
    idempotency_key: str | None,
    limits: Settings,
    owner: str | None = None,
) -> tuple[Sweep, bool]:
    """Check everything, then add the sweep row (its trials are queued by advance, as jobs
    of `owner`, the API key, within its quota). Returns (sweep, created); a replayed
    Idempotency-Key returns the first sweep."""
    request_sha = body_digest(body)
    ttl_s = limits.idempotency_ttl_s
    existing = replayed_row(session, Sweep, idempotency_key, request_sha, ttl_s)
    if existing is not None:
        return existing, False
    dataset = get_dataset(session=session, id_or_name=body.dataset)
    _check_promote(body)
    # The checks take a while (every trial's network is built and measured: a search space
    # of 13 KB took 24 s), so no transaction stays open through them: on SQLite a write
    # session holds the one write lock, keeping out every other writer (a worker's
    # heartbeat included) until it ends.
    session.expunge(dataset)
    session.rollback()
    if not _CHECK_SLOTS.acquire(blocking=False):
        raise ServiceUnavailable(
            f"{MAX_SWEEP_CHECKS} sweeps are being checked; retry shortly",
            retry_after_s=CHECKS_RETRY_AFTER_S,
        )
    try:
        _check_metric(body, dataset, store)
        trials = planned_trials(body, dataset, limits)
    finally:
        _CHECK_SLOTS.release()
    dataset = use_dataset(session=session, id_or_name=dataset.id)  # not deleted meanwhile
    check_quota(session, owner, limits)  # a key at its quota of jobs may not start trials
    sweep = Sweep(
        id=uuid.uuid4().hex,
        model_name=body.model,
        dataset_id=dataset.id,
        request=body.model_dump(mode="json"),
        search=body.search_kind,
        status=SweepStatus.RUNNING,
        trials=trials,
        baseline={},
        idempotency_key=idempotency_key,
        request_sha256=request_sha,
        api_key_id=owner,
    )
    session.add(sweep)
    return commit_or_replay(session, sweep, idempotency_key, request_sha, ttl_s)


def get_sweep(*, session: Session, sweep_id: str) -> Sweep:
    sweep = session.get(Sweep, sweep_id)
    if sweep is None:
        raise NotFound(f"no sweep with id {sweep_id!r}", code="sweep_not_found")
    return sweep


def list_sweeps(
    *, session: Session, status: SweepStatus | None, page: PageRequest
) -> tuple[list[Sweep], int, str | None]:
    """A page of sweeps, read without their trials first: it ends early where its sweeps'
    trials and requests would pass SWEEP_PAGE_CHARS of stored JSON together (one sweep at
    least), and only then are those read, in one query. A page of 1,000 sweeps of 256
    trials read 77 MB of JSON: 8 such listings at once grew the API by 2.5 GB."""
    stored = func.length(cast(Sweep.trials, Text)) + func.length(cast(Sweep.request, Text))
    query = select(Sweep).options(
        defer(Sweep.trials), defer(Sweep.request), with_expression(Sweep.stored_chars, stored)
    )
    if status is not None:
        query = query.where(Sweep.status == status)
    columns = {"created_at": Sweep.created_at}
    filters = {"status": status}
    rows: list[Sweep]
    rows, count, token = paginate(
        session,
        query,
        page,
        columns=columns,
        tie_break=Sweep.id,
        filters=filters,
        weight=lambda sweep: sweep.stored_chars or 0,
        budget=SWEEP_PAGE_CHARS,
    )
    if rows:  # the page's trials and requests, in one query
        session.scalars(
            select(Sweep)
            .where(Sweep.id.in_([sweep.id for sweep in rows]))
            .options(undefer(Sweep.trials), undefer(Sweep.request))
        ).all()
    return rows, count, token


def cancel_sweep(*, factory: sessionmaker[Session], store: ArtifactStore, sweep_id: str) -> None:
    """End the sweep: no trial is queued after this, and its queued and running trials
    are cancelled (a running one stops at its next heartbeat). Cancelling an ended sweep
    changes nothing."""
    from service.sweeps.advance import locked_sweep

    with factory() as session:
        get_sweep(session=session, sweep_id=sweep_id)
    with locked_sweep(factory, sweep_id) as (locked, sweep):
        if sweep.status in TERMINAL_SWEEP_STATES:
            return
        sweep.status, sweep.finished_at = SweepStatus.CANCELLED, utcnow()
        locked.commit()
    with factory() as session:
        active = session.scalars(
            select(Job.id).where(Job.sweep_id == sweep_id, Job.status.in_(ACTIVE_STATES))
        ).all()
        for job_id in active:
            cancel_job(session=session, job_id=job_id, store=store)
