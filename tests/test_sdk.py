"""The Python client generated from openapi/openapi.json (clients/python), against a live
server: what a user of an OpenAPI-generated SDK does first, with nothing but the SDK."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.config import Settings
from tests.live import LiveServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))

from aesvc_client import Client
from aesvc_client.api.datasets import create_dataset, list_datasets
from aesvc_client.api.inference import encode, generate, reconstruct, score
from aesvc_client.api.jobs import create_job as create_job_api
from aesvc_client.api.jobs import read_job, stream_job_events
from aesvc_client.api.metrics import read_metrics
from aesvc_client.api.models import (
    export_model_version,
    import_model_version,
    read_latent_plot,
    read_model_version,
    set_model_alias,
)
from aesvc_client.models import (
    AliasUpdate,
    CreateDatasetForm,
    DenseArchitecture,
    EncodeJsonEncodeRequest,
    GenerateGenerateRequest,
    ImportModelVersionForm,
    JobCreate,
    JobStatus,
    ListDatasetsOrderBy,
    ModelSpec,
    Problem,
    ReconstructJsonReconstructRequest,
    ScoreJsonScoreRequest,
    Training,
)
from aesvc_client.types import File

pytestmark = [
    pytest.mark.slow,
    pytest.mark.any_database,
]  # the generated client through a whole training on a real server


@pytest.fixture
def sdk(settings: Settings) -> Iterator[Client]:
    server = LiveServer(settings, workers=1).start()
    with Client(base_url=server.base_url, timeout=None) as client:  # type: ignore[arg-type]
        yield client


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array.astype(np.float32))
    return buffer.getvalue()


def ok(result: Any, kind: type) -> Any:
    assert isinstance(result, kind), result
    return result


def test_generated_client_uploads_trains_and_serves(sdk: Client) -> None:
    rng = np.random.default_rng(0)
    rows = (rng.normal(size=(40, 5)) * [1, 2, 3, 4, 5] + 7).astype(np.float32)
    table = "a,b,c,d,e\n" + "\n".join(",".join(f"{v:.5g}" for v in row) for row in rows)

    csv = create_dataset.sync(
        client=sdk,
        body=CreateDatasetForm(
            file=File(payload=io.BytesIO(table.encode()), file_name="t.csv", mime_type="text/csv"),
            name="sdk-csv",
        ),
    )
    assert getattr(csv, "n_rows", None) == 40, csv
    array = create_dataset.sync(
        client=sdk,
        body=CreateDatasetForm(
            file=File(payload=io.BytesIO(npy(rows)), file_name="t.npy"), name="sdk-npy"
        ),
    )
    assert getattr(array, "feature_names", None) == ["x0", "x1", "x2", "x3", "x4"], array
    # every dataset, two per page, newest first: next_page_token until it is None
    names, token, pages = [], None, 0
    while True:
        page = list_datasets.sync(
            client=sdk, limit=2, order_by=ListDatasetsOrderBy.CREATED_AT_DESC, page_token=token
        )
        names += [d.name for d in page.data]  # type: ignore[union-attr]
        pages, token = pages + 1, page.next_page_token  # type: ignore[union-attr]
        if not token:
            break
    assert names[:2] == ["sdk-npy", "sdk-csv"] and len(names) == page.count > 2  # type: ignore[union-attr]
    assert pages == -(-len(names) // 2) and len(set(names)) == len(names)

    spec = JobCreate(
        model="sdk",
        dataset="sdk-csv",
        spec=ModelSpec(
            architecture=DenseArchitecture(kind="dense", code_size=2, hidden_sizes=[8]),
            training=Training(epochs=3),
        ),
    )
    job = create_job_api.sync(client=sdk, body=spec)
    job_id = getattr(job, "id", None)
    assert job_id, job
    # follow: the SSE stream, read whole (it ends with the job), then the job itself
    events = stream_job_events.sync(job_id, client=sdk)
    assert isinstance(events, File) and b"event: state" in events.payload.read()
    deadline = time.monotonic() + 120
    while (current := read_job.sync(job_id, client=sdk)).status not in (  # type: ignore[union-attr]
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert current.status == JobStatus.SUCCEEDED, current  # type: ignore[union-attr]

    version = read_model_version.sync("sdk", "latest", client=sdk)
    assert getattr(version, "version", None) == 1, version
    assert isinstance(version.worse_than, list)  # type: ignore[union-attr]

    inputs = rows[:4].tolist()
    codings = encode.sync("sdk", "1", client=sdk, body=EncodeJsonEncodeRequest(inputs=inputs))
    assert np.asarray(codings.codings).shape == (4, 2)  # type: ignore[union-attr]
    as_npy = encode.sync_detailed(
        "sdk", "1", client=sdk, body=File(payload=io.BytesIO(npy(rows[:4])))
    )
    assert as_npy.status_code == 200 and as_npy.parsed.codings == codings.codings  # type: ignore[union-attr]
    rebuilt = reconstruct.sync(
        "sdk", "1", client=sdk, body=ReconstructJsonReconstructRequest(inputs=inputs)
    )
    assert len(rebuilt.errors) == 4  # type: ignore[union-attr]
    scored = score.sync("sdk", "1", client=sdk, body=ScoreJsonScoreRequest(inputs=inputs))
    assert len(scored.is_anomaly) == 4  # type: ignore[union-attr]
    samples = generate.sync("sdk", "1", client=sdk, body=GenerateGenerateRequest(n=3, seed=0))
    assert np.asarray(samples.samples).shape == (3, 5)  # type: ignore[union-attr]
    plot = read_latent_plot.sync("sdk", "1", client=sdk)
    assert isinstance(plot, File) and plot.payload.read(8) == b"\x89PNG\r\n\x1a\n"

    alias = set_model_alias.sync_detailed("sdk", "prod", client=sdk, body=AliasUpdate(version=1))
    assert getattr(alias.parsed, "version", None) == 1, alias
    etag = alias.headers["etag"]
    stale = set_model_alias.sync_detailed(
        "sdk", "prod", client=sdk, body=AliasUpdate(version=1), if_match='"stale"'
    )
    assert stale.status_code == 412 and stale.parsed.code == "etag_mismatch"  # type: ignore[union-attr]
    fresh = set_model_alias.sync_detailed(
        "sdk", "prod", client=sdk, body=AliasUpdate(version=1), if_match=etag
    )
    assert fresh.status_code == 200
    assert read_model_version.sync("sdk", "prod", client=sdk).version == 1  # type: ignore[union-attr]

    # a retried import with the same Idempotency-Key replays the first answer
    weights = export_model_version.sync("sdk", "1", client=sdk)
    assert isinstance(weights, File)
    blob = weights.payload.read()

    def import_copy() -> Any:
        body = ImportModelVersionForm(
            file=File(payload=io.BytesIO(blob), file_name="m.safetensors")
        )
        return import_model_version.sync_detailed(
            "sdk-copy", client=sdk, body=body, idempotency_key="copy-1"
        )

    first, retried = import_copy(), import_copy()
    assert first.status_code == retried.status_code == 201, first.content
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.parsed.version == first.parsed.version == 1  # type: ignore[union-attr]

    # errors parse as the problem model, naming the field
    missing = read_model_version.sync("sdk", "99", client=sdk)
    assert isinstance(missing, Problem) and missing.status == 404
    assert missing.code == "version_not_found"  # a stable cause to branch on
    bad = encode.sync("sdk", "1", client=sdk, body=EncodeJsonEncodeRequest(inputs=[[1.0, 2.0]]))
    assert isinstance(bad, Problem) and bad.status == 422 and "inputs" in bad.detail
    assert bad.code == "validation" and bad.errors and bad.errors[0].pointer.startswith("/inputs")

    # the Prometheus exposition comes back as text (it was None: no schema in the spec)
    exposition = read_metrics.sync(client=sdk)
    assert isinstance(exposition, str) and "aesvc_" in exposition
