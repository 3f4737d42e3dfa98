"""The application: create_app(settings) and its lifespan."""

from __future__ import annotations

import functools
import gc
import inspect
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from prometheus_client import Gauge
from starlette.concurrency import run_in_threadpool

from service.config import Settings
from service.context import AppContext
from service.database import migrate
from service.docs import router as docs_router
from service.errors import document_problems, install_error_handlers
from service.etags import ETagMiddleware, document_etags
from service.guard import RequestGuard
from service.inference.api.fastpath import FastPathApp, InferenceFastPath
from service.json_bodies import JsonBodyPool
from service.limits import BodyLimitMiddleware
from service.metrics import JobsCollector, RequestMetricsMiddleware, ServiceMetrics
from service.openapi_contract import document_contract
from service.rate_limits import RateLimiter
from service.request_id import RequestIdMiddleware
from service.security import AuthorizeBeforeBody, authorize, key_is_active
from service.strict_query import reject_unknown_query
from service.training.streams import JobStreams

log = logging.getLogger(__name__)
API_VERSION = "1.0.0"


INFERENCE_OPERATIONS = {"encode", "decode", "reconstruct", "score", "generate", "interpolate"}


def _start_inference(ctx: AppContext, metrics: ServiceMetrics) -> None:
    from service.inference.runtime.cache import ModelCache, Preloader
    from service.inference.runtime.engine import InferenceEngine

    engine = InferenceEngine(ctx.settings, metrics)
    cache = ModelCache(
        ctx.store,
        max_bytes=ctx.settings.model_cache_bytes,
        devices=tuple(engine.devices),
        warmup=engine.warm_up,
        metrics=metrics,
    )
    engine.live = cache.loaded_models
    cache.on_evict = engine.forget_soon
    ctx.inference_engine, ctx.model_cache = engine, cache
    ctx.preloader = Preloader(ctx)
    ctx.preloader.start()


def _start(ctx: AppContext, metrics: ServiceMetrics, *, start_workers: bool) -> None:
    from service.datasets.service import register_builtins

    migrate(ctx.settings.resolved_database_url)
    ctx.sweep_abandoned_temp_files()
    if ctx.settings.builtin_datasets:
        with ctx.session_factory() as session:
            register_builtins(session=session, store=ctx.store)
    _start_inference(ctx, metrics)
    if start_workers and ctx.settings.executor == "ray":
        from service.executors.ray_executor import RayDispatcher

        dispatcher = RayDispatcher(ctx.settings)
        dispatcher.start()
        ctx.worker_pool = dispatcher
    elif start_workers and ctx.settings.workers > 0:
        from service.executors.local import WorkerPool

        pool = WorkerPool(ctx.settings, on_oom_kill=_fail_jobs_of(ctx))
        pool.start()
        ctx.worker_pool = pool
    if start_workers:  # running sweeps move on here too (service.sweeps.advance)
        from service.sweeps.background import SweepAdvancer

        ctx.sweep_advancer = SweepAdvancer(ctx.session_factory, ctx.store, ctx.settings)
        ctx.sweep_advancer.start()


# The writes that take If-Match (service.etags).
IF_MATCH_OPERATIONS = {
    "set_model_alias",
    "delete_model_alias",
    "update_model",
    "delete_model",
    "delete_model_version",
    "delete_dataset",
}


def _fail_jobs_of(ctx: AppContext) -> Callable[[int, str], None]:
    def fail(pid: int, error: str) -> None:
        from service.training.lifecycle import fail_jobs_of_oom_killed_worker

        fail_jobs_of_oom_killed_worker(
            ctx.session_factory, host=socket.gethostname(), pid=pid, error=error, store=ctx.store
        )

    return fail


def _telemetry(settings: Settings) -> dict[str, Any]:
    """FastAPI (0.16x on) looks up OpenTelemetry providers on every request unless told not
    to: AESVC_OPENTELEMETRY=false (the default) tells it."""
    if settings.opentelemetry or "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(
    settings: Settings | None = None, *, start_workers: bool = True, freeze_gc: bool = False
) -> FastAPI:
    """The app. `freeze_gc` (aesvc serve): once started, everything built so far (the app,
    torch, the warm preloaded models) moves to the collector's permanent generation, so a
    full collection scans only what requests made, not every object the import made (a
    stall for every request in flight; docs/performance.md has the figures)."""
    settings = settings or Settings()
    ctx = AppContext.from_settings(settings)
    metrics = ServiceMetrics(INFERENCE_OPERATIONS | {"oip_infer", "oip_infer_version"})
    metrics.registry.register(JobsCollector(ctx))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_start, ctx, metrics, start_workers=start_workers)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if ctx.preloader is not None:
                ctx.preloader.stop()
            if ctx.inference_engine is not None:
                ctx.inference_engine.close()
            ctx.shared_memory.close()
            if ctx.json_bodies is not None:
                ctx.json_bodies.close()
            if ctx.sweep_advancer is not None:
                await run_in_threadpool(ctx.sweep_advancer.stop)
            if ctx.worker_pool is not None:
                await run_in_threadpool(ctx.worker_pool.stop)
            ctx.close()

    public_docs = settings.docs_are_public
    app = FastPathApp(
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
        openapi_url="/openapi.json" if public_docs else None,
        title="autoencoder-service",
        version=API_VERSION,
        description="Train autoencoders on a worker pool, keep every version, serve batched "
        "inference: encode, decode, reconstruct, score, generate, interpolate.",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
        **_telemetry(settings),
    )
    openapi = app.openapi
    documented: list[dict[str, Any]] = []

    def documented_openapi() -> dict[str, Any]:
        """Built once: FastAPI keeps its own part, and the passes over it cost every
        /openapi.json 5 ms of the event loop."""
        if not documented:
            documented.append(
                document_contract(document_etags(document_problems(openapi()), IF_MATCH_OPERATIONS))
            )
        return documented[0]

    app.openapi = documented_openapi  # type: ignore[method-assign]
    app.state.ctx = ctx
    app.state.metrics = metrics
    ctx.json_bodies = JsonBodyPool(processes=settings.json_parse_processes)
    if (per_s := settings.resolved_rate_limit_per_s) is not None:
        ctx.rate_limiter = RateLimiter(per_s, settings.rate_limit_burst)
    ctx.job_streams = streams = JobStreams(
        ctx.session_factory,
        max_per_key=settings.max_streams_per_key,
        max_total=settings.max_streams,
        key_check_s=settings.stream_key_check_s,
        key_is_active=functools.partial(key_is_active, ctx.session_factory),
    )
    Gauge("aesvc_event_streams", "Open job event streams.", registry=metrics.registry).set_function(
        lambda: streams.stats()["streams"]
    )
    Gauge(
        "aesvc_event_feeds",
        "Jobs polled for their open event streams (one poll each).",
        registry=metrics.registry,
    ).set_function(lambda: streams.stats()["feeds"])
    install_error_handlers(app)
    from service.inference.api.router import router as inference_router

    # In front of the whole stack (its own request id, body limit and metrics): the hot
    # v1 inference routes. Everything else goes through the middlewares below.
    if settings.inference_fast_path:
        app.fast_path = functools.partial(
            InferenceFastPath,
            routes=inference_router.routes,
            app_dependencies=app.router.dependencies,
            metrics=metrics,
            max_body_bytes=settings.max_body_bytes,
        )
    # The guard in front of everything, the fast path included (service.guard).
    app.front = functools.partial(RequestGuard, allowed_hosts=settings.allowed_host_names)
    app.add_middleware(AuthorizeBeforeBody)
    app.add_middleware(ETagMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_import_bytes=settings.resolved_max_import_bytes,
        max_control_bytes=settings.max_control_body_bytes,
    )
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so 413s carry an id
    from service.batch.router import router as batch_router
    from service.datasets.router import router as datasets_router
    from service.health import router as health_router
    from service.inference.oip.extensions import router as extensions_router
    from service.inference.oip.router import router as oip_router
    from service.metrics import router as metrics_router
    from service.registry.router import router as registry_router
    from service.sweeps.router import router as sweeps_router
    from service.training.router import router as jobs_router

    # Routes match in order: the hot inference paths first, so they match on the first try.
    # No prefix or dependencies at inclusion: InferenceFastPath calls the inference
    # router's endpoints itself and would not see them.
    routers = (
        datasets_router,
        jobs_router,
        batch_router,
        sweeps_router,
        registry_router,
    )
    # the extensions first: /v2/models/stats before the OIP router's /v2/models/{name}
    for router in (inference_router, extensions_router, oip_router, health_router, metrics_router):
        app.include_router(router)
    for router in routers:  # /v1's resources: a query parameter a route does not take is 422
        app.include_router(router, dependencies=[Depends(reject_unknown_query)])
    from service.ui import router as ui

    for router in (ui.jobs_router, ui.models_router, ui.router):
        app.include_router(router)
    if not public_docs:
        app.include_router(docs_router)
    return app
