"""What every artifact store promises, checked on a folder, on a real S3 API (moto's
server) and on a real Azure Blob Storage API (Azurite): content addressing, sha256 checks,
atomic writes, checkpoints, the read-through cache, and the blob-deletion race closed
against a real database. Google Cloud Storage has no emulator here that obstore can write
to (see docs/deployment.md); its URLs and refusals are checked without a server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.artifacts import (
    CHUNK_BYTES,
    ArtifactCorrupted,
    ArtifactMissing,
    ArtifactStore,
    FolderStore,
    blob_key,
    fast_checksum,
)
from service.blob_guard import delete_unreferenced
from service.config import Settings
from service.context import AppContext
from service.datasets import service as datasets
from service.datasets.parsing import ParsedData
from service.main import create_app
from service.object_store import ObjectStore, ReadThroughCache, open_store
from service.tmpfiles import sweep
from tests.azurite import AzuriteServer
from tests.factories import wait_for
from tests.live import assert_start_refused, free_port
from tests.s3 import S3Server, relayed

OBJECT_STORES = [pytest.param(name, marks=pytest.mark.cluster) for name in ("s3", "azure")]
STORES = ["folder", *OBJECT_STORES]
URL_FIXTURES = {"s3": "s3_url", "azure": "az_url"}  # tests/conftest.py


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "folder":
        return FolderStore(tmp_path / "artifacts")
    url = request.getfixturevalue(URL_FIXTURES[request.param])
    return ObjectStore(url, spool_dir=tmp_path / "spool")  # no cache: every read hits the server


@pytest.fixture(params=OBJECT_STORES)
def object_url(request: pytest.FixtureRequest) -> str:
    """A fresh bucket or container on each object store server, its variables set."""
    return str(request.getfixturevalue(URL_FIXTURES[request.param]))


def stored_blobs(store: ArtifactStore) -> list[str]:
    if isinstance(store, FolderStore):
        root = store.root / "sha256"
        return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []
    assert isinstance(store, ObjectStore)
    return sorted(key.rsplit("/", 1)[-1] for key in store.list_keys("sha256"))


def overwrite(store: ArtifactStore, key: str, data: bytes) -> None:
    """Damage an object behind the store's back (a disk error, a stray writer)."""
    if isinstance(store, FolderStore):
        (store.root / key).write_bytes(data)
    else:
        assert isinstance(store, ObjectStore)
        store.put_raw(key, data)


def test_a_read_given_an_xxh3_checks_that_and_not_the_sha256(store: ArtifactStore) -> None:
    """What a dataset chunk's read asks of every store (service.datasets.chunks)."""
    data = bytes(range(256)) * 10
    blob = store.put_bytes(data)
    assert store.get_bytes(blob.sha256, xxh3=fast_checksum(data)) == data
    with pytest.raises(ArtifactCorrupted, match="failed its xxh3 check"):
        store.get_bytes(blob.sha256, xxh3="0" * 16)  # the bytes are intact: the xxh3 decides
    overwrite(store, blob_key(blob.sha256), b"X" + data[1:])
    with pytest.raises(ArtifactCorrupted, match="failed its xxh3 check"):
        store.get_bytes(blob.sha256, xxh3=fast_checksum(data))


def test_the_cache_checks_a_copy_against_the_callers_xxh3(tmp_path: Path) -> None:
    cache = ReadThroughCache(tmp_path / "cache", max_bytes=10_000)
    data = bytes(range(256)) * 4
    sha = hashlib.sha256(data).hexdigest()
    cache.put(sha, data)
    assert cache.get(sha, fast_checksum(data)) == data
    assert cache.get(sha, "0" * 16) is None  # not what the caller recorded: fetched afresh
    assert not (cache.root / sha).exists()
    cache.put(sha, data)
    (cache.root / sha).write_bytes(b"junk")
    assert cache.get(sha, fast_checksum(data)) is None


def test_put_get_round_trip_and_content_address(store: ArtifactStore) -> None:
    data = bytes(range(256)) * 10
    stored = store.put_bytes(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size_bytes == len(data)
    assert store.exists(stored.sha256)
    assert store.get_bytes(stored.sha256) == data
    assert store.put_bytes(data) == stored
    assert stored_blobs(store) == [stored.sha256]


def test_chunks_streams_and_bytes_name_the_same_blob(store: ArtifactStore, tmp_path: Path) -> None:
    data = b"abc" * 1000
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    with source.open("rb") as stream:
        from_stream = store.put_stream(stream)
    assert from_stream == store.put_chunks([data[:7], data[7:]]) == store.put_bytes(data)
    assert stored_blobs(store) == [from_stream.sha256]


def test_a_large_blob_goes_up_in_parts_and_comes_back_whole(store: ArtifactStore) -> None:
    """20 MB in 1 MB chunks: on S3 a multipart upload (8 MB parts), visible once whole."""
    rng = np.random.default_rng(0)
    chunks = [rng.bytes(1 << 20) for _ in range(20)]
    stored = store.put_chunks(iter(chunks))
    assert stored.size_bytes == 20 << 20
    assert store.get_bytes(stored.sha256) == b"".join(chunks)


def test_a_changed_byte_is_refused(store: ArtifactStore) -> None:
    stored = store.put_bytes(b"x" * 100)
    overwrite(store, blob_key(stored.sha256), b"x" * 49 + b"y" + b"x" * 50)
    with pytest.raises(ArtifactCorrupted, match=stored.sha256):
        store.get_bytes(stored.sha256)


def test_missing_and_deleted_blobs(store: ArtifactStore) -> None:
    sha = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(sha)
    with pytest.raises(ArtifactMissing, match=sha):
        store.get_bytes(sha)
    stored = store.put_bytes(b"deleted")
    store.delete(stored.sha256)
    store.delete(stored.sha256)  # twice is fine
    assert not store.exists(stored.sha256)
    with pytest.raises(ArtifactMissing):
        store.get_bytes(stored.sha256)


def test_a_write_that_fails_midway_leaves_nothing(store: ArtifactStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"first part" * 1000
        raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        store.put_chunks(chunks())
    assert stored_blobs(store) == []
    spool = store.tmp_dir if isinstance(store, FolderStore) else store.spool_dir  # type: ignore[attr-defined]
    assert not spool.exists() or list(spool.iterdir()) == []


def test_before_publish_runs_before_the_blob_appears_and_its_failure_leaves_nothing(
    store: ArtifactStore,
) -> None:
    """An upload records each chunk there (service.datasets: nothing it stores can be left
    unrecorded by a crash), on every store and on both ways of putting."""
    seen: list[tuple[str, bool]] = []

    def note(sha256: str) -> None:
        seen.append((sha256, store.exists(sha256)))

    small = store.put_bytes(b"recorded first", before_publish=note)
    large = store.put_chunks(iter([b"p" * (1 << 20)] * 10), before_publish=note)
    assert seen == [(small.sha256, False), (large.sha256, False)]
    assert store.exists(small.sha256) and store.exists(large.sha256)

    def refuse(sha256: str) -> None:
        raise RuntimeError("the database is away")

    with pytest.raises(RuntimeError, match="away"):
        store.put_bytes(b"never", before_publish=refuse)
    assert not store.exists(hashlib.sha256(b"never").hexdigest())
    with pytest.raises(RuntimeError, match="away"):
        store.put_chunks([b"nev", b"er"], before_publish=refuse)
    assert sorted(stored_blobs(store)) == sorted([small.sha256, large.sha256])


@pytest.mark.parametrize("sha", ["", "abc", "A" * 64, "g" * 64, "0" * 63, "../" + "0" * 61])
def test_a_name_that_is_no_sha256_is_refused(store: ArtifactStore, sha: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        store.get_bytes(sha)


def test_checkpoints_are_replaced_whole_and_removed(store: ArtifactStore) -> None:
    checkpoint = store.checkpoint("job-1")
    assert checkpoint.read() is None and not checkpoint.exists()
    checkpoint.write(b"epoch 1")
    checkpoint.write(b"epoch 2")
    assert checkpoint.read() == b"epoch 2" and checkpoint.exists()
    assert store.checkpoint("job-2").read() is None
    checkpoint.delete()
    checkpoint.delete()
    assert checkpoint.read() is None
    assert stored_blobs(store) == []  # checkpoints are not blobs


def test_the_read_through_cache_serves_repeats_and_stays_bounded(
    object_url: str, tmp_path: Path
) -> None:
    cache = ReadThroughCache(tmp_path / "cache", max_bytes=2500)
    store = ObjectStore(object_url, spool_dir=tmp_path / "spool", cache=cache)
    blobs = [store.put_bytes(bytes([i]) * 1000) for i in range(3)]
    for blob in blobs:
        store.get_bytes(blob.sha256)
    cached = sorted(p.name for p in cache.root.iterdir())
    assert len(cached) == 2 and blobs[0].sha256 not in cached  # least recent out first
    # A cached blob is served from disk: even with the object gone from the server.
    store.delete_raw(blob_key(blobs[2].sha256))
    assert store.get_bytes(blobs[2].sha256) == bytes([2]) * 1000
    # A damaged cached copy is dropped and fetched again, checked.
    (cache.root / blobs[1].sha256).write_bytes(b"junk")
    assert store.get_bytes(blobs[1].sha256) == bytes([1]) * 1000
    assert (cache.root / blobs[1].sha256).read_bytes() == bytes([1]) * 1000
    with pytest.raises(ArtifactMissing):
        store.get_bytes(hashlib.sha256(b"absent").hexdigest())


def _dataset(session: object, store: ArtifactStore, name: str, X: np.ndarray) -> object:
    return datasets.create_dataset(
        session=session,  # type: ignore[arg-type]
        store=store,
        name=name,
        parsed=ParsedData(
            X=X, y=None, feature_names=[f"x{i}" for i in range(X.shape[1])], label_names=None
        ),
        source_format="npy",
        image_shape=None,
    )


@pytest.mark.parametrize("backend", STORES)
def test_a_delete_racing_an_upload_of_the_same_bytes_keeps_the_blob(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> None:
    """A deleter runs between the writer's put (a no-op: the blob is there) and its
    commit. The upload has the blob on record (upload_blob), so the dataset's deletion keeps
    it; a deleter whose check came before that record (on PostgreSQL nothing orders the
    two) takes it, and the writer finds it gone and restores it before its row is visible."""
    url = None if backend == "folder" else request.getfixturevalue(URL_FIXTURES[backend])
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        artifact_url=url,
        artifact_cache_bytes=0,
        builtin_datasets=False,
    )
    with TestClient(create_app(settings, start_workers=False)):
        pass  # migrations
    ctx = AppContext.from_settings(settings)
    try:
        X = np.arange(12, dtype=np.float32).reshape(4, 3)
        with ctx.write_session_factory() as session:
            first = _dataset(session, ctx.store, "first", X)
        store = ctx.store
        put = store.put_bytes
        raced: list[str] = []

        def put_then_race(data: bytes, **kwargs):  # type: ignore[no-untyped-def]
            stored = put(data, **kwargs)
            if not raced:
                raced.append(stored.sha256)
                with ctx.write_session_factory() as other:
                    datasets.delete_dataset(session=other, store=store, id_or_name="first")
                    assert store.exists(stored.sha256)  # on the upload's record: kept
                    checked_before = lambda *_: False  # noqa: E731
                    delete_unreferenced(other, store, [stored.sha256], referenced=checked_before)
                assert not store.exists(stored.sha256)  # the deleter took it
            return stored

        store.put_bytes = put_then_race  # type: ignore[method-assign]
        with ctx.write_session_factory() as session:
            second = _dataset(session, store, "second", X)
        with ctx.session_factory() as session:
            rows = datasets.open_rows(session=session, store=store, dataset=second)  # type: ignore[arg-type]
        assert raced == [rows.chunks[0].sha256]  # one chunk, shared by both datasets
        assert first.sha256 == second.sha256  # type: ignore[attr-defined]
        assert store.exists(rows.chunks[0].sha256)
        np.testing.assert_array_equal(rows.read_all(), X)
    finally:
        ctx.close()


def test_open_store_picks_the_store_by_url(object_url: str, tmp_path: Path) -> None:
    remote = open_store(Settings(data_dir=tmp_path, artifact_url=object_url))
    assert isinstance(remote, ObjectStore) and remote.cache is not None
    remote.check()
    folder = open_store(Settings(data_dir=tmp_path))
    assert isinstance(folder, FolderStore) and folder.root == (tmp_path / "artifacts").resolve()


@pytest.mark.cluster
@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("missing bucket", "AESVC_ARTIFACT_URL=s3://aesvc-no-such-bucket/p: the bucket does not"),
        ("no server", "no server answered (check AWS_ENDPOINT_URL"),
        ("refused credentials", "the credentials were refused (AWS_ACCESS_KEY_ID"),
    ],
)
def test_an_unusable_store_refuses_the_start_naming_the_setting(
    problem: str, expected: str, s3_url: str, tmp_path: Path, database_url: str
) -> None:
    """`aesvc serve` and `aesvc worker` exit 2 before serving or claiming anything."""
    env = {
        **os.environ,
        "AESVC_DATA_DIR": str(tmp_path / "var"),
        "AESVC_DATABASE_URL": database_url,
        "AESVC_PORT": str(free_port()),
        "AESVC_ARTIFACT_URL": "s3://aesvc-no-such-bucket/p"
        if problem == "missing bucket"
        else s3_url,
    }
    if problem == "no server":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    checking = None
    if problem == "refused credentials":
        checking = S3Server(tmp_path / "moto-auth.log", check_credentials=True).start()
        env["AWS_ENDPOINT_URL"] = checking.endpoint
    try:
        assert_start_refused(env, expected)
    finally:
        if checking is not None:
            checking.stop()


UPLOADER = """
import sys
from pathlib import Path
from service.object_store import ObjectStore

store = ObjectStore(sys.argv[1], spool_dir=Path(sys.argv[2]))
store.put_chunks(bytes([i % 251]) * (1 << 20) for i in range(64))
print("uploaded", flush=True)
"""


def test_an_upload_killed_midway_leaves_no_object_and_its_spool_is_swept(
    object_url: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL while the multipart upload of a 64 MB blob is on the wire: no object under
    any final key (S3 shows a multipart upload only once completed, Azure a block blob only
    once its block list is committed), and the spool file the writer left is swept once
    nobody holds it."""
    server: S3Server | AzuriteServer
    if object_url.startswith("s3://"):
        server, variable = request.getfixturevalue("s3_server"), "AWS_ENDPOINT_URL"
    else:
        server, variable = request.getfixturevalue("azurite_server"), "AZURITE_BLOB_STORAGE_URL"
    spool = tmp_path / "spool"
    with relayed(server.port) as relay:
        monkeypatch.setenv(variable, relay.endpoint)
        writer = subprocess.Popen(
            [sys.executable, "-c", UPLOADER, object_url, str(spool)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            wait_for(lambda: relay.bytes_up > 16 << 20, timeout_s=120, interval_s=0.01)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(10)
    monkeypatch.setenv(variable, server.endpoint)
    store = ObjectStore(object_url, spool_dir=spool)
    assert store.list_keys() == []
    (left,) = list(spool.iterdir())  # SIGKILL ran no cleanup ...
    assert sweep(spool, min_age_s=0) == [left]  # ... the next start's sweep removes it


def test_a_blob_is_read_a_chunk_at_a_time_and_checked_as_it_is_read(store: ArtifactStore) -> None:
    """What a model download asks of every store (its route streams read_chunks)."""
    data = os.urandom(CHUNK_BYTES * 2 + 12345)
    sha256 = store.put_bytes(data).sha256
    chunks = [bytes(chunk) for chunk in store.read_chunks(sha256)]
    assert b"".join(chunks) == data
    assert max(len(chunk) for chunk in chunks) <= 2 * CHUNK_BYTES  # never the whole blob
    assert len(chunks) >= 2
    assert store.verify(sha256) == len(data)

    overwrite(store, blob_key(sha256), data[:-1] + bytes([data[-1] ^ 1]))
    damaged = store.read_chunks(sha256)
    next(damaged)  # the chunks come; the check fails after the last
    with pytest.raises(ArtifactCorrupted, match=sha256):
        list(damaged)
    with pytest.raises(ArtifactCorrupted):
        store.verify(sha256)

    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(ArtifactMissing):
        store.read_chunks(missing)  # at the call, before any chunk
