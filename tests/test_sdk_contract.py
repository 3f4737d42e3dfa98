"""Where openapi/openapi.json, and so the Python client generated from it (clients/python),
said less than the service answers: OIP binary tensor data (its header and its answer), the
304 of a conditional read, the ETags of 200s, and multipart form fields declared nullable
(a null, sent by the client as the text "None", was refused)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.factories import csv_bytes
from tests.registry.builders import import_model, model_blob

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "clients" / "python"))

from aesvc_client import Client  # noqa: E402
from aesvc_client.api.datasets import create_dataset  # noqa: E402
from aesvc_client.api.models import export_model_version, import_model_version  # noqa: E402
from aesvc_client.api.oip import oip_infer  # noqa: E402
from aesvc_client.errors import UnexpectedStatus  # noqa: E402
from aesvc_client.models import (  # noqa: E402
    CreateDatasetForm,
    ImportModelVersionForm,
    OipInferJsonInferRequest,
)
from aesvc_client.types import File  # noqa: E402

SPEC: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())


@pytest.fixture
def sdk(client: TestClient) -> Iterator[Client]:
    """The generated client over the app in process (TestClient is an httpx.Client)."""
    generated = Client(base_url="http://testserver", raise_on_unexpected_status=True)
    generated.set_httpx_client(client)
    yield generated


def _op(path: str, method: str) -> dict[str, Any]:
    return SPEC["paths"][path][method]  # type: ignore[no-any-return]


# 1. OIP binary tensor data: the 200 the service sends is not in the contract ---------------


def test_oip_infer_binary_output_answer_is_declared(client: TestClient) -> None:
    """Declared, with the header that splits JSON from tensor bytes. The generated Python
    client parses a 200 as JSON whatever its type (docs/oip.md: binary outputs are read
    with tritonclient or plain HTTP)."""
    import_model(client, "ex", n_features=4)
    body = OipInferJsonInferRequest.from_dict(
        {
            "inputs": [
                {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [0, 1, 2, 3]}
            ],
            "outputs": [{"name": "codings", "parameters": {"binary_data": True}}],
        }
    )
    raw = client.post("/v2/models/ex/infer", json=body.to_dict())
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/octet-stream"  # what the service sends
    declared = _op("/v2/models/{name}/infer", "post")["responses"]["200"]
    # the contract must say so, with the header that splits JSON from tensor bytes
    assert "application/octet-stream" in declared["content"], sorted(declared["content"])
    assert "Inference-Header-Content-Length" in declared.get("headers", {})
    head = int(raw.headers["Inference-Header-Content-Length"])
    codings = json.loads(raw.content[:head])["outputs"][0]
    assert codings["parameters"]["binary_data_size"] == len(raw.content) - head


def test_oip_infer_binary_request_header_is_declared(client: TestClient, sdk: Client) -> None:
    """The contract offers an application/octet-stream request body; a body with tensor
    bytes needs Inference-Header-Content-Length, a declared parameter the client sends."""
    import_model(client, "ex", n_features=4)
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [1, 4],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 16},
                }
            ]
        }
    ).encode()
    payload = head + np.arange(4, dtype="<f4").tobytes()
    with_header = client.post(
        "/v2/models/ex/infer",
        content=payload,
        headers={
            "content-type": "application/octet-stream",
            "Inference-Header-Content-Length": str(len(head)),
        },
    )
    assert with_header.status_code == 200, with_header.text  # the service does serve it
    params = {p["name"].lower() for p in _op("/v2/models/{name}/infer", "post")["parameters"]}
    assert "inference-header-content-length" in params, sorted(params)
    sent = oip_infer.sync_detailed(
        "ex",
        client=sdk,
        body=File(payload=io.BytesIO(payload)),
        inference_header_content_length=len(head),
    )
    assert sent.status_code == 200, sent.content
    assert sent.parsed is not None and sent.parsed.outputs[0].name == "codings"


# 2. Conditional requests: a 304 and ETags the contract does not declare ----------------------


def test_export_answers_a_304_the_contract_declares(client: TestClient, sdk: Client) -> None:
    import_model(client, "ex", n_features=4)
    first = client.get("/v1/models/ex/versions/1/artifact")
    etag = first.headers["etag"]
    again = client.get("/v1/models/ex/versions/1/artifact", headers={"If-None-Match": etag})
    assert again.status_code == 304  # what the service does
    responses = _op("/v1/models/{name}/versions/{ref}/artifact", "get")["responses"]
    assert "304" in responses, sorted(responses)
    # the generated call takes if_none_match, yet raises on the answer it provokes
    try:
        answer = export_model_version.sync_detailed("ex", "1", client=sdk, if_none_match=etag)
    except UnexpectedStatus as exc:
        pytest.fail(f"the SDK refused the 304 its own if_none_match asked for: {exc}")
    assert answer.status_code == 304


def test_every_etag_the_service_sends_on_a_200_is_declared(client: TestClient) -> None:
    """docs/api.md: "`ETag` and the 304s are declared, so generated clients can read them";
    PUT alias and PATCH model answer the ETag a client needs for its next If-Match."""
    import_model(client, "ex", n_features=4, kind="vae")
    answers = {
        ("/v1/models/{name}/aliases/{alias}", "put"): client.put(
            "/v1/models/ex/aliases/prod", json={"version": 1}
        ),
        ("/v1/models/{name}", "patch"): client.patch("/v1/models/ex", json={"description": "d"}),
        ("/v1/models/{name}/versions/{ref}/artifact", "get"): client.get(
            "/v1/models/ex/versions/1/artifact"
        ),
        ("/v1/models/{name}/versions/{ref}/plots/samples.png", "get"): client.get(
            "/v1/models/ex/versions/1/plots/samples.png"
        ),
    }
    undeclared = []
    for (path, method), response in answers.items():
        assert response.status_code == 200, (path, response.text)
        assert "etag" in response.headers, path
        declared = {h.lower() for h in _op(path, method)["responses"]["200"].get("headers", {})}
        if "etag" not in declared:
            undeclared.append(f"{method.upper()} {path}")
    assert undeclared == []


# 3. Multipart form fields declared nullable, but a null refused ----------------------------


def _nullable(schema_name: str) -> list[str]:
    props = SPEC["components"]["schemas"][schema_name]["properties"]
    return sorted(
        name
        for name, prop in props.items()
        if any(part.get("type") == "null" for part in prop.get("anyOf", []))
    )


def test_nullable_dataset_form_fields_accept_the_sdks_null(sdk: Client) -> None:
    """CreateDatasetForm declares header, image_shape, label_column and sha256 as
    `anyOf [..., null]`, so the generated class types them `X | None | Unset`; a None (the
    client's null: the form value "None") must then be taken as not given, not refused."""
    fields = _nullable("CreateDatasetForm")
    rows = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    refused = {}
    for i, field in enumerate(fields):
        form = CreateDatasetForm(
            file=File(payload=io.BytesIO(csv_bytes(rows)), file_name="t.csv"),
            name=f"null-{i}",
            **{field: None},
        )
        answer = create_dataset.sync_detailed(client=sdk, body=form)
        if answer.status_code != 201:
            refused[field] = (answer.status_code, getattr(answer.parsed, "detail", None))
    assert refused == {}


def test_nullable_import_form_fields_accept_the_sdks_null(sdk: Client) -> None:
    fields = _nullable("ImportModelVersionForm")
    blob, _ = model_blob(0, n_features=4)
    refused = {}
    for field in fields:
        form = ImportModelVersionForm(
            file=File(payload=io.BytesIO(blob), file_name="m.safetensors"), **{field: None}
        )
        answer = import_model_version.sync_detailed(f"null-{field}", client=sdk, body=form)
        if answer.status_code != 201:
            refused[field] = (answer.status_code, getattr(answer.parsed, "detail", None))
    assert refused == {}
