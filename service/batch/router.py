"""/v1/batch-jobs: submit, list, read and cancel batch inference jobs. Their events stream
from /v1/jobs/{job_id}/events like a training job's (one job table, one event log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from service.batch import service
from service.batch.schemas import BatchJobCreate, BatchJobPublic, BatchJobsPublic
from service.deps import JsonBody, SessionDep, SettingsDep, StoreDep
from service.errors import problem_responses
from service.idempotency import REPLAYED, IdempotencyKey, row_key
from service.pages import PageRequest, page_request
from service.security import key_id_of
from service.training.schemas import JobStatus

BatchPage = Annotated[PageRequest, page_request(("-created_at", "created_at"), "-created_at")]
router = APIRouter(
    prefix="/v1/batch-jobs",
    tags=["batch-jobs"],
    responses=problem_responses(400, 404, 409, 413, 503),
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="create_batch_job",
    dependencies=[JsonBody],
    responses=problem_responses(410, 415),
    summary="Queue a batch job: encode, reconstruct or score a dataset into a new dataset",
)
def create_batch_job(
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    request: Request,
    body: BatchJobCreate,
    idempotency_key: IdempotencyKey = None,
) -> BatchJobPublic:
    # Scoped per API key and per kind of job: a digest, never the key itself.
    scoped = row_key(request, idempotency_key, "batch")
    job, created = service.submit(
        session=session,
        body=body,
        idempotency_key=scoped,
        limits=settings,
        owner=key_id_of(request),
    )
    response.headers["Location"] = f"/v1/batch-jobs/{job.id}"
    if not created:
        response.headers[REPLAYED] = "true"
    return service.to_public(job)


@router.get("", operation_id="list_batch_jobs", summary="List batch jobs, newest first")
def list_batch_jobs(
    session: SessionDep,
    page: BatchPage,
    status: JobStatus | None = None,
    model: str | None = None,
) -> BatchJobsPublic:
    rows, count, token = service.list_batch_jobs(
        session=session, status=status, model=model, page=page
    )
    return BatchJobsPublic(
        data=[service.to_public(j) for j in rows], count=count, next_page_token=token
    )


@router.get("/{job_id}", operation_id="read_batch_job", summary="Get a batch job")
def read_batch_job(session: SessionDep, job_id: str) -> BatchJobPublic:
    return service.to_public(service.get(session=session, job_id=job_id))


@router.post(
    "/{job_id}/cancel",
    operation_id="cancel_batch_job",
    summary="Cancel a batch job (its chunks written so far are removed)",
)
def cancel_batch_job(session: SessionDep, store: StoreDep, job_id: str) -> BatchJobPublic:
    return service.to_public(service.cancel(session=session, job_id=job_id, store=store))
