"""Jobs as the API sees them: submit, read, list, cancel, follow."""

from __future__ import annotations

import contextlib
import logging
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.config import Settings
from service.database import utcnow
from service.datasets.service import use_dataset
from service.datasets.tables import Dataset
from service.errors import Conflict, NotFound, Unprocessable
from service.idempotency import body_digest, commit_or_replay, replayed_row
from service.pages import PageRequest, paginate
from service.rate_limits import RateLimited
from service.training.schemas import (
    ACTIVE_STATES,
    LEASED_STATES,
    TERMINAL_STATES,
    JobCreate,
    JobProgress,
    JobPublic,
    JobStatus,
    WorkerInfo,
)
from service.training.tables import Job, JobEvent
from service.zoo.auto import resolve_spec, with_linear_path
from service.zoo.budget import check_budget
from service.zoo.profile import DataProfile
from service.zoo.spec import ModelSpec, SpecError, check_against_dataset, check_spec

log = logging.getLogger(__name__)
QUOTA_RETRY_AFTER_S = 30  # a job takes seconds to hours: a hint, not a promise


def preprocessed_range(dataset: Dataset, preprocessing: str) -> tuple[float, float]:
    """Where the data will lie after preprocessing, from the stored per-feature stats."""
    stats = dataset.stats
    lo, hi = stats["min"], stats["max"]
    if preprocessing in ("minmax", "global_minmax"):
        return 0.0, 1.0
    if preprocessing == "none":
        return min(lo), max(hi)
    mean, std = stats["mean"], stats["std"]
    scaled = [
        ((a - m) / (s or 1.0), (b - m) / (s or 1.0))
        for a, b, m, s in zip(lo, hi, mean, std, strict=True)
    ]
    return min(a for a, _ in scaled), max(b for _, b in scaled)


def dataset_profile(dataset: Dataset) -> DataProfile:
    """The profile taken at upload; older datasets: what their stored stats tell."""
    if dataset.profile is not None:
        return DataProfile.model_validate(dataset.profile)
    stats = dataset.stats
    return DataProfile(
        n_rows=dataset.n_rows,
        n_features=dataset.n_features,
        image=dataset.image_shape is not None,
        min=min(stats["min"]),
        max=max(stats["max"]),
        integer_valued=False,
        binary_fraction=0.0,
        constant_fraction=float(np.mean([s <= 1e-12 for s in stats["std"]])),
        heavy_tailed_fraction=0.0,
    )


def validate_spec_for(
    spec: ModelSpec, dataset: Dataset, *, limits: Settings, prefix: tuple[str, ...] = ()
) -> None:
    """Refuse a spec this dataset cannot train, judged on what its `auto` fields become;
    `prefix` is where the spec lies in the request body."""
    asked, profile = spec, dataset_profile(dataset)
    spec, _ = resolve_spec(spec, profile)
    lo, hi = preprocessed_range(dataset, spec.preprocessing)
    shape = tuple(dataset.image_shape) if dataset.image_shape else None
    try:
        check_spec(spec)
        check_against_dataset(
            spec,
            n_features=dataset.n_features,
            image_shape=shape,
            preprocessed_min=lo,
            preprocessed_max=hi,
        )
        check_budget(
            spec,
            n_features=dataset.n_features,
            image_shape=shape,
            max_parameters=limits.resolved_max_model_parameters,
            max_training_bytes=limits.resolved_max_training_bytes,
        )
    except SpecError as exc:
        raise Unprocessable((*prefix, *exc.loc), exc.message) from exc
    second = with_linear_path(asked, profile)
    if second is not None:  # the model a second training on a linear path would build
        try:
            check_budget(
                second[0],
                n_features=dataset.n_features,
                image_shape=shape,
                max_parameters=limits.resolved_max_model_parameters,
                max_training_bytes=limits.resolved_max_training_bytes,
            )
        except SpecError as exc:
            raise Unprocessable(
                (*prefix, "architecture", "linear_path"),
                f"where this model loses to PCA the job trains it again on a linear path, "
                f"and then {exc.message}: set architecture.linear_path to false",
            ) from exc
    n_val = max(1, round(dataset.n_rows * spec.training.validation_fraction))  # as split_rows
    if dataset.n_rows - n_val < 1:
        raise Unprocessable(
            (*prefix, "training", "validation_fraction"),
            f"{spec.training.validation_fraction} of {dataset.name!r}'s {dataset.n_rows} rows "
            f"leaves no row to train on ({n_val} validation rows)",
        )


def check_quota(session: Session, owner: str | None, limits: Settings) -> None:
    """429 where this API key already has its quota of queued and running jobs. Checked at
    submission: two submissions racing past the last free place may both pass."""
    quota = limits.resolved_quota_active_jobs
    if owner is None or quota is None:
        return
    active = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.api_key_id == owner, Job.status.in_(ACTIVE_STATES))
    )
    if active is not None and active >= quota:
        refused = RateLimited(
            f"this API key has {active} queued or running jobs, its quota "
            f"(AESVC_QUOTA_ACTIVE_JOBS) is {quota}: retry when one ends, or cancel one",
            code="quota_exceeded",
            quota=quota,
            active_jobs=int(active),
        )
        refused.headers["Retry-After"] = str(QUOTA_RETRY_AFTER_S)
        raise refused


def submit_job(
    *,
    session: Session,
    body: JobCreate,
    idempotency_key: str | None,
    limits: Settings,
    owner: str | None = None,
) -> tuple[Job, bool]:
    """Queue a job; returns (job, created). A replayed Idempotency-Key returns the first job.
    `owner`: the submitting API key's id, whose quota the job counts against."""
    request_sha = body_digest(body)
    ttl_s = limits.idempotency_ttl_s
    existing = replayed_row(session, Job, idempotency_key, request_sha, ttl_s)
    if existing is not None:
        return existing, False
    shape = body.shape_problem()
    if shape is not None:
        raise Unprocessable(*shape)
    check_quota(session, owner, limits)
    dataset = use_dataset(session=session, id_or_name=body.dataset)
    spec = body.to_spec()
    validate_spec_for(spec, dataset, limits=limits, prefix=() if body.legacy else ("spec",))
    job = Job(
        id=uuid.uuid4().hex,
        model_name=body.model_ref,
        dataset_id=dataset.id,
        spec=spec.model_dump(mode="json"),
        status=JobStatus.QUEUED,
        priority=body.priority,
        max_attempts=spec.training.max_attempts,
        attempt_errors=[],
        idempotency_key=idempotency_key,
        request_sha256=request_sha,
        api_key_id=owner,
    )
    session.add(job)
    session.flush()
    add_event(session, job.id, "state", {"status": JobStatus.QUEUED})
    job, created = commit_or_replay(session, job, idempotency_key, request_sha, ttl_s)
    if created:
        log.info("job %s queued for model %s", job.id, job.model_name)
    return job, created


def add_event(session: Session, job_id: str, kind: str, data: dict[str, Any]) -> None:
    session.add(JobEvent(job_id=job_id, kind=kind, data=data))


def refuse_while_training(session: Session, model_name: str) -> None:
    """409 while a job will still add a version to this model (deleting it would lose that
    version's model, or bring the model back with its numbers restarted)."""
    active = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.model_name == model_name, Job.status.in_(ACTIVE_STATES))
    )
    if active:
        raise Conflict(
            f"{active} job(s) for model {model_name!r} are queued or running; cancel them or "
            "wait for them to finish first",
            code="model_has_active_jobs",
            active_jobs=int(active),
        )


def get_job(*, session: Session, job_id: str, kind: str | None = None) -> Job:
    """A job of any kind, or of this `kind` only ("train" under /v1/jobs, "batch" under
    /v1/batch-jobs: a job's id under the other prefix is not found)."""
    job = session.get(Job, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise NotFound(f"no job with id {job_id!r}", code="job_not_found")
    return job


def list_jobs(
    *, session: Session, status: JobStatus | None, model_name: str | None, page: PageRequest
) -> tuple[list[Job], int, str | None]:
    query = select(Job).where(Job.kind == "train")  # batch jobs: /v1/batch-jobs
    if status is not None:
        query = query.where(Job.status == status)
    if model_name is not None:
        query = query.where(Job.model_name == model_name)
    filters = {"status": status, "model_name": model_name}
    columns = {"created_at": Job.created_at}
    return paginate(session, query, page, columns=columns, tie_break=Job.id, filters=filters)


def cancel_job(
    *, session: Session, job_id: str, store: ArtifactStore | None = None, kind: str | None = None
) -> Job:
    job = get_job(session=session, job_id=job_id, kind=kind)
    # PostgreSQL: the row locked, so that a requeue or hand-back reading it meanwhile
    # decides and commits first, or after (SQLite: the write transaction does as much)
    session.refresh(job, with_for_update=True)
    if job.status in TERMINAL_STATES or job.status == JobStatus.CANCELLING:
        return job
    cancelled_queued = False
    for old, new in (
        (JobStatus.QUEUED, JobStatus.CANCELLED),
        (JobStatus.RUNNING, JobStatus.CANCELLING),
    ):
        values: dict[str, Any] = {"status": new}
        if new == JobStatus.CANCELLED:
            values["finished_at"] = utcnow()
        result = session.execute(
            update(Job).where(Job.id == job_id, Job.status == old).values(**values)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            add_event(session, job_id, "state", {"status": new})
            cancelled_queued = new == JobStatus.CANCELLED
            break
    session.commit()
    session.refresh(job)
    if cancelled_queued and job.kind == "batch" and store is not None:
        from service.batch.output import drop_written  # a handed-back job's chunks

        drop_written(session, store, job.id)
    if cancelled_queued and job.checkpoint_uri:
        # A job handed back or reaped left its checkpoint to resume from; none will now.
        if store is not None:
            store.checkpoint(job.id).delete()
        elif "://" not in job.checkpoint_uri:
            with contextlib.suppress(OSError):
                Path(job.checkpoint_uri).unlink(missing_ok=True)
    return job


def _progress(job_id: str) -> Any:
    return select(JobEvent.data).where(JobEvent.job_id == job_id, JobEvent.kind == "progress")


def progress_reports(*, session: Session, job_id: str) -> list[dict[str, Any]]:
    """Every per-epoch report of a job, for the server's own plots (its other events, a
    within-epoch report every few seconds among them, are not read)."""
    get_job(session=session, job_id=job_id)
    return list(session.scalars(_progress(job_id).order_by(JobEvent.id)))


def last_progress_id(*, session: Session, job_id: str) -> int:
    """The id of the job's latest per-epoch report (0 before the first): what a plot of
    them is keyed by."""
    last = _progress(job_id).with_only_columns(func.max(JobEvent.id))
    return session.scalar(last) or 0


def job_history(
    *, session: Session, job_id: str, page: PageRequest
) -> tuple[list[dict[str, Any]], int, str | None]:
    """The per-epoch reports, every attempt's, in the order they came."""
    get_job(session=session, job_id=job_id)
    query = select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.kind == "progress")
    return paginate(
        session,
        query,
        page,
        columns={"reported": JobEvent.id},
        tie_break=JobEvent.id,
        filters={"job": job_id},
        convert=lambda event: event.data,
    )


def to_public(job: Job) -> JobPublic:
    running = job.status in LEASED_STATES and job.worker_host is not None
    return JobPublic(
        id=job.id,
        model=job.model_name,
        model_name=job.model_name,
        dataset_id=job.dataset_id,
        status=JobStatus(job.status),
        attempt=job.attempt,
        max_attempts=job.max_attempts,
        priority=job.priority,
        progress=JobProgress.model_validate(job.progress) if job.progress else None,
        worker=WorkerInfo(host=job.worker_host or "", pid=job.worker_pid or 0) if running else None,
        error=job.error,
        attempt_errors=list(job.attempt_errors or []),
        model_version=job.model_version,
        sweep_id=job.sweep_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        spec=ModelSpec.stored(job.spec),
    )
