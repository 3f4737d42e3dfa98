"""Shared blobs, deleted safely: the race between a deleter and a writer of equal bytes.

Blobs are named by their content, so two records may share one: a dataset uploaded twice,
two versions with equal weights, an export of either. A deleter checks that no row still
references a blob and then deletes it; a writer stores the blob first and commits its row
after. Without care, a writer whose blob was already there (its put a no-op) commits a
row after the deleter's check, and the deleter then removes the blob under it.

Both sides take a lock named by the blob in the database, for a transaction:
- the deleter, exclusive: check the references, delete the blob, commit;
- the writer, shared: after its row is written (flushed) and until it commits, it makes
  sure the blob is in the store, and puts it again if a deleter removed it.
Either the deleter finishes first (the writer then finds the blob gone and restores it) or
the writer commits first (the deleter then sees its row). PostgreSQL: advisory transaction
locks. SQLite: one writer at a time, so the write lock is the lock (the deleter's
transaction begins IMMEDIATE; the writer holds it from its flush).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore


def _advisory_key(sha256: str) -> int:
    return int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_blob(session: Session, sha256: str, *, exclusive: bool) -> None:
    """PostgreSQL: the blob's advisory lock until the transaction ends. SQLite: nothing
    more to take; the caller's transaction holds the write lock (IMMEDIATE, or a flush)."""
    if _is_postgresql(session):
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {lock}(:key)"), {"key": _advisory_key(sha256)})


def lock_name(session: Session, name: str) -> None:
    """The same lock as lock_blob's, exclusive, on any name (its sha256 as the key): what
    makes a check for the name and the write that claims it one step."""
    lock_blob(session, hashlib.sha256(name.encode()).hexdigest(), exclusive=True)


def ensure_blob(
    session: Session,
    store: ArtifactStore,
    sha256: str,
    data: bytes | Callable[[], bytes | Iterable[bytes]],
) -> None:
    """Writer side, before its commit: the row is flushed, the blob is (again) there.
    `data` may be a function that makes the bytes again (a dataset's chunk, streamed), or
    makes them a part at a time (an imported model's blob, never whole in memory)."""
    session.flush()  # on SQLite this takes the write lock, if the row was not yet written
    lock_blob(session, sha256, exclusive=False)
    if not store.exists(sha256):  # a deleter removed it between our put and now
        made = data if isinstance(data, bytes) else data()
        if isinstance(made, bytes):
            store.put_bytes(made)
        else:
            store.put_chunks(made)


def check_reachable(store: ArtifactStore, sha256s: Iterable[str | None]) -> None:
    """Before a deletion commits its rows: the store answers (a look-up of one of the blobs
    to go), so that an outage is a 503 with nothing deleted, not rows gone and their blobs
    left in a bucket that nothing sweeps. A store that fails between this and the blobs'
    deletion still leaves them: the window is one request's."""
    first = next(filter(None, sha256s), None)
    if first is not None:
        store.exists(first)  # StoreUnavailable (503) while the store does not answer


def delete_unreferenced(
    session: Session,
    store: ArtifactStore,
    sha256s: Iterable[str | None],
    *,
    referenced: Callable[[Session, str], bool],
    also_delete: Callable[[Session, str], list[str]] | None = None,
    release: Callable[[Session, str], None] | None = None,
) -> list[str]:
    """Deleter side: each blob that `referenced` finds unused is deleted, under its lock.

    `also_delete` may remove dependent rows in the same transaction and name more blobs
    that go with it (a version's cached exports). `release` drops the caller's own claim on
    the blob (an upload's record) under the same lock, committed whether the blob goes or
    stays: of two deleters that each hold a claim, the second to take the lock then sees
    none and deletes it. Returns the blobs deleted."""
    deleted: list[str] = []
    for sha256 in dict.fromkeys(filter(None, sha256s)):
        session.commit()  # a fresh transaction: the check must see every committed row
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            lock_blob(session, sha256, exclusive=True)
            if release is not None:
                release(session, sha256)
            if referenced(session, sha256):
                session.commit() if release is not None else session.rollback()
                continue
            extra = also_delete(session, sha256) if also_delete is not None else []
            for blob in [*extra, sha256]:
                store.delete(blob)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        deleted.append(sha256)
    return deleted
