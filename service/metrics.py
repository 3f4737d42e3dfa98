"""Prometheus metrics: one registry per app (tests run several apps in one process).

Names carry the `aesvc_` prefix and their unit. GET /metrics serves the text exposition.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.training.schemas import TERMINAL_STATES, JobStatus
from service.training.tables import Job

if TYPE_CHECKING:
    from service.context import AppContext

# Latency buckets from 100 µs (a one-row forward) to 10 s (a saturated queue).
SECONDS_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
ROWS_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536)


class ServiceMetrics:
    def __init__(self, inference_operations: Iterable[str] = ()) -> None:
        self.inference_operations = frozenset(inference_operations)
        self._children: dict[tuple[Any, ...], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # route template -> inference operation, as requests name them (record_request)
        self._route_operations: dict[str, str] = {}
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

        self.http_requests = Counter(
            "aesvc_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_request_seconds = Histogram(
            "aesvc_http_request_duration_seconds",
            "Wall time of an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        r.register(InferenceRequestsCollector(self))

    def labelled(self, metric: Any, *values: str) -> Any:
        """metric.labels(*values), remembered: `labels()` takes a lock and validates on
        every call, too much for the inference hot path. Label sets are bounded (routes,
        methods, statuses, operations), and so is this cache; the metrics are this
        object's own, so their ids stay theirs."""
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def record_request(
        self, route: str, method: str, status: int, seconds: float, operation: str | None
    ) -> None:
        """One answered request: by route template, method and status. The route of an
        inference operation (`operation` among `inference_operations`) is remembered, so
        that the scrape also reports it by operation (InferenceRequestsCollector)."""
        self.labelled(self.http_requests, route, method, str(status)).inc()
        self.labelled(self.http_request_seconds, route, method).observe(seconds)
        if operation in self.inference_operations and route not in self._route_operations:
            self._route_operations[route] = operation

    def by_operation(self) -> Iterable[Metric]:
        """aesvc_inference_requests_total and aesvc_inference_request_seconds: the HTTP
        request metrics of the inference routes, relabelled by operation."""
        operations = dict(self._route_operations)
        requests = CounterMetricFamily(
            "aesvc_inference_requests",
            "Inference requests answered, by operation and HTTP status.",
            labels=["operation", "status"],
        )
        counts: dict[tuple[str, str], float] = {}
        for sample in _samples(self.http_requests, "_total", operations):
            key = (operations[sample.labels["route"]], sample.labels["status"])
            counts[key] = counts.get(key, 0.0) + sample.value
        for labels, value in sorted(counts.items()):
            requests.add_metric(list(labels), value)
        seconds = HistogramMetricFamily(
            "aesvc_inference_request_seconds",
            "Wall time of an inference request in the handler, by operation.",
            labels=["operation"],
        )
        buckets: dict[str, dict[str, float]] = {}
        sums: dict[str, float] = {}
        for sample in _samples(self.http_request_seconds, "_bucket", operations):
            by_bound = buckets.setdefault(operations[sample.labels["route"]], {})
            bound = sample.labels["le"]
            by_bound[bound] = by_bound.get(bound, 0.0) + sample.value
        for sample in _samples(self.http_request_seconds, "_sum", operations):
            operation = operations[sample.labels["route"]]
            sums[operation] = sums.get(operation, 0.0) + sample.value
        for operation, by_bound in sorted(buckets.items()):
            cumulative = sorted(by_bound.items(), key=lambda item: float(item[0]))
            seconds.add_metric([operation], cumulative, sums.get(operation, 0.0))
        return [requests, seconds]


def _samples(metric: Any, suffix: str, routes: dict[str, str]) -> Iterable[Any]:
    """The metric's samples named with `suffix` whose route is one of `routes`."""
    for family in metric.collect():
        for sample in family.samples:
            if sample.name.endswith(suffix) and sample.labels.get("route") in routes:
                yield sample


class InferenceRequestsCollector(Collector):
    """Inference requests by operation, read at scrape time from the HTTP request metrics.

    Each inference request is one HTTP request: counting it again by operation, as it is
    answered, cost the hot path a second counter and a second histogram (prometheus-client
    takes a lock per increment), for figures that the route already holds."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics.by_operation()


JOB_SECONDS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0)
RECENT_JOBS = 10_000


# How long a read of the job table serves scrapes: /metrics needs no key, and each scrape
# read the table (0.1 s with 100,000 jobs) on a pooled connection and a threadpool thread,
# so 50 callers scraping in a loop kept a job's GET waiting 6 s (17 s at worst) and /readyz
# at 503. Prometheus scrapes every 15 s or so: a second-old figure tells it as much.
JOBS_READ_EVERY_S = 1.0


class JobsCollector(Collector):
    """Read from the job table (the truth), so every API process agrees; at most once every
    `read_every_s`, however many scrapes come meanwhile."""

    def __init__(self, ctx: AppContext, read_every_s: float = JOBS_READ_EVERY_S) -> None:
        self.ctx = ctx
        self.read_every_s = read_every_s
        self._lock = threading.Lock()
        self._read: tuple[float, dict[str, int], Sequence[Any]] | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def _figures(self) -> tuple[dict[str, int], Sequence[Any]]:
        with self._lock:  # scrapes that come while the table is read wait for that read
            if self._read is None or time.monotonic() - self._read[0] >= self.read_every_s:
                with self.ctx.session_factory() as session:
                    counts = dict(
                        session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
                    )
                    finished = session.execute(
                        select(Job.status, Job.started_at, Job.finished_at)
                        .where(Job.finished_at.is_not(None), Job.started_at.is_not(None))
                        .order_by(Job.finished_at.desc())
                        .limit(RECENT_JOBS)
                    ).all()
                self._read = (time.monotonic(), counts, finished)
            return self._read[1], self._read[2]

    def collect(self) -> Iterable[Metric]:
        by_state = GaugeMetricFamily("aesvc_jobs", "Jobs by state.", labels=["state"])
        counts, finished = self._figures()
        for state in JobStatus:
            by_state.add_metric([state], float(counts.get(state, 0)))
        yield by_state
        yield self._durations(finished)
        yield from self._workers()

    def _durations(self, rows: Sequence[Any]) -> Metric:
        family = HistogramMetricFamily(
            "aesvc_job_duration_seconds",
            f"Started-to-finished time of the last {RECENT_JOBS} finished jobs, by final state.",
            labels=["state"],
        )
        for state in TERMINAL_STATES:
            seconds = [(f - s).total_seconds() for st, s, f in rows if st == state]
            buckets = [
                (str(b), float(sum(1 for x in seconds if x <= b))) for b in JOB_SECONDS_BUCKETS
            ]
            buckets.append(("+Inf", float(len(seconds))))
            family.add_metric([state], buckets, sum_value=float(sum(seconds)))
        return family

    def _workers(self) -> Iterable[Metric]:
        pool = self.ctx.worker_pool
        alive = GaugeMetricFamily("aesvc_workers_alive", "Local worker processes alive.")
        expected = GaugeMetricFamily("aesvc_workers_expected", "Local worker processes wanted.")
        restarts = CounterMetricFamily("aesvc_worker_restarts", "Worker processes restarted.")
        slots = getattr(pool, "slots", [])
        alive.add_metric([], float(sum(1 for s in slots if s.process and s.process.is_alive())))
        expected.add_metric([], float(len(slots)))
        restarts.add_metric([], float(sum(s.restarts for s in slots)))
        return [alive, expected, restarts]


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Counts requests by route template, method and status (`record_request`).

    Pure ASGI (no BaseHTTPMiddleware): it reads the route the router put in the scope.
    """

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

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
            seconds = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
            operation = getattr(route, "operation_id", None)
            self.metrics.record_request(path, method, status, seconds, operation)


router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    operation_id="read_metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def read_metrics(request: Request) -> Response:
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
