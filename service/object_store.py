"""Artifacts in object storage (S3 and S3-compatible servers, GCS, Azure) through obstore.

obstore (Rust's object_store crate) does the protocol: signing, retries, multipart
uploads, and the usual credential and endpoint variables (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, GOOGLE_*, AZURE_*). This module adds
what the service needs on top: content addressing with a check on every read (the sha256,
or a dataset chunk's xxh3: service.artifacts), a
spool on local disk so that a large blob is hashed and uploaded in parts without a whole
copy in memory, a bounded read-through cache on local disk, and errors the API can answer
with (a store that does not answer is 503 + Retry-After, not 500).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import PermissionDeniedError, UnauthenticatedError
from obstore.store import from_url

from service.artifacts import (
    CHUNK_BYTES,
    ArtifactMissing,
    ArtifactStore,
    Checkpoint,
    FolderStore,
    StoredArtifact,
    StoreMisconfigured,
    StoreRefused,
    StoreUnavailable,
    blob_key,
    check_sha256,
    fast_checksum,
    no_space_is_storage_full,
    retry_store,
)
from service.config import Settings
from service.store_providers import S3, Provider, provider_for
from service.tmpfiles import locked_temp, sweep

log = logging.getLogger(__name__)
T = TypeVar("T")
PART_BYTES = 8 << 20  # a multipart upload's part; at most PARALLEL_PARTS of them in memory
PARALLEL_PARTS = 4
SETTING = "AESVC_ARTIFACT_URL"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class ReadThroughCache:
    """Blobs read from the object store, kept on local disk up to `max_bytes`, the least
    recently read out first. Content-addressed, so never stale; checked on every read."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root, self.max_bytes = root, max_bytes

    def get(self, sha256: str, xxh3: str | None = None) -> bytes | None:
        """The cached copy, checked as ArtifactStore.verified checks (its xxh3 where given)."""
        path = self.root / sha256
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if xxh3 is not None:
            intact = fast_checksum(data) == xxh3
        else:
            intact = hashlib.sha256(data).hexdigest() == sha256
        if not intact:  # a damaged copy: fetch it afresh
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)  # recency for eviction
        return data

    def put(self, sha256: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        try:
            with locked_temp(self.root) as (file, tmp_path):
                file.write(data)
                file.flush()
                os.replace(tmp_path, self.root / sha256)
        except OSError as exc:  # a cache that cannot be written is only slower
            log.warning("artifact cache: could not keep %s: %s", sha256, exc)
            return
        self._evict()

    def discard(self, sha256: str) -> None:
        (self.root / sha256).unlink(missing_ok=True)

    def _evict(self) -> None:
        entries = []
        for path in self.root.iterdir():
            if path.name.endswith(".tmp"):
                continue
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size


class ObjectCheckpoint(Checkpoint):
    """A checkpoint is one PUT: the object is replaced whole, never seen half-written."""

    def __init__(self, store: ObjectStore, key: str) -> None:
        self.store, self.key = store, key
        self.uri = f"{store.url.rstrip('/')}/{key}"

    def read(self) -> bytes | None:
        try:
            return retry_store(lambda: self.store.get_raw(self.key), what=f"read {self.uri}")
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return retry_store(lambda: self.store.has_key(self.key), what=f"look up {self.uri}")

    def write(self, data: bytes | memoryview) -> None:
        payload = bytes(data)
        retry_store(lambda: self.store.put_raw(self.key, payload), what=f"write {self.uri}")

    def delete(self) -> None:
        """Best effort: a checkpoint left behind is garbage, never a wrong answer."""
        try:
            retry_store(
                lambda: self.store.delete_raw(self.key),
                what=f"delete {self.uri}",
                give_up_after_s=10.0,
            )
        except (StoreUnavailable, StoreRefused) as exc:
            log.warning("checkpoint %s not deleted: %s", self.uri, exc.detail)


class ObjectStore(ArtifactStore):
    def __init__(
        self,
        url: str,
        *,
        spool_dir: Path,
        cache: ReadThroughCache | None = None,
        connect_timeout_s: float = 2.0,
        timeout_s: float = 60.0,
        stall_s: float = 5.0,
        retry_timeout_s: float = 3.0,
    ) -> None:
        self.url, self.spool_dir, self.cache = url, spool_dir, cache
        self.provider = provider_for(url) or S3
        client: dict[str, Any] = {"connect_timeout": timedelta(seconds=connect_timeout_s)}
        if _allows_plain_http(self.provider):
            client["allow_http"] = True  # a MinIO-style server or an emulator on a private network
        # A request's read gives up after a few seconds (503 + Retry-After); a job's
        # writes go through retry_store, which waits longer.
        retry = {
            "max_retries": 3,
            "retry_timeout": timedelta(seconds=retry_timeout_s),
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=1),
                "base": 2,
            },
        }
        # Two clients. Writes: a whole request within timeout_s (an upload's part). Reads,
        # lists, heads, deletes: no bound on a transfer that moves (a large blob on a slow
        # link), but stall_s without a byte ends it: a server that accepts and never answers
        # is a 503 within seconds. Not on writes: reqwest's read timeout also runs while a
        # body is still being sent (reqwest issue 2784).
        writes = {**client, "timeout": timedelta(seconds=timeout_s)}
        reads = {**client, "timeout": timedelta(days=1), "read_timeout": timedelta(seconds=stall_s)}
        try:
            self._writer = from_url(url, client_options=writes, retry_config=retry)  # type: ignore[call-overload]
            self._reader = from_url(url, client_options=reads, retry_config=retry)  # type: ignore[call-overload]
        except (ObstoreError, ValueError) as exc:
            raise StoreMisconfigured(f"{SETTING}={url}: {_first_line(exc)}") from exc

    # -- raw operations: obstore's errors become ours --

    def _call(self, fn: Callable[[], T]) -> T:
        """obstore's errors as ours; the store's URL, bucket and keys stay in the log (an
        answer names the kind of error only)."""
        try:
            return fn()
        except FileNotFoundError:
            raise
        except (PermissionDeniedError, UnauthenticatedError) as exc:
            log.error("artifact store refused: %s", _first_line(exc))
            raise StoreRefused() from exc
        except (ObstoreError, OSError) as exc:
            log.warning("artifact store: %s", _first_line(exc))
            raise StoreUnavailable(type(exc).__name__) from exc

    def get_raw(self, key: str) -> bytes:
        return self._call(lambda: bytes(obstore.get(self._reader, key).bytes()))

    def put_raw(self, key: str, data: bytes | Path) -> None:
        self._call(
            lambda: obstore.put(
                self._writer, key, data, chunk_size=PART_BYTES, max_concurrency=PARALLEL_PARTS
            )
        )

    def delete_raw(self, key: str) -> None:
        """Deleting what is not there is done (S3 says so; Azure answers 404)."""
        with contextlib.suppress(FileNotFoundError):
            self._call(lambda: obstore.delete(self._reader, key))

    # -- the artifact store --

    def put_bytes(
        self, data: bytes, *, before_publish: Callable[[str], None] | None = None
    ) -> StoredArtifact:
        sha256 = hashlib.sha256(data).hexdigest()
        if before_publish is not None:
            before_publish(sha256)
        self.put_raw(blob_key(sha256), data)
        return StoredArtifact(sha256=sha256, size_bytes=len(data))

    def put_chunks(
        self, chunks: Iterable[bytes], *, before_publish: Callable[[str], None] | None = None
    ) -> StoredArtifact:
        """Hashed while spooled to local disk, then uploaded from the file in parts: the
        name is known only at the end, and the final key appears only when whole."""
        digest, size = hashlib.sha256(), 0
        with (
            no_space_is_storage_full(self.spool_dir, "a blob on its way to the object store"),
            locked_temp(self.spool_dir) as (tmp, tmp_path),
        ):
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                tmp.write(chunk)
            tmp.flush()
            sha256 = digest.hexdigest()
            if before_publish is not None:
                before_publish(sha256)
            self.put_raw(blob_key(sha256), tmp_path)
        return StoredArtifact(sha256=sha256, size_bytes=size)

    def get_bytes(self, sha256: str, *, xxh3: str | None = None) -> bytes:
        check_sha256(sha256)
        if self.cache is not None and (hit := self.cache.get(sha256, xxh3)) is not None:
            return hit
        try:
            data = self.get_raw(blob_key(sha256))
        except FileNotFoundError as exc:
            raise ArtifactMissing(f"artifact {sha256} is missing from the store") from exc
        self.verified(sha256, data, xxh3)
        if self.cache is not None:
            self.cache.put(sha256, data)
        return data

    def _open_chunks(self, sha256: str) -> Iterator[memoryview]:
        key = blob_key(sha256)
        try:
            result = self._call(lambda: obstore.get(self._reader, key))
        except FileNotFoundError as exc:
            raise ArtifactMissing(f"artifact {sha256} is missing from the store") from exc
        return self._stream(iter(result.stream(min_chunk_size=CHUNK_BYTES)))

    def _stream(self, chunks: Iterator[Any]) -> Iterator[memoryview]:
        while True:
            try:
                chunk = self._call(lambda: next(chunks))
            except StopIteration:
                return
            yield memoryview(chunk)  # obstore's Bytes, without a copy

    def has_key(self, key: str) -> bool:
        try:
            self._call(lambda: obstore.head(self._reader, key))
        except FileNotFoundError:
            return False
        return True

    def exists(self, sha256: str) -> bool:
        return self.has_key(blob_key(sha256))

    def delete(self, sha256: str) -> None:
        self.delete_raw(blob_key(sha256))
        if self.cache is not None:
            self.cache.discard(sha256)

    def checkpoint(self, job_id: str) -> ObjectCheckpoint:
        return ObjectCheckpoint(self, f"checkpoints/{job_id}.pt")

    def sweep_abandoned(self) -> list[Path]:
        """The read-through cache's temp copies whose writer died mid-write (see tmpfiles);
        the spool's, too."""
        cache = sweep(self.cache.root) if self.cache is not None else []
        return cache + sweep(self.spool_dir)

    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key under `prefix` (relative to the store's own prefix)."""
        found: list[str] = []
        for batch in self._call(lambda: obstore.list(self._reader, prefix or None)):
            found.extend(str(meta["path"]) for meta in batch)
        return found

    def check(self) -> None:
        """One LIST: a missing bucket, refused credentials or no server refuse the start."""
        try:
            next(iter(obstore.list(self._reader, chunk_size=1)), None)
        except (ObstoreError, OSError) as exc:
            raise StoreMisconfigured(f"{SETTING}={self.url}: {self._refusal(exc)}") from exc

    def _refusal(self, exc: BaseException) -> str:
        text, provider = str(exc), self.provider
        if any(code in text for code in provider.missing_bucket_codes):
            return f"the {provider.bucket_word} does not exist; create it first"
        if any(code in text for code in provider.refused_codes):
            return f"the credentials were refused ({provider.credentials_hint})"
        if "error sending request" in text or "connect" in text.lower():
            return f"no server answered (check {provider.endpoint_hint} and the network)"
        return _first_line(exc)


def _allows_plain_http(provider: Provider) -> bool:
    """obstore's own ALLOW_HTTP variable, hidden by the client options we pass; and an S3
    endpoint given as http:// (moto, MinIO) implies it. An Azure emulator allows it itself."""
    if os.environ.get(provider.allow_http_variable, "").lower() in ("1", "true", "yes"):
        return True
    if provider is S3:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return bool(endpoint and endpoint.startswith("http://"))
    return False


def open_store(settings: Settings) -> ArtifactStore:
    """The store AESVC_ARTIFACT_URL names: a folder (the default), or an object store."""
    url = settings.artifact_url
    if url is None or not settings.artifact_in_object_store:
        return FolderStore(settings.resolved_artifact_root)
    cache = None
    if settings.artifact_cache_bytes > 0:
        cache = ReadThroughCache(
            (settings.data_dir / "artifact-cache").resolve(), settings.artifact_cache_bytes
        )
    return ObjectStore(url, spool_dir=(settings.data_dir / "tmp").resolve(), cache=cache)
