"""What the OpenAPI document says beyond the routes: security, errors and headers.

Generated SDKs only read what the schema declares, so everything a client may see is
declared here once, from the same tables the service enforces: the bearer scheme with the
scope each operation needs (service.security.required_scope), the 401 / 403 / 429 / 500 /
503 every guarded operation can answer, the Open Inference Protocol's 400 `{"error"}`
instead of a 422 it never sends, the headers a client reads (Location, Retry-After,
RateLimit-*, Idempotent-Replayed, ETag, X-Model-Name, X-Model-Version, API-Version), the
304 of every conditional read, and the binary tensor data of OIP inference.
"""

from __future__ import annotations

from typing import Any

import orjson

from service.errors import is_oip_path, problem_responses
from service.inference.oip.tensors import HEADER_LENGTH
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
    "X-Model-Name": {"description": "The model that answered", "schema": {"type": "string"}},
    "ETag": {
        "description": "The representation's tag: send it as If-None-Match (a 304 while it "
        "holds) or as If-Match (a write that fails with 412 once it has changed)",
        "schema": {"type": "string"},
    },
    HEADER_LENGTH: {
        "description": "Binary tensor data: the bytes of the JSON header before the tensors",
        "schema": {"type": "integer"},
    },
}
OIP_ERROR = {
    "type": "object",
    "title": "OipError",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


ROW = [0.0, 1.5, 3.0, 0.5]
# A request example for every JSON and form body whose model carries none (a generated
# SDK's docs, and "Try it out", start from these). Binary bodies are .npy or OIP binary.
EXAMPLES: dict[str, Any] = {
    "create_dataset": {"name": "sensors", "file": "(a .csv, .npy, .npz or .parquet file)"},
    "import_model_version": {"file": "(model.safetensors)"},
    "encode": {"inputs": [ROW]},
    "decode": {"codings": [[0.1, -0.3]]},
    "reconstruct": {"inputs": [ROW]},
    "score": {"inputs": [ROW], "threshold": 2.5},
    "generate": {"n": 4, "seed": 0},
    "interpolate": {"start": ROW, "end": [1.0, 0.0, 2.0, 1.0], "steps": 5},
    "oip_infer": {
        "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": ROW}],
        "outputs": [{"name": "codings"}],
    },
    "oip_repository_index": {"ready": True},
    "oip_repository_model_load": {},
    "oip_repository_model_unload": {},
    "oip_register_system_shared_memory": {"key": "/aesvc-inputs", "offset": 0, "byte_size": 4096},
}
EXAMPLES["oip_infer_version"] = EXAMPLES["oip_infer"]


def _examples(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    example = EXAMPLES.get(operation.get("operationId", ""))
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        if media != "application/json" and media != "multipart/form-data":
            continue
        ref = content.get("schema", {}).get("$ref", "")
        named = schemas.get(ref.rsplit("/", 1)[-1], {})
        if example is not None and "examples" not in named and "example" not in content:
            content["example"] = example


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _name_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI names a form body `Body_<operation id>`; SDKs would expose that name. Each
    becomes `<OperationId>Form` (`Body_create_dataset` -> `CreateDatasetForm`)."""
    schemas = schema.get("components", {}).get("schemas", {})
    renames = {
        old: "".join(p.title() for p in old.removeprefix("Body_").split("_")) + "Form"
        for old in schemas
        if old.startswith("Body_")
    }
    if not renames:
        return schema
    text = orjson.dumps(schema).decode()
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed: dict[str, Any] = orjson.loads(text)
    parts = renamed["components"]["schemas"]
    for old, new in renames.items():
        parts[new] = {**parts.pop(old), "title": new}
        for name, field in parts[new].get("properties", {}).items():
            parts[new]["properties"][name] = _not_null(field)
    return renamed


def _not_null(field: dict[str, Any]) -> dict[str, Any]:
    """A form field `anyOf [T, null]` as T: a form cannot carry a null (an SDK would send
    the text "None"); optional is "not required", as it is already."""
    kinds = field.get("anyOf", [])
    rest = [kind for kind in kinds if kind != {"type": "null"}]
    if len(rest) != 1 or len(kinds) != 2:
        return field
    kept = {k: v for k, v in field.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**rest[0], **kept}


def document_contract(schema: dict[str, Any]) -> dict[str, Any]:
    schema = _name_bodies(schema)
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
            _examples(operation, components["schemas"])
            if operation.get("operationId", "").startswith("oip_infer"):
                _binary_tensors(operation, responses)
    return schema


def _binary_tensors(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    """The binary tensor data extension: a body of JSON then tensor bytes, split where
    Inference-Header-Content-Length says, asked with `binary_data` and answered alike."""
    parameter = {
        "name": HEADER_LENGTH,
        "in": "header",
        "required": False,
        "description": "With an application/octet-stream body: the bytes of its JSON header "
        "(the tensors' bytes follow it)",
        "schema": {"type": "integer", "minimum": 0},
    }
    operation.setdefault("parameters", []).append(parameter)
    ok = responses["200"]
    ok.setdefault("content", {})["application/octet-stream"] = {
        "schema": {"type": "string", "format": "binary"}
    }
    ok["headers"][HEADER_LENGTH] = _ref(HEADER_LENGTH)


def _oip_errors(responses: dict[str, Any], statuses: tuple[int, ...]) -> None:
    """/v2 answers errors as {"error": "..."}, a bad request as 400 (never 422)."""
    responses.pop("422", None)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/OipError"}}}
    for status in sorted({400, *statuses}):
        responses[str(status)] = {"description": 'An error ({"error": ...})', "content": body}


def _headers(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    named = {p.get("name", "").lower() for p in operation.get("parameters", [])}
    if "if-none-match" in named:  # a conditional read: its 304, and the tag to send
        responses.setdefault("304", {"description": "Not modified: the If-None-Match tag holds"})
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
            if "idempotency-key" in named:
                headers["Idempotent-Replayed"] = _ref("Idempotent-Replayed")
        if status == "409" and "idempotency-key" in named:  # idempotency_key_in_use
            headers["Retry-After"] = _ref("Retry-After")
        if status == "200" and named & {"if-none-match", "if-match"}:
            headers["ETag"] = _ref("ETag")
        if status == "200" and operation.get("tags", [None])[0] == "inference":
            headers["X-Model-Name"] = _ref("X-Model-Name")
            headers["X-Model-Version"] = _ref("X-Model-Version")
