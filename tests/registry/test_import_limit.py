"""A model import is held to what the largest network the service takes weighs
(AESVC_MAX_MODEL_PARAMETERS in float64, and AESVC_MAX_BODY_BYTES more for its header and
the form), not to the rows' body limit: it is read from its spooled file a block at a time,
and a network the service would train could not be imported once it passed 64 MiB."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.registry.builders import import_model, model_blob

pytestmark = pytest.mark.any_database  # the body limits, not the database


def test_an_import_past_the_rows_limit_within_the_parameter_budget_is_stored(
    settings: Settings,
) -> None:
    kwargs = {"kind": "linear", "n_features": 4096, "code_size": 8}  # 65,536 weights: 256 KB
    blob, _ = model_blob(0, **kwargs)
    limits = {"max_body_bytes": 64 << 10, "max_model_parameters": 100_000}
    assert len(blob) > limits["max_body_bytes"]
    with TestClient(create_app(settings.model_copy(update=limits), start_workers=False)) as c:
        version = import_model(c, "wide", **kwargs)
        assert version["n_features"] == 4096
        small = {**limits, "max_model_parameters": 20_000}  # the file is past 8 x this
    with TestClient(create_app(settings.model_copy(update=small), start_workers=False)) as c:
        files = {"file": ("model.safetensors", blob, "application/octet-stream")}
        refused = c.post("/v1/models/wide/versions", files=files)
        assert refused.status_code == 413, refused.text
        assert refused.json()["limit_bytes"] == 20_000 * 8 + (64 << 10)
