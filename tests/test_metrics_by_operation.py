"""aesvc_inference_requests_total and aesvc_inference_request_seconds are read at scrape
time from the HTTP request metrics of the inference routes: the same figures, by
operation, with nothing more counted per request."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import SECONDS_BUCKETS, ServiceMetrics

ENCODE = "/v1/models/{name}/versions/{ref}/encode"
INFER = "/v2/models/{model_name}/infer"
OTHER = "/v1/models"


def scrape(metrics: ServiceMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_figures_by_operation_are_those_of_their_routes() -> None:
    metrics = ServiceMetrics({"encode", "oip_infer"})
    answered = [
        (ENCODE, 200, 0.0002, "encode"),
        (ENCODE, 200, 0.003, "encode"),
        (ENCODE, 422, 0.0004, "encode"),
        (INFER, 200, 0.02, "oip_infer"),
        (OTHER, 200, 0.001, None),
        (OTHER, 200, 0.001, "list_models"),  # not an inference operation
    ]
    for route, status, seconds, operation in answered:
        metrics.record_request(route, "POST", status, seconds, operation)
    got = scrape(metrics)

    def value(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    assert value("aesvc_inference_requests_total", operation="encode", status="200") == 2
    assert value("aesvc_inference_requests_total", operation="encode", status="422") == 1
    assert value("aesvc_inference_requests_total", operation="oip_infer", status="200") == 1
    by_operation = {k for k in got if k[0].startswith("aesvc_inference_request")}
    assert not [k for k in by_operation if ("operation", "list_models") in k[1]]
    assert len({dict(k[1])["operation"] for k in by_operation}) == 2

    for operation, route, count, total in (
        ("encode", ENCODE, 3, 0.0036),
        ("oip_infer", INFER, 1, 0.02),
    ):
        http = {"route": route, "method": "POST"}
        assert value("aesvc_inference_request_seconds_count", operation=operation) == count
        assert abs(value("aesvc_inference_request_seconds_sum", operation=operation) - total) < 1e-9
        for bound in [*(str(b) for b in SECONDS_BUCKETS), "+Inf"]:
            ours = value("aesvc_inference_request_seconds_bucket", operation=operation, le=bound)
            theirs = value("aesvc_http_request_duration_seconds_bucket", le=bound, **http)
            assert ours == theirs
    assert value("aesvc_inference_request_seconds_bucket", operation="encode", le="0.00025") == 1
    assert value("aesvc_inference_request_seconds_bucket", operation="encode", le="0.0005") == 2


def test_no_request_no_samples() -> None:
    got = scrape(ServiceMetrics({"encode"}))
    assert not [k for k in got if k[0].startswith("aesvc_inference_request")]
