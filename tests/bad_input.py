"""The bad-input matrix's shared parts (issue #9): its cases, its world, its checks.

Each case sends one bad request and checks three things: the status the design names
(404 unknown, 409 conflict, 410 archived, 413 oversize, 415 media type, 422 validation,
400 malformed), the error body (problem+json naming the field for a 422; the Open
Inference Protocol's {"error": ...} under /v2), and that neither the database (every row
of every table) nor the files under the data dir (artifacts, spooled uploads) changed.

The cases live beside their domain's tests (tests/*/test_*_bad_input.py, listed in
DOMAIN_MODULES); tests/test_bad_input_matrix.py checks that together they cover every
operation of the schema. The world they run against is seeded once per session
(`bad_input_seed` in tests/conftest.py: an uploaded dataset and a narrower one, a dense
model with two trained versions, an alias and an archived third version, a VAE, a model
imported without training metrics, a finished job and a queued one); each module opens its own
app on it (`bad_input_world`), and no case may change it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select

from service.config import Settings
from service.main import create_app
from tests.factories import job_body, npy_bytes, random_matrix, run_worker
from tests.registry.builders import import_model

DOMAIN_MODULES = (
    "tests.datasets.test_datasets_bad_input",
    "tests.training.test_jobs_bad_input",
    "tests.sweeps.test_sweeps_bad_input",
    "tests.registry.test_registry_bad_input",
    "tests.inference.test_inference_bad_input",
    "tests.inference.test_oip_bad_input",
    "tests.ui.test_ui_bad_input",
    "tests.batch.test_batch_bad_input",
)

PROBLEM_JSON = "application/problem+json"
MAX_UPLOAD_BYTES = 8 << 10
MAX_BODY_BYTES = 16 << 10
MAX_MODEL_PARAMETERS = 100_000
MAX_IMPORT_BYTES = MAX_MODEL_PARAMETERS * 8 + MAX_BODY_BYTES  # float64 weights and a header
MAX_ROWS = 8
MAX_GENERATE = 32
MAX_STEPS = 16
N_FEATURES, CODE_SIZE = 6, 2
AE, VAE, IMPORTED, ALIAS, ARCHIVED = "ae", "vae", "imported", "prod", 3
DATASET = "ds"
NARROW = "narrow"  # a dataset of N_FEATURES - 1 features: no model of the world takes it
IDEMPOTENCY_KEY = "matrix-first-job"
NO_JOB = "0" * 32
NPY = "application/x-npy"

# Kinds of bad input; the coverage test asks for the ones that apply to each operation.
UNKNOWN = "unknown"  # an id, name, version or alias that does not exist
BAD_QUERY = "bad-query"
MALFORMED_JSON = "malformed-json"
MALFORMED_MULTIPART = "malformed-multipart"
MALFORMED_NPY = "malformed-npy"  # or another broken binary body (safetensors, OIP tensors)
MEDIA_TYPE, OVERSIZE = "media-type", "oversize"
BODY_KINDS = {
    "wrong-shape",
    "wrong-type",
    "non-finite",
    "empty",
    "out-of-range",
    "missing",
    "extra-field",
    "conflict",
    "bad-alias",
    MALFORMED_JSON,
    MALFORMED_MULTIPART,
    MALFORMED_NPY,
    MEDIA_TYPE,
    OVERSIZE,
}


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the path as the OpenAPI schema spells it
    url: str  # {job} and {queued} are filled in with the world's job ids
    kind: str
    label: str
    status: int
    field: str | None = None  # a 422 must name this field
    request: dict[str, Any] = dataclass_field(default_factory=dict)  # keywords for client.request

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} [{self.kind}: {self.label}]"

    @property
    def oip(self) -> bool:
        return self.route.startswith("/v2")


def raw(body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": body, "headers": {"content-type": content_type}}


def npy(array: np.ndarray) -> dict[str, Any]:
    return raw(npy_bytes(array), "application/x-npy")


def oversize_json() -> dict[str, Any]:
    return raw(b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}')


def streamed_oversize_json() -> dict[str, Any]:
    """No Content-Length: the limit must hold while the body streams in."""
    chunk = b"[" + b"1.0," * 255 + b"1.0],"
    return {
        "content": iter([b'{"inputs": [', *[chunk] * 20, b"[1]]}"]),
        "headers": {"content-type": "application/json"},
    }


NOT_MULTIPART = raw(b"garbage", "multipart/form-data; boundary=abc")
MULTIPART_WITHOUT_BOUNDARY = raw(b"garbage", "multipart/form-data")
# A part that never ends: the parser finds no complete field, so the file is missing.
UNTERMINATED_PART = raw(
    b'--abc\r\nContent-Disposition: form-data; name="file"; filename="x.npy"\r\n\r\nxx',
    "multipart/form-data; boundary=abc",
)


def unknown_ref_cases(
    method: str, route: str, tail: str, good: dict[str, Any], *, archived: bool = True
) -> Iterator[Case]:
    """Unknown model, version, alias, a number past any version; an archived version
    (410: it is no longer served) unless `archived` is false (it may still be read)."""
    for label, name, ref, status in (
        ("model", "no-such-model", "1", 404),
        ("version", AE, "99", 404),
        ("version-past-int32", AE, str(2**40), 404),
        ("superscript-digit", AE, "\u00b2", 404),  # a digit to str.isdigit, not to int()
        ("alias", AE, "no-such-alias", 404),
        *([("archived-version", AE, str(ARCHIVED), 410)] if archived else []),
    ):
        url = f"/v1/models/{name}/versions/{ref}{'/' if tail else ''}{tail}"
        yield Case(method, route, url, UNKNOWN, label, status, None, good)


def upload(
    filename: str, data: bytes, content_type: str = "application/octet-stream", **form: str
) -> dict[str, Any]:
    return {"files": {"file": (filename, data, content_type)}, "data": {"name": "new", **form}}


def npy_header(shape: tuple[int, ...]) -> bytes:
    """An .npy file's header, for float32 `shape`, and none of its data."""
    out = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue()


def list_query_cases(route: str, url: str | None = None) -> Iterator[Case]:
    url = url or route
    for label, params, name in (
        ("limit-zero", {"limit": 0}, "limit"),
        ("limit-over-max", {"limit": 1001}, "limit"),
        ("limit-not-a-number", {"limit": "ten"}, "limit"),
        ("offset-negative", {"offset": -1}, "offset"),
        ("offset-past-int64", {"offset": 2**63}, "offset"),
        ("page-token-garbage", {"page_token": "not-a-token"}, "page_token"),
        ("page-token-too-long", {"page_token": "x" * 513}, "page_token"),
        ("order-by-unknown", {"order_by": "colour"}, "order_by"),
    ):
        yield Case("GET", route, url, BAD_QUERY, label, 422, name, {"params": params})


# -- the world ----------------------------------------------------------------------------


Snapshot = tuple[dict[str, list[str]], dict[str, tuple[int, str]]]


@dataclass
class World:
    client: TestClient
    settings: Settings
    engine: Engine
    metadata: MetaData
    ids: dict[str, str]

    def snapshot(self) -> Snapshot:
        """Every row of every table, and every file under the data dir (size, sha256)."""
        rows: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for table in self.metadata.sorted_tables:
                rows[table.name] = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
        files: dict[str, tuple[int, str]] = {}
        roots = {self.settings.data_dir.resolve(), self.settings.resolved_artifact_root}
        for root in roots:
            for path in sorted(root.rglob("*")):
                if path.is_file() and not _sqlite_file(path):
                    data = path.read_bytes()
                    files[str(path)] = (len(data), hashlib.sha256(data).hexdigest())
        return rows, files


def _sqlite_file(path: Path) -> bool:
    # The SQLite database and its -wal/-shm/-journal files: their content is compared
    # row by row above. Their bytes change on plain reads (the WAL index in -shm, and a
    # checkpoint that copies committed pages from the WAL into the main file), so
    # comparing them byte by byte would flag requests that wrote nothing.
    return ".db" in path.name and path.name.split(".db")[-1] in ("", "-wal", "-shm", "-journal")


# the limits the cases probe
WORLD_SETTINGS: dict[str, Any] = {
    "builtin_datasets": False,
    "max_upload_bytes": MAX_UPLOAD_BYTES,
    "max_body_bytes": MAX_BODY_BYTES,
    "max_model_parameters": MAX_MODEL_PARAMETERS,
    "max_control_body_bytes": MAX_BODY_BYTES,  # the control routes probed at the same size
    "max_request_rows": MAX_ROWS,
    "max_generate": MAX_GENERATE,
    "max_interpolate_steps": MAX_STEPS,
    "ref_cache_s": 0,
    "oip_shared_memory": True,
}


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    ids: dict[str, str]  # {job} and {queued}: the world's job ids


@contextmanager
def open_world(seeded: Seeded) -> Iterator[World]:
    """An app of its own on the seeded database and data dir."""
    with TestClient(create_app(seeded.settings, start_workers=False)) as client:
        engine = client.app.state.ctx.engine  # type: ignore[attr-defined]
        metadata = MetaData()
        metadata.reflect(engine)
        yield World(client, seeded.settings, engine, metadata, seeded.ids)


def seed_world(client: TestClient, settings: Settings) -> dict[str, str]:
    data = npy_bytes(random_matrix(60, N_FEATURES, seed=3))
    response = client.post("/v1/datasets", files={"file": ("ds.npy", data)}, data={"name": DATASET})
    assert response.status_code == 201, response.text
    data = npy_bytes(random_matrix(10, N_FEATURES - 1, seed=4))
    response = client.post("/v1/datasets", files={"file": ("n.npy", data)}, data={"name": NARROW})
    assert response.status_code == 201, response.text
    tiny = {"architecture": {"hidden_sizes": [8]}, "training": {"epochs": 2, "batch_size": 32}}
    bodies = [
        job_body(model_name=AE, dataset=DATASET, code_size=CODE_SIZE, **tiny),
        job_body(model_name=AE, dataset=DATASET, code_size=CODE_SIZE, priority=-1, **tiny),
        job_body(model_name=VAE, dataset=DATASET, code_size=CODE_SIZE, priority=-2, **tiny)
        | {"spec": {**tiny, "architecture": {"kind": "vae", "code_size": CODE_SIZE}}},
    ]
    first = client.post("/v1/jobs", json=bodies[0], headers={"idempotency-key": IDEMPOTENCY_KEY})
    assert first.status_code == 202, first.text
    for body in bodies[1:]:
        assert client.post("/v1/jobs", json=body).status_code == 202
    assert run_worker(settings, max_jobs=3) == 3
    for name, version in ((AE, 1), (AE, 2), (VAE, 1)):
        assert client.get(f"/v1/models/{name}/versions/{version}").status_code == 200
    import_model(client, AE, seed=1)  # version 3, archived below
    assert client.delete(f"/v1/models/{AE}/versions/{ARCHIVED}").status_code == 204
    import_model(client, IMPORTED, seed=2)  # no threshold, no coding statistics
    alias = client.put(f"/v1/models/{AE}/aliases/{ALIAS}", json={"version": 1})
    assert alias.status_code == 200, alias.text
    queued = client.post("/v1/jobs", json=bodies[0])  # never run: it keeps ds and ae busy
    assert queued.status_code == 202, queued.text
    return {"job": first.json()["id"], "queued": queued.json()["id"]}


# -- the checks ---------------------------------------------------------------------------


def check_answer(response: httpx.Response, case: Case) -> None:
    assert response.status_code == case.status, response.text
    content_type = response.headers.get("content-type", "")
    if case.oip:
        assert content_type == "application/json", response.text
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
        return
    assert content_type == PROBLEM_JSON, response.text
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == case.status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    if case.status == 422:
        fields = [e["field"] for e in body.get("errors") or []]
        assert case.field in fields, (case.field, body)
        assert body["detail"].startswith(f"{fields[0]}:"), body
    if case.status == 413:
        assert body.get("limit_bytes") or body.get("limit_rows"), body


def assert_refused_and_unchanged(world: World, case: Case) -> None:
    before = world.snapshot()
    url = case.url.format(**world.ids)
    response = world.client.request(case.method, url, **case.request)
    check_answer(response, case)
    after = world.snapshot()
    assert after[0] == before[0], "a database row changed"
    assert after[1] == before[1], "a file under the data dir changed"
