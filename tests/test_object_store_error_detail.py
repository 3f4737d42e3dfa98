"""An object store that does not answer is a 503 whose detail names the kind of error, not
the store's internal endpoint, bucket or keys (those go to the server's log)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.artifacts import StoreUnavailable
from service.errors import ServiceError
from tests.live import free_port


def test_a_503_for_an_unreachable_store_names_no_endpoint_or_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.object_store import ObjectStore

    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens: the store is down
    for key, value in {
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    store = ObjectStore(
        "s3://internal-bucket/prefix", spool_dir=tmp_path / "spool", retry_timeout_s=0.3
    )
    with pytest.raises(StoreUnavailable) as caught:
        store.get_bytes("a" * 64)
    exc: ServiceError = caught.value
    body_detail = exc.detail  # what service.errors puts in the problem's "detail"
    assert endpoint not in body_detail and "internal-bucket" not in body_detail, body_detail
