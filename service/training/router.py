from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from service.deps import SessionDep
from service.training import service
from service.training.schemas import JobCreate, JobHistory, JobPublic, JobsPublic, JobStatus

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="create_job",
    summary="Queue a training job",
)
def create_job(
    session: SessionDep,
    response: Response,
    body: JobCreate,
    idempotency_key: Annotated[
        str | None, Header(max_length=255, description="Replays return the first job")
    ] = None,
) -> JobPublic:
    job, _created = service.submit_job(session=session, body=body, idempotency_key=idempotency_key)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return service.to_public(job)


@router.get("", operation_id="list_jobs", summary="List jobs, newest first")
def list_jobs(
    session: SessionDep,
    status: JobStatus | None = None,
    model_name: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobsPublic:
    rows, count = service.list_jobs(
        session=session, status=status, model_name=model_name, offset=offset, limit=limit
    )
    return JobsPublic(data=[service.to_public(j) for j in rows], count=count)


@router.get("/{job_id}", operation_id="read_job", summary="Get a job")
def read_job(session: SessionDep, job_id: str) -> JobPublic:
    return service.to_public(service.get_job(session=session, job_id=job_id))


@router.get("/{job_id}/history", operation_id="read_job_history", summary="Per-epoch metrics")
def read_job_history(session: SessionDep, job_id: str) -> JobHistory:
    return JobHistory(job_id=job_id, epochs=service.job_history(session=session, job_id=job_id))


@router.post("/{job_id}/cancel", operation_id="cancel_job", summary="Cancel a job")
def cancel_job(session: SessionDep, job_id: str) -> JobPublic:
    return service.to_public(service.cancel_job(session=session, job_id=job_id))
