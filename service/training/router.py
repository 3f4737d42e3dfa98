from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request, Response, status
from sse_starlette.sse import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.deps import ContextDep, JsonBody, SessionDep, SettingsDep, StoreDep
from service.errors import problem_responses
from service.idempotency import REPLAYED, IdempotencyKey, row_key
from service.pages import PageRequest, mark_deprecated, page_request
from service.security import key_id_of
from service.training import service
from service.training.schemas import JobCreate, JobHistory, JobPublic, JobsPublic, JobStatus

# job_event.id is an INTEGER column: 32 bits on PostgreSQL, so a larger id is refused there.
MAX_EVENT_ID = 2**31 - 1
JobPage = Annotated[PageRequest, page_request(("-created_at", "created_at"), "-created_at")]
HistoryPage = Annotated[PageRequest, page_request(("reported", "-reported"), "reported", 1000)]
router = APIRouter(
    prefix="/v1/jobs", tags=["jobs"], responses=problem_responses(400, 404, 409, 413, 503)
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="create_job",
    dependencies=[JsonBody],
    responses=problem_responses(415),
    summary="Queue a training job",
)
def create_job(
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    request: Request,
    body: JobCreate,
    idempotency_key: IdempotencyKey = None,
) -> JobPublic:
    # Scoped per API key: stored as a digest of (caller, key), never the key itself.
    scoped = row_key(request, idempotency_key)
    job, created = service.submit_job(
        session=session,
        body=body,
        idempotency_key=scoped,
        limits=settings,
        owner=key_id_of(request),
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    if body.legacy or body.model_name is not None:
        mark_deprecated(response)
    if not created:
        response.headers[REPLAYED] = "true"
    return service.to_public(job)


@router.get("", operation_id="list_jobs", summary="List jobs, newest first")
def list_jobs(
    session: SessionDep,
    page: JobPage,
    response: Response,
    status: JobStatus | None = None,
    model: str | None = None,
    model_name: Annotated[
        str | None, Query(deprecated=True, description="0.x name of `model`.")
    ] = None,
) -> JobsPublic:
    if model_name is not None:
        mark_deprecated(response)
    rows, count, token = service.list_jobs(
        session=session, status=status, model_name=model or model_name, page=page
    )
    return JobsPublic(data=[service.to_public(j) for j in rows], count=count, next_page_token=token)


@router.get("/{job_id}", operation_id="read_job", summary="Get a job")
def read_job(session: SessionDep, job_id: str) -> JobPublic:
    return service.to_public(service.get_job(session=session, job_id=job_id, kind="train"))


@router.get(
    "/{job_id}/history",
    operation_id="read_job_history",
    summary="Per-epoch metrics (a batch job's: its per-chunk progress reports)",
)
def read_job_history(session: SessionDep, job_id: str, page: HistoryPage) -> JobHistory:
    epochs, count, token = service.job_history(session=session, job_id=job_id, page=page)
    return JobHistory(job_id=job_id, epochs=epochs, count=count, next_page_token=token)


@router.get(
    "/{job_id}/events",
    operation_id="stream_job_events",
    summary="Server-Sent Events: state changes and progress (per epoch, and within a long "
    "one as epoch_progress; a batch job's per chunk), to the terminal state",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string", "format": "binary"}}},
            "description": "An SSE stream (id, event, data lines) until the job ends",
        },
        **problem_responses(429),
    },
)
async def stream_job_events(
    ctx: ContextDep,
    request: Request,
    job_id: str,
    last_event_id: Annotated[
        str | None, Header(description="Resume after this event id (set by EventSource)")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="Resume after this event id")
    ] = None,
) -> EventSourceResponse:
    await run_in_threadpool(_check_job, ctx, job_id)  # 404 before the stream starts
    start = after if after is not None else _parse_event_id(last_event_id)
    streams = ctx.job_streams
    assert streams is not None, "the app creates the job streams"
    key_id = key_id_of(request)
    release = streams.open(key_id)  # 429 past the caps

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in streams.follow(job_id, after_id=start, key_id=key_id):
                yield ServerSentEvent(
                    data=orjson.dumps(event.data).decode(), event=event.kind, id=str(event.id)
                )
        finally:
            release()

    # the background release covers a client gone before the stream's first event
    return EventSourceResponse(events(), ping=15, background=BackgroundTask(release))


def _check_job(ctx: AppContext, job_id: str) -> None:
    with ctx.session_factory() as session:
        service.get_job(session=session, job_id=job_id)


def _parse_event_id(raw: str | None) -> int:
    digits = (raw or "").strip().lstrip("0") or "0"
    if not (digits.isascii() and digits.isdigit()):  # "²" is a digit to isdigit, not to int
        return 0
    if len(digits) > len(str(MAX_EVENT_ID)):  # int() refuses over 4,300 digits
        return MAX_EVENT_ID
    return min(int(digits), MAX_EVENT_ID)  # past every id; never an integer the database refuses


@router.post("/{job_id}/cancel", operation_id="cancel_job", summary="Cancel a job")
def cancel_job(session: SessionDep, store: StoreDep, job_id: str) -> JobPublic:
    job = service.cancel_job(session=session, job_id=job_id, store=store, kind="train")
    return service.to_public(job)
