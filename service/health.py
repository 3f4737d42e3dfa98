"""Liveness and readiness."""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from service.context import AppContext
from service.database import current_revisions, migration_heads

router = APIRouter(tags=["health"])
# A readiness probe must answer within its own timeout even when the database hangs.
DATABASE_CHECK_TIMEOUT_S = 2.0
NOT_READY_RETRY_AFTER_S = 5


@router.get(
    "/healthz",
    operation_id="read_health",
    summary="The process is alive (liveness: needs neither the database nor the workers)",
)
def read_health() -> dict[str, str]:
    return {"status": "ok"}


class DatabaseCheck:
    """One probe of the database, in its own thread; every readiness request that arrives
    while it runs waits for it (until `deadline`) and shares its outcome."""

    def __init__(self, engine: Any, timeout_s: float) -> None:
        self.outcome: dict[str, Any] = {}
        self.deadline = time.monotonic() + timeout_s
        self.thread = threading.Thread(
            target=self._run, args=(engine,), name="readiness-database", daemon=True
        )

    def _run(self, engine: Any) -> None:
        try:  # connects, so it fails when the database is unreachable
            self.outcome["revisions"] = current_revisions(engine)
        except Exception as exc:
            self.outcome["error"] = exc


_CHECK_LOCK = threading.Lock()


def _database_revisions(ctx: AppContext, timeout_s: float) -> set[str]:
    """The database's migration revisions; raises when it is unreachable or slower than
    timeout_s (the query then finishes, or fails, in its own thread)."""
    # One check in flight at most: probes of a hung database must not pile up threads, and
    # probes that arrive together share one check (a second probe answered 503 "the previous
    # check has not answered yet" while the first one's query ran: two balancers, or a
    # caller probing in a loop, took a healthy instance out of service).
    with _CHECK_LOCK:
        check = ctx.readiness_check
        if check is None or not check.thread.is_alive():
            check = DatabaseCheck(ctx.engine, timeout_s)
            ctx.readiness_check = check
            check.thread.start()
    check.thread.join(max(0.0, check.deadline - time.monotonic()))
    if check.thread.is_alive():
        raise TimeoutError(f"no answer within {timeout_s:g} s")
    if "error" in check.outcome:
        raise check.outcome["error"]
    revisions: set[str] = check.outcome["revisions"]
    return revisions


def readiness(ctx: AppContext) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        current = _database_revisions(ctx, DATABASE_CHECK_TIMEOUT_S)
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "detail": f"unreachable: {type(exc).__name__}"}
    if checks["database"]["ok"]:
        if ctx.migration_heads is None:
            ctx.migration_heads = migration_heads(ctx.settings.resolved_database_url)
        heads = ctx.migration_heads
        checks["migrations"] = {
            "ok": current == heads,
            "current": sorted(current),
            "head": sorted(heads),
        }
    else:
        checks["migrations"] = {"ok": False, "detail": "database unreachable"}
    pool = ctx.worker_pool
    if pool is None:
        checks["workers"] = {"ok": True, "detail": "no local workers in this process"}
    else:
        checks["workers"] = {"ok": pool.alive(), "pids": pool.pids()}
    preloader = ctx.preloader
    if preloader is not None and preloader.refs:  # AESVC_PRELOAD: loaded and warm
        checks["models"] = preloader.check()
    return checks


class Check(BaseModel):
    model_config = ConfigDict(extra="allow")  # a check may add what it saw (pids, versions)
    ok: bool
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, Check] = Field(description="database, migrations, workers, models")
    failing: list[str] | None = None


@router.get(
    "/readyz",
    operation_id="read_readiness",
    summary="Database reachable, migrations at head, worker pool alive, preloaded models warm",
    responses={
        200: {"model": Readiness, "description": "Every check passed"},
        503: {"model": Readiness, "description": "A check failed (`failing` names it)"},
    },
)
def read_readiness(request: Request) -> JSONResponse:
    checks = readiness(request.app.state.ctx)
    ok = all(c["ok"] for c in checks.values())
    failing = [name for name, c in checks.items() if not c["ok"]]
    body: dict[str, Any] = {"status": "ready" if ok else "unavailable", "checks": checks}
    if not ok:
        body["failing"] = failing
        headers = {"Retry-After": str(NOT_READY_RETRY_AFTER_S)}
        return JSONResponse(body, status_code=503, headers=headers)
    return JSONResponse(body)
