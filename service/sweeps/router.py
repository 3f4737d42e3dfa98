"""/v1/sweeps: create, list, read, cancel, and the curve plot."""

from __future__ import annotations

import hashlib
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from starlette.concurrency import run_in_threadpool

from service.context import AppContext
from service.deps import ContextDep, JsonBody, SessionDep
from service.errors import problem_responses
from service.idempotency import REPLAYED, IdempotencyKey, row_key
from service.pages import PageRequest, page_request
from service.security import Forbidden, caller_allows, key_id_of
from service.sweeps import service, views
from service.sweeps.advance import advance_sweep
from service.sweeps.schemas import SweepCreate, SweepPublic, SweepsPublic, SweepStatus
from service.ui.router import PNG_RESPONSES, png_response
from service.ui.service import plot_cache

log = logging.getLogger(__name__)
SweepPage = Annotated[PageRequest, page_request(("-created_at", "created_at"), "-created_at")]
INM = Annotated[str | None, Header(description="An ETag from an earlier answer")]
router = APIRouter(
    prefix="/v1/sweeps", tags=["sweeps"], responses=problem_responses(400, 404, 409, 413, 503)
)


def _read(ctx: AppContext, sweep_id: str) -> SweepPublic:
    with ctx.session_factory() as session:
        return views.to_public(session, service.get_sweep(session=session, sweep_id=sweep_id))


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="create_sweep",
    dependencies=[JsonBody],
    responses=problem_responses(415),
    summary="Start a sweep: a grid or a search of trials, each an ordinary job",
)
def create_sweep(
    ctx: ContextDep,
    session: SessionDep,
    response: Response,
    request: Request,
    body: SweepCreate,
    idempotency_key: IdempotencyKey = None,
) -> SweepPublic:
    scoped = row_key(request, idempotency_key)
    if body.promote is not None and not caller_allows(request, "admin"):
        raise Forbidden(
            f"promote: moving the alias {body.promote!r} needs the admin scope, as moving it "
            "by hand does; leave promote out and move it once the sweep has ended"
        )
    sweep, created = service.create_sweep(
        session=session,
        store=ctx.store,
        body=body,
        idempotency_key=scoped,
        limits=ctx.settings,
        owner=key_id_of(request),
    )
    if created:  # its first trials are queued before the answer names them
        try:
            advance_sweep(ctx.session_factory, ctx.store, ctx.settings, sweep.id)
        except Exception:  # the sweep is stored: the next pass (API or worker) retries
            log.exception("sweep %s: its first trials were not queued yet", sweep.id)
    else:
        response.headers[REPLAYED] = "true"
    response.headers["Location"] = f"/v1/sweeps/{sweep.id}"
    return _read(ctx, sweep.id)


@router.get("", operation_id="list_sweeps", summary="List sweeps, newest first")
def list_sweeps(
    session: SessionDep, page: SweepPage, status: SweepStatus | None = None
) -> SweepsPublic:
    rows, count, token = service.list_sweeps(session=session, status=status, page=page)
    return SweepsPublic(
        data=[views.to_summary(s) for s in rows], count=count, next_page_token=token
    )


@router.get("/{sweep_id}", operation_id="read_sweep", summary="A sweep: trials, best, recommended")
def read_sweep(session: SessionDep, sweep_id: str) -> SweepPublic:
    return views.to_public(session, service.get_sweep(session=session, sweep_id=sweep_id))


@router.post(
    "/{sweep_id}/cancel",
    operation_id="cancel_sweep",
    summary="Cancel a sweep: no more trials; its queued and running trials are cancelled",
)
def cancel_sweep(ctx: ContextDep, sweep_id: str) -> SweepPublic:
    service.cancel_sweep(factory=ctx.session_factory, store=ctx.store, sweep_id=sweep_id)
    return _read(ctx, sweep_id)


@router.get(
    "/{sweep_id}/plots/curve.png",
    operation_id="read_sweep_curve_plot",
    summary="The metric against the code size, a line per kind, PCA beside, the "
    "recommended trial marked",
    response_class=Response,
    responses=PNG_RESPONSES,
)
async def read_sweep_curve_plot(
    ctx: ContextDep, sweep_id: str, if_none_match: INM = None
) -> Response:
    from service.sweeps.plots import curve_png  # here: matplotlib slows an API start

    sweep = await run_in_threadpool(_read, ctx, sweep_id)
    # drawn from the sweep's answer alone: one render per state of it (0.3 s of CPU each)
    key = f"sweep:{hashlib.sha256(sweep.model_dump_json().encode()).hexdigest()}"
    png = await run_in_threadpool(plot_cache(ctx).get_or_render, key, lambda: curve_png(sweep))
    return png_response(png, if_none_match)
