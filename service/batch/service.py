"""Batch jobs as the API sees them: submit (checked against the model and the dataset
before anything is queued), read, list, cancel. They are rows of the job table with
kind "batch", so the worker pool, Ray, leases, retries and events serve them unchanged."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.batch.schemas import (
    BatchJobCreate,
    BatchJobPublic,
    BatchOperation,
    BatchProgress,
)
from service.blob_guard import lock_name
from service.config import Settings
from service.datasets.service import check_name, use_dataset
from service.datasets.tables import Dataset
from service.errors import Conflict, Unprocessable
from service.idempotency import body_digest, commit_or_replay, replayed_row
from service.pages import PageRequest, paginate
from service.registry.service import resolve_version
from service.training import service as jobs
from service.training.schemas import ACTIVE_STATES, LEASED_STATES, JobStatus, WorkerInfo
from service.training.tables import Job

log = logging.getLogger(__name__)
KIND = "batch"


def output_name(body: BatchJobCreate, dataset: Dataset, job_id: str) -> str:
    if body.output is not None:
        return check_name(body.output, "output")
    suffix = f"-{body.operation.value}-{job_id[:8]}"
    return f"{dataset.name[: 128 - len(suffix)]}{suffix}"


def _check_output_free(session: Session, name: str) -> None:
    """409 where a dataset has the name, or an active batch job will create it. The name is
    locked first until the submission commits (PostgreSQL: an advisory lock; SQLite's
    IMMEDIATE transaction does as much), so of two submissions naming it one sees the other."""
    lock_name(session, f"batch-output:{name}")
    if session.scalar(select(Dataset.id).where(Dataset.name == name)) is not None:
        raise Conflict(f"a dataset named {name!r} already exists", code="dataset_name_taken")
    active = session.scalars(
        select(Job.batch).where(Job.kind == KIND, Job.status.in_(ACTIVE_STATES))
    ).all()
    if any((params or {}).get("output") == name for params in active):
        raise Conflict(
            f"a queued or running batch job will create dataset {name!r}",
            code="dataset_name_taken",
        )


def submit(
    *,
    session: Session,
    body: BatchJobCreate,
    idempotency_key: str | None,
    limits: Settings,
    owner: str | None = None,
) -> tuple[Job, bool]:
    """Queue a batch job; returns (job, created). A replayed Idempotency-Key returns the
    first job. The version is resolved now: the job runs that version, whatever an alias
    does later. `owner`: the API key whose quota of active jobs it counts against."""
    request_sha = body_digest(body)
    ttl_s = limits.idempotency_ttl_s
    existing = replayed_row(session, Job, idempotency_key, request_sha, ttl_s)
    if existing is not None:
        return existing, False
    jobs.check_quota(session, owner, limits)
    version = resolve_version(session=session, name=body.model, ref=body.ref)
    dataset = use_dataset(session=session, id_or_name=body.dataset)
    if dataset.n_features != version.n_features:
        raise Unprocessable(
            "dataset",
            f"dataset {dataset.name!r} has {dataset.n_features} features; version "
            f"{version.version} of {body.model!r} takes {version.n_features}",
            code="feature_count_mismatch",
        )
    job_id = uuid.uuid4().hex
    output = output_name(body, dataset, job_id)
    _check_output_free(session, output)
    job = Job(
        id=job_id,
        kind=KIND,
        model_name=body.model,
        dataset_id=dataset.id,
        spec={},
        batch={
            "version": version.version,
            "ref": body.ref,
            "operation": body.operation.value,
            "output": output,
            "output_dataset_id": None,
        },
        status=JobStatus.QUEUED,
        priority=body.priority,
        attempt_errors=[],
        idempotency_key=idempotency_key,
        request_sha256=request_sha,
        api_key_id=owner,
    )
    session.add(job)
    session.flush()
    jobs.add_event(session, job.id, "state", {"status": JobStatus.QUEUED})
    job, created = commit_or_replay(session, job, idempotency_key, request_sha, ttl_s)
    if created:
        log.info("batch job %s queued: %s of %s", job.id, body.operation.value, dataset.name)
    return job, created


def get(*, session: Session, job_id: str) -> Job:
    return jobs.get_job(session=session, job_id=job_id, kind=KIND)


def list_batch_jobs(
    *, session: Session, status: JobStatus | None, model: str | None, page: PageRequest
) -> tuple[list[Job], int, str | None]:
    query = select(Job).where(Job.kind == KIND)
    if status is not None:
        query = query.where(Job.status == status)
    if model is not None:
        query = query.where(Job.model_name == model)
    filters = {"status": status, "model": model, "kind": KIND}
    columns = {"created_at": Job.created_at}
    return paginate(session, query, page, columns=columns, tie_break=Job.id, filters=filters)


def cancel(*, session: Session, job_id: str, store: ArtifactStore) -> Job:
    return jobs.cancel_job(session=session, job_id=job_id, store=store, kind=KIND)


def to_public(job: Job) -> BatchJobPublic:
    params = job.batch or {}
    running = job.status in LEASED_STATES and job.worker_host is not None
    return BatchJobPublic(
        id=job.id,
        model=job.model_name,
        version=params["version"],
        dataset_id=job.dataset_id,
        operation=BatchOperation(params["operation"]),
        output=params["output"],
        output_dataset_id=params.get("output_dataset_id"),
        status=JobStatus(job.status),
        attempt=job.attempt,
        max_attempts=job.max_attempts,
        priority=job.priority,
        progress=BatchProgress.model_validate(job.progress) if job.progress else None,
        worker=WorkerInfo(host=job.worker_host or "", pid=job.worker_pid or 0) if running else None,
        error=job.error,
        attempt_errors=list(job.attempt_errors or []),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
