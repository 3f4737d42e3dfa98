"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.context import AppContext
from service.database import current_revisions, migration_heads

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="read_health", summary="The process is alive")
def read_health() -> dict[str, str]:
    return {"status": "ok"}


def readiness(ctx: AppContext) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "detail": f"unreachable: {type(exc).__name__}"}
    if checks["database"]["ok"]:
        heads = ctx.extras.setdefault(
            "migration_heads", migration_heads(ctx.settings.resolved_database_url)
        )
        current = current_revisions(ctx.engine)
        checks["migrations"] = {
            "ok": current == heads,
            "current": sorted(current),
            "head": sorted(heads),
        }
    else:
        checks["migrations"] = {"ok": False, "detail": "database unreachable"}
    pool = ctx.extras.get("worker_pool")
    if pool is None:
        checks["workers"] = {"ok": True, "detail": "no local workers in this process"}
    else:
        checks["workers"] = {"ok": pool.alive(), "pids": pool.pids()}
    preloader = ctx.extras.get("preloader")
    if preloader is not None and preloader.refs:  # AESVC_PRELOAD: loaded and warm
        checks["models"] = preloader.check()
    return checks


@router.get(
    "/readyz",
    operation_id="read_readiness",
    summary="Database reachable, migrations at head, worker pool alive, preloaded models warm",
    responses={503: {"description": "A check failed"}},
)
def read_readiness(request: Request) -> JSONResponse:
    checks = readiness(request.app.state.ctx)
    ok = all(c["ok"] for c in checks.values())
    failing = [name for name, c in checks.items() if not c["ok"]]
    body: dict[str, Any] = {"status": "ready" if ok else "unavailable", "checks": checks}
    if not ok:
        body["failing"] = failing
    return JSONResponse(body, status_code=200 if ok else 503)
