"""What the OpenAPI document says beyond the routes: security, errors and headers.

Generated SDKs only read what the schema declares, so everything a client may see is
declared here once, from the same tables the service enforces: the bearer scheme with the
scope each operation needs (service.security.required_scope), the 401 / 403 / 429 / 500 /
503 every guarded operation can answer, the Open Inference Protocol's 400 `{"error"}`
instead of a 422 it never sends, and the headers a client reads (Location, Retry-After,
RateLimit-*, Idempotent-Replayed, X-Model-Version, API-Version).
"""

from __future__ import annotations

from typing import Any

from service.errors import is_oip_path, problem_responses
from service.security import PUBLIC, SCOPES, required_scope

# 400: the request guard refuses a Host or an API-Version it does not serve, on any route.
PROBLEM_STATUSES_EVERYWHERE = (400, 500, 503)
GUARDED_STATUSES = (401, 403, 429)
HEADERS: dict[str, dict[str, Any]] = {
    "API-Version": {
        "description": "The API's dated version; a request may send it (400 if not served)",
        "schema": {"type": "string", "example": "2026-12-05"},
    },
    "Location": {"description": "The created resource", "schema": {"type": "string"}},
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    },
    "RateLimit-Limit": {"description": "Requests allowed at once", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left now", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until full again", "schema": {"type": "integer"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "X-Model-Version": {
        "description": "The version that answered (an alias resolved)",
        "schema": {"type": "integer"},
    },
}
OIP_ERROR = {
    "type": "object",
    "title": "OipError",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def document_contract(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("servers", [{"url": "/", "description": "The service that served this"}])
    components = schema.setdefault("components", {})
    components["headers"] = HEADERS
    components.setdefault("schemas", {})["OipError"] = OIP_ERROR
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`aesvc keys create`), when AESVC_AUTH=required. Each "
            f"operation lists the one scope it needs, among {', '.join(SCOPES)}.",
        }
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            scope = required_scope(operation.get("tags", []), method, path)
            responses = operation.setdefault("responses", {})
            statuses: tuple[int, ...] = PROBLEM_STATUSES_EVERYWHERE
            if scope == PUBLIC:
                operation["security"] = []
            else:
                operation["security"] = [{"bearer": [scope]}]
                statuses = GUARDED_STATUSES + statuses
            if is_oip_path(path):
                _oip_errors(responses, statuses)
            else:
                for status, response in problem_responses(*statuses).items():
                    responses.setdefault(str(status), response)
            _headers(operation, responses)
    return schema


def _oip_errors(responses: dict[str, Any], statuses: tuple[int, ...]) -> None:
    """/v2 answers errors as {"error": "..."}, a bad request as 400 (never 422)."""
    responses.pop("422", None)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/OipError"}}}
    for status in sorted({400, *statuses}):
        responses[str(status)] = {"description": 'An error ({"error": ...})', "content": body}


def _headers(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.setdefault("API-Version", _ref("API-Version"))
        if status in ("429", "503"):
            headers["Retry-After"] = _ref("Retry-After")
        if status == "429":
            for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
                headers[name] = _ref(name)
        if status in ("201", "202"):
            headers["Location"] = _ref("Location")
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                headers["Idempotent-Replayed"] = _ref("Idempotent-Replayed")
        if status == "200" and operation.get("tags", [None])[0] == "inference":
            headers["X-Model-Version"] = _ref("X-Model-Version")
