"""Prometheus metrics: one registry per app (tests run several apps in one process).

Names carry the `aesvc_` prefix and their unit. GET /metrics serves the text exposition.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Latency buckets from 100 µs (a one-row forward) to 10 s (a saturated queue).
SECONDS_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
ROWS_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.inference_requests = Counter(
            "aesvc_inference_requests",
            "Inference requests answered, by operation and HTTP status.",
            ["operation", "status"],
            registry=r,
        )
        self.inference_request_seconds = Histogram(
            "aesvc_inference_request_seconds",
            "Wall time of an inference request in the handler, by operation.",
            ["operation"],
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.queue_seconds = Histogram(
            "aesvc_inference_queue_seconds",
            "Time a request's rows waited in the queue before their batch started.",
            ["operation"],
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "aesvc_inference_batch_rows",
            "Rows in one batch handed to the device.",
            ["operation"],
            buckets=ROWS_BUCKETS,
            registry=r,
        )
        self.compute_seconds = Histogram(
            "aesvc_inference_compute_seconds",
            "Time the device spent on one batch.",
            ["operation"],
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.queue_depth_rows = Gauge(
            "aesvc_inference_queue_depth_rows", "Rows waiting in the inference queues.", registry=r
        )
        self.loaded_versions = Gauge(
            "aesvc_loaded_model_versions", "Model versions loaded in the cache.", registry=r
        )
        self.loaded_bytes = Gauge(
            "aesvc_loaded_model_bytes", "Bytes of weights loaded in the cache.", registry=r
        )


class RequestMetricsMiddleware:
    """Counts requests to routes whose operation_id is in `operations`, with their status.

    Pure ASGI (no BaseHTTPMiddleware): it reads the route the router put in the scope.
    """

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, operations: set[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            operation = getattr(scope.get("route"), "operation_id", None)
            if operation in self.operations:
                self.metrics.inference_requests.labels(operation, str(status)).inc()
                self.metrics.inference_request_seconds.labels(operation).observe(
                    time.perf_counter() - start
                )


router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    operation_id="read_metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def read_metrics(request: Request) -> Response:
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
