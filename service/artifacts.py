"""Content-addressed artifact store on a local folder.

Every blob is named by its sha256 (`sha256/ab/abcdef...`), written to a temporary file in
the same folder and renamed into place, so a reader never sees half a file, and checked
against its name on every read.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from service.errors import InsufficientStorage, ServiceError
from service.tmpfiles import locked_temp, sweep

CHUNK_BYTES = 1 << 20
NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class ArtifactCorrupted(ServiceError):
    status, title, slug = 500, "Artifact Corrupted", "artifact-corrupted"


class ArtifactMissing(ServiceError):
    status, title, slug = 500, "Artifact Missing", "artifact-missing"


class StorageFull(InsufficientStorage):
    """A write found no space (ENOSPC, or over a quota); what it wrote was removed."""


@contextmanager
def no_space_is_storage_full(folder: Path, what: str) -> Iterator[None]:
    """Turn "no space left on device" (or over quota) while writing under `folder` into
    StorageFull (507), naming the folder; any other error passes unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE_ERRNOS:
            raise
        raise StorageFull(
            f"no space left on the disk holding {folder} ({os.strerror(exc.errno)}) while "
            f"writing {what}; nothing was stored. Free space there (or grow the volume), "
            "then retry"
        ) from exc


@dataclass(frozen=True)
class StoredArtifact:
    sha256: str
    size_bytes: int


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def put_bytes(self, data: bytes) -> StoredArtifact:
        return self.put_chunks([data])

    def put_stream(self, stream: BinaryIO) -> StoredArtifact:
        return self.put_chunks(iter(lambda: stream.read(CHUNK_BYTES), b""))

    def put_chunks(self, chunks: Iterable[bytes]) -> StoredArtifact:
        with no_space_is_storage_full(self.root, "a blob to the artifact store"):
            return self._put_chunks(chunks)

    def _put_chunks(self, chunks: Iterable[bytes]) -> StoredArtifact:
        digest = hashlib.sha256()
        size = 0
        with locked_temp(self.tmp_dir) as (tmp, tmp_path):
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
            sha256 = digest.hexdigest()
            target = self.path_of(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)
        return StoredArtifact(sha256=sha256, size_bytes=size)

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / "checkpoints"

    def sweep_abandoned(self) -> list[Path]:
        """Temporary blobs and checkpoints whose writer died mid-write (see tmpfiles)."""
        return sweep(self.tmp_dir) + sweep(self.checkpoint_dir)

    def get_bytes(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactMissing(f"artifact {sha256} is missing from the store") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ArtifactCorrupted(
                f"artifact {sha256} failed its sha256 check; it will not be served"
            )
        return data

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)
