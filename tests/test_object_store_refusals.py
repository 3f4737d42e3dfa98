"""Refused credentials (403, 401) are no outage: no retry mends them, so the store raises
StoreRefused (500, for an operator), not StoreUnavailable (503 + Retry-After), and
retry_store gives up at once instead of retrying for its budget. moto checks every
request's keys here (it has no IAM users): every request is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.artifacts import StoreRefused, StoreUnavailable, retry_store
from service.object_store import ObjectStore
from tests.s3 import CREDENTIALS, S3Server


@pytest.fixture
def refusing_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    """moto checking every request's keys (there are no IAM users): every request 403."""
    server = S3Server(tmp_path / "moto-auth.log", check_credentials=True).start()
    try:
        for key, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint}.items():
            monkeypatch.setenv(key, value)
        yield ObjectStore("s3://aesvc-bucket/p", spool_dir=tmp_path / "spool")
    finally:
        server.stop()


def test_a_refused_request_is_not_reported_as_a_transient_outage(
    refusing_store: ObjectStore,
) -> None:
    with pytest.raises(StoreRefused) as caught:
        refusing_store.get_bytes("a" * 64)
    assert caught.value.status == 500 and "credentials" in caught.value.detail
    assert not isinstance(caught.value, StoreUnavailable)


def test_retry_store_does_not_retry_a_refused_write(refusing_store: ObjectStore) -> None:
    calls = 0

    def put() -> object:
        nonlocal calls
        calls += 1
        return refusing_store.put_bytes(b"weights")

    started = time.monotonic()
    with pytest.raises(StoreRefused):
        retry_store(put, what="store weights", give_up_after_s=4.0, first_delay_s=0.2)
    assert calls == 1, (
        f"a 403 was retried {calls} times over {time.monotonic() - started:.1f} s "
        "(a job's writes: for 120 s)"
    )
