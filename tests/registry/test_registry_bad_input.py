"""The bad-input matrix (tests/bad_input.py) for the registry: models, versions, imports,
artifacts, plots and aliases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.bad_input import (
    AE,
    ALIAS,
    ARCHIVED,
    BAD_QUERY,
    IMPORTED,
    MALFORMED_JSON,
    MALFORMED_MULTIPART,
    MALFORMED_NPY,
    MAX_IMPORT_BYTES,
    MEDIA_TYPE,
    MULTIPART_WITHOUT_BOUNDARY,
    N_FEATURES,
    NOT_MULTIPART,
    OVERSIZE,
    UNKNOWN,
    UNTERMINATED_PART,
    Case,
    World,
    assert_refused_and_unchanged,
    list_query_cases,
    oversize_json,
    raw,
    unknown_ref_cases,
)
from tests.registry.builders import model_blob


def registry_cases() -> Iterator[Case]:
    yield from list_query_cases("/v1/models")
    yield Case("GET", "/v1/models", "/v1/models", BAD_QUERY, "name-contains-too-long", 422,
               "name_contains", {"params": {"name_contains": "x" * 129}})  # fmt: skip
    route = "/v1/models/{name}"
    for method in ("GET", "DELETE"):
        yield Case(method, route, "/v1/models/no-such-model", UNKNOWN, "model", 404)
    yield Case("DELETE", route, f"/v1/models/{AE}", "conflict", "queued-job", 409)
    url = f"/v1/models/{AE}"
    for kind, label, status, name, request in (
        (UNKNOWN, "model", 404, None, {"json": {"description": "x"}}),
        ("wrong-type", "description-number", 422, "description", {"json": {"description": 1}}),
        ("wrong-type", "tags-list", 422, "tags", {"json": {"tags": ["a"]}}),
        ("wrong-type", "tag-value-number", 422, "tags.team", {"json": {"tags": {"team": 1}}}),
        ("out-of-range", "description-too-long", 422, "description",
         {"json": {"description": "x" * 10_001}}),
        ("out-of-range", "tag-value-too-long", 422, "tags.team",
         {"json": {"tags": {"team": "x" * 1025}}}),
        ("out-of-range", "too-many-tags", 422, "tags",
         {"json": {"tags": {f"t{i}": "x" for i in range(65)}}}),
        ("extra-field", "unknown-key", 422, "bogus", {"json": {"bogus": 1}}),
        ("empty", "empty-body", 422, "body", raw(b"")),
        ("wrong-type", "body-is-a-list", 422, "body", {"json": []}),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"description": ')),
        (MEDIA_TYPE, "text-plain", 415, None, raw(b'{"description": "x"}', "text/plain")),
        (MEDIA_TYPE, "form", 415, None, {"data": {"description": "x"}}),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):  # fmt: skip
        target = "/v1/models/no-such-model" if kind == UNKNOWN else url
        yield Case("PATCH", route, target, kind, label, status, name, request)

    route = "/v1/models/{name}/versions"
    yield Case("GET", route, "/v1/models/no-such-model/versions", UNKNOWN, "model", 404)
    yield from list_query_cases(route, f"/v1/models/{AE}/versions")
    yield Case("GET", route, f"/v1/models/{AE}/versions", BAD_QUERY, "status-unknown", 422,
               "status", {"params": {"status": "deleted"}})  # fmt: skip
    yield from import_cases()

    yield from unknown_ref_cases("GET", "/v1/models/{name}/versions/{ref}", "", {}, archived=False)
    route = "/v1/models/{name}/versions/{ref}"
    for kind, label, status, name, url in (
        (UNKNOWN, "model", 404, None, "/v1/models/no-such-model/versions/1"),
        (UNKNOWN, "version", 404, None, f"/v1/models/{AE}/versions/99"),
        (UNKNOWN, "archived", 410, None, f"/v1/models/{AE}/versions/{ARCHIVED}"),
        ("conflict", "alias-pins-its-version", 409, None, f"/v1/models/{AE}/versions/{ALIAS}"),
        (UNKNOWN, "zero", 404, None, f"/v1/models/{AE}/versions/0"),
        (UNKNOWN, "past-int32", 404, None, f"/v1/models/{AE}/versions/{2**31}"),
        ("conflict", "alias-points-at-it", 409, None, f"/v1/models/{AE}/versions/1"),
    ):
        yield Case("DELETE", route, url, kind, label, status, name)

    route = "/v1/models/{name}/versions/{ref}/artifact"
    yield from unknown_ref_cases("GET", route, "artifact", {})
    url = f"/v1/models/{AE}/versions/1/artifact"
    for label, params, name in (
        ("format-unknown", {"format": "pickle"}, "format"),
        ("part-unknown", {"part": "middle"}, "part"),
    ):
        yield Case("GET", route, url, BAD_QUERY, label, 422, name, {"params": params})

    yield from unknown_ref_cases("GET", "/v1/models/{name}/versions/{ref}/plots", "plots", {})
    for plot in ("reconstructions", "latent", "samples", "features", "scores"):
        route = f"/v1/models/{{name}}/versions/{{ref}}/plots/{plot}.png"
        yield from unknown_ref_cases("GET", route, f"plots/{plot}.png", {})
    route = "/v1/models/{name}/versions/{ref}/plots/features.png"
    url = f"/v1/models/{AE}/versions/1/plots/features.png"
    yield Case("GET", route, url, UNKNOWN, "plot-for-tabular-data", 404)
    yield from alias_cases()


def import_cases() -> Iterator[Case]:
    route = "/v1/models/{name}/versions"
    url = f"/v1/models/{IMPORTED}/versions"
    blob, config = model_blob(seed=5, embed_config=False)
    nan_blob = _non_finite_blob()

    def part(data: bytes, **form: str) -> dict[str, Any]:
        return {"files": {"file": ("m.safetensors", data)}, "data": form}

    def config_with(**changes: Any) -> str:
        return json.dumps({**config, **changes})

    for kind, label, status, name, request in (
        (MALFORMED_NPY, "not-safetensors", 422, "file", part(b"garbage" * 10)),
        (MALFORMED_NPY, "header-length-past-end", 422, "file",
         part((10**6).to_bytes(8, "little") + b"{}")),
        ("empty", "empty-file", 422, "file", part(b"")),
        ("missing", "no-file", 422, "file", {"files": {"config": (None, json.dumps(config))}}),
        ("missing", "no-config", 422, "config", part(blob)),
        (MALFORMED_JSON, "config-not-json", 422, "config", part(blob, config="{nope")),
        ("wrong-type", "config-a-list", 422, "config", part(blob, config="[]")),
        ("wrong-type", "metrics-a-list", 422, "metrics",
         part(blob, config=json.dumps(config), metrics="[1]")),
        ("wrong-type", "metrics-threshold-a-word", 422, "metrics.threshold",
         part(blob, config=json.dumps(config), metrics='{"threshold": "high"}')),
        ("non-finite", "metrics-threshold-nan", 422, "metrics.threshold",
         part(blob, config=json.dumps(config), metrics='{"threshold": NaN}')),
        ("wrong-shape", "metrics-coding-mean-too-long", 422, "metrics.coding_mean",
         part(blob, config=json.dumps(config), metrics='{"coding_mean": [0.0, 1.0, 2.0]}')),
        ("wrong-shape", "metrics-coding-cov-not-square", 422, "metrics.coding_cov",
         part(blob, config=json.dumps(config), metrics='{"coding_cov": [[1.0]]}')),
        ("out-of-range", "format-version", 422, "config.format_version",
         part(blob, config=config_with(format_version=99))),
        ("out-of-range", "n-features-zero", 422, "config.n_features",
         part(blob, config=config_with(n_features=0))),
        ("wrong-shape", "tensors-do-not-fit", 422, "file",
         part(blob, config=config_with(n_features=N_FEATURES + 1))),
        ("wrong-shape", "image-shape-not-a-triple", 422, "config.image_shape",
         part(blob, config=config_with(image_shape=[2, 3]))),
        ("wrong-type", "spec-code-size-string", 422, "config.spec.architecture.code_size",
         part(blob, config=config_with(spec={"architecture": {"code_size": "two"}}))),
        ("non-finite", "nan-weights", 422, "file", part(nan_blob, config=json.dumps(config))),
        (MALFORMED_MULTIPART, "not-multipart", 400, None, NOT_MULTIPART),
        (MALFORMED_MULTIPART, "no-boundary", 400, None, MULTIPART_WITHOUT_BOUNDARY),
        (MALFORMED_MULTIPART, "unterminated-part", 422, "file", UNTERMINATED_PART),
        (MEDIA_TYPE, "json-body", 415, None, {"json": {"config": config}}),
        (OVERSIZE, "body-over-limit", 413, None, part(b"\x00" * (MAX_IMPORT_BYTES + 1))),
    ):  # fmt: skip
        yield Case("POST", route, url, kind, label, status, name, request)
    yield Case("POST", route, "/v1/models/-bad%20name/versions", "out-of-range", "model-name",
               422, "name", part(blob, config=json.dumps(config)))  # fmt: skip


def _non_finite_blob() -> bytes:
    from safetensors.torch import load, save

    blob, _ = model_blob(seed=6, embed_config=False)
    tensors = load(blob)
    first = next(k for k, v in tensors.items() if v.is_floating_point() and v.numel())
    tensors[first] = tensors[first].clone()
    tensors[first].view(-1)[0] = float("nan")
    return save(tensors)


def alias_cases() -> Iterator[Case]:
    route = "/v1/models/{name}/aliases/{alias}"
    base = f"/v1/models/{AE}/aliases"
    for method in ("GET", "DELETE"):
        yield Case(method, route, "/v1/models/no-such-model/aliases/prod", UNKNOWN, "model", 404)
        yield Case(method, route, f"{base}/no-such-alias", UNKNOWN, "alias", 404)
        yield Case(method, route, f"{base}/{'a' * 65}", "bad-alias", "too-long", 422, "alias")
    yield Case("DELETE", route, f"{base}/latest", "bad-alias", "latest", 422, "alias")
    yield Case("DELETE", route, f"{base}/1abc", "bad-alias", "starts-with-a-digit", 422, "alias")
    for kind, label, status, name, url, request in (
        (UNKNOWN, "model", 404, None, "/v1/models/no-such-model/aliases/prod", {"version": 1}),
        (UNKNOWN, "version-missing", 404, None, f"{base}/{ALIAS}", {"version": 99}),
        ("conflict", "version-archived", 409, None, f"{base}/{ALIAS}", {"version": ARCHIVED}),
        ("bad-alias", "latest", 422, "alias", f"{base}/latest", {"version": 1}),
        ("bad-alias", "number", 422, "alias", f"{base}/7", {"version": 1}),
        ("bad-alias", "starts-with-a-dash", 422, "alias", f"{base}/-x", {"version": 1}),
        ("bad-alias", "dot", 422, "alias", f"{base}/a.b", {"version": 1}),
        ("bad-alias", "too-long", 422, "alias", f"{base}/{'a' * 65}", {"version": 1}),
        ("out-of-range", "version-zero", 422, "version", f"{base}/{ALIAS}", {"version": 0}),
        ("out-of-range", "version-past-int32", 422, "version", f"{base}/{ALIAS}",
         {"version": 2**31}),
        ("wrong-type", "version-string", 422, "version", f"{base}/{ALIAS}", {"version": "two"}),
        ("wrong-type", "version-fraction", 422, "version", f"{base}/{ALIAS}", {"version": 1.5}),
        ("missing", "no-version", 422, "version", f"{base}/{ALIAS}", {}),
        ("extra-field", "unknown-key", 422, "bogus", f"{base}/{ALIAS}",
         {"version": 2, "bogus": 1}),
    ):  # fmt: skip
        yield Case("PUT", route, url, kind, label, status, name, {"json": request})
    for kind, label, status, name, request in (
        ("non-finite", "version-nan", 422, "version", raw(b'{"version": NaN}')),
        ("empty", "empty-body", 422, "body", raw(b"")),
        (MALFORMED_JSON, "truncated", 422, "body", raw(b'{"version": ')),
        (MEDIA_TYPE, "text-plain", 415, None, raw(b'{"version": 2}', "text/plain")),
        (OVERSIZE, "body-over-limit", 413, None, oversize_json()),
    ):
        yield Case("PUT", route, f"{base}/{ALIAS}", kind, label, status, name, request)
    route = "/v1/models/{name}/aliases/{alias}/history"
    yield Case("GET", route, "/v1/models/no-such-model/aliases/prod/history", UNKNOWN, "model", 404)
    yield Case("GET", route, f"{base}/never-set/history", UNKNOWN, "alias", 404)
    yield Case("GET", route, f"{base}/latest/history", "bad-alias", "latest", 422, "alias")
    yield Case("GET", route, f"{base}/{'a' * 65}/history", "bad-alias", "too-long", 422, "alias")
    yield from list_query_cases(route, f"{base}/{ALIAS}/history")


CASES: list[Case] = [*registry_cases()]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(bad_input_world: World, case: Case) -> None:
    assert_refused_and_unchanged(bad_input_world, case)
