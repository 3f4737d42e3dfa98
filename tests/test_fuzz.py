"""Property-based fuzzing of every operation against a real server and its own schema:
no 5xx, and every answer (status, content type, body) is one the schema declares.

The server is seeded first, in process, on the same database: a trained model with an
alias, so that the model, inference and plot routes answer with something real. Besides
free path parameters, each operation also draws cases whose path names that model (its
version, its alias, `latest`), its job and its dataset.

schemathesis' pytest integration (`from_fixture` + `parametrize`) fails on pytest 9.2
(`Function._nodeid` is gone), so each operation's strategy runs under Hypothesis here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.config import Settings
from tests.factories import job_body, run_worker
from tests.live import LiveServer

pytestmark = pytest.mark.slow  # schemathesis over every operation of a real server

MODEL = "fuzz-ae"
EXAMPLES_PER_OPERATION = 20
REQUEST_TIMEOUT_S = 10
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same cases every run
    database=None,
    # The first failing case is reported as drawn: shrinking against a server is slow.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(hypothesis.HealthCheck),
)


class Seeded:
    def __init__(self, live: LiveServer, schema: Any, job_id: str) -> None:
        self.live, self.schema, self.job_id = live, schema, job_id


@pytest.fixture
def seeded(client: TestClient, settings: Settings) -> Iterator[Seeded]:
    body = job_body(model_name=MODEL, dataset="pca3d", code_size=2)
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    assert run_worker(settings) == 1
    assert client.get(f"/v1/models/{MODEL}/versions/1").json()["status"] == "ready"
    assert client.put(f"/v1/models/{MODEL}/aliases/prod", json={"version": 1}).status_code == 200
    live = LiveServer(settings, workers=0).start()  # auth disabled: it binds 127.0.0.1
    config = schemathesis.Config.from_dict({"seed": 9, "request-timeout": REQUEST_TIMEOUT_S})
    schema = schemathesis.openapi.from_url(f"{live.base_url}/openapi.json", config=config)
    yield Seeded(live, schema, response.json()["id"])
    live.stop()


def _pinned_paths(operation: Any, seeded: Seeded) -> list[dict[str, str]]:
    """Path parameters that name the seeded data (never for DELETE: it would remove it)."""
    names = {p.name for p in operation.path_parameters}
    if not names or operation.method.upper() == "DELETE":
        return []
    known = {
        "name": [MODEL],
        "ref": ["1", "prod", "latest"],
        "version": ["1"],
        "alias": ["prod"],
        "job_id": [seeded.job_id],
        "id_or_name": ["pca3d"],
    }
    combos: list[dict[str, str]] = [{}]
    for name in sorted(names & known.keys()):
        combos = [{**c, name: v} for c in combos for v in known[name]]
    return [c for c in combos if c]


def _strategy(operation: Any, seeded: Seeded) -> st.SearchStrategy[Any]:
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    strategies += [
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path)
        for path in _pinned_paths(operation, seeded)
    ]
    strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(strategies)


# The SSE stream's schema is the stream as a whole (bytes, so that a generated client hands
# them over: clients/); Schemathesis reads a text/event-stream schema as each event's.
WHOLE_STREAM_SCHEMA = {"/v1/jobs/{job_id}/events"}


def _fuzz(operation: Any, seeded: Seeded, counter: list[int]) -> None:
    checks = CHECKS
    if operation.path in WHOLE_STREAM_SCHEMA:
        checks = [c for c in CHECKS if c is not response_schema_conformance]

    @FUZZ_SETTINGS
    @hypothesis.given(case=_strategy(operation, seeded))
    def run(case: schemathesis.Case) -> None:
        counter[0] += 1
        case.call_and_validate(
            base_url=seeded.live.base_url, checks=checks, timeout=REQUEST_TIMEOUT_S
        )

    run()


def test_every_operation_conforms_to_the_schema(seeded: Seeded) -> None:
    operations = [result.ok() for result in seeded.schema.get_all_operations()]
    # DELETEs last, so that the other operations still find the seeded data.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    assert len(operations) >= 50
    failures: list[str] = []
    counter = [0]
    started = time.monotonic()
    for operation in operations:
        try:
            _fuzz(operation, seeded, counter)
        except (Exception, BaseExceptionGroup) as exc:  # one failure must not hide others
            failures.append(f"{operation.label}: {exc}")
    elapsed_s = time.monotonic() - started
    print(f"fuzzed {len(operations)} operations, {counter[0]} requests in {elapsed_s:.0f} s")
    assert failures == [], "\n\n".join(failures)
    assert seeded.live.logs(tail_chars=None).count("Traceback") == 0, seeded.live.logs()
