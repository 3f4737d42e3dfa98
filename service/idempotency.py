"""`Idempotency-Key` on the creating POSTs: a retried request replays the first answer.

A client that lost the answer to an import or an upload retries; without a key that made a
second version. With one, the first request claims (caller, key) in the database before any
work; the answer is stored with it; a retry with the same key and the same request gets the
stored answer with `Idempotent-Replayed: true`. The same key with another request is 409
`idempotency_key_reused`; while the first is still running, 409 `idempotency_key_in_use`
with Retry-After. Keys are scoped per API key (two callers never see each other's answers)
and expire after AESVC_IDEMPOTENCY_TTL_S. A claim whose request died with the process is
taken over after AESVC_IDEMPOTENCY_PENDING_S. Jobs keep their own key on the job row,
committed with the job in one transaction: jobs, batch jobs and sweeps store a digest of
(caller, key) in a unique column of their row (`row_key`, `replayed_row`, `commit_or_replay`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, BinaryIO, Protocol, TypeVar

import orjson
from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.database import Base, UTCDateTime, utcnow
from service.errors import Conflict

REPLAYED = "Idempotent-Replayed"
DIGEST_BLOCK_BYTES = 1 << 20
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retry-safe creation: the same key and request replay the first answer "
        "(`Idempotent-Replayed: true`); scoped to your API key, kept AESVC_IDEMPOTENCY_TTL_S",
    ),
]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))  # the API key's id; "-" with auth off
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(64))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]  # None while the first request runs
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def body_digest(body: BaseModel) -> str:
    """A creating request's body, as `request_sha256` compares it. The stdlib's encoder:
    integers past 64 bits and lone surrogates that validation let through would be a 500
    from orjson's."""
    dumped = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(dumped.encode()).hexdigest()


def request_digest(*parts: bytes | str | BinaryIO | None) -> str:
    """What makes two requests "the same": the caller passes the operation's inputs. A file
    (an upload's spool) is read a block at a time and left at its start; its digest is the
    one of its bytes."""
    digest = hashlib.sha256()
    for part in parts:
        if part is None or isinstance(part, (bytes, str)):
            raw = b"\x00" if part is None else part.encode() if isinstance(part, str) else part
            digest.update(len(raw).to_bytes(8, "big"))
            digest.update(raw)
            continue
        _update_from_file(digest, part)
    return digest.hexdigest()


def _update_from_file(digest: Any, file: BinaryIO) -> None:
    digest.update(file.seek(0, os.SEEK_END).to_bytes(8, "big"))
    file.seek(0)
    for block in iter(lambda: file.read(DIGEST_BLOCK_BYTES), b""):
        digest.update(block)
    file.seek(0)


@dataclass
class Claim:
    record_id: int | None = None  # ours to finish; None: no key, or a replay
    replay: JSONResponse | None = None


def _scope(request: Request) -> str:
    from service.security import key_id_of

    return key_id_of(request) or "-"


def begin(
    session: Session,
    request: Request,
    *,
    key: str | None,
    operation: str,
    digest: str,
    ttl_s: float,
    pending_s: float,
) -> Claim:
    """Claim the key for this request, or the stored answer to replay."""
    if key is None:
        return Claim()
    scope, now = _scope(request), utcnow()
    if session.in_transaction():
        session.rollback()  # only reads came before; the claim must BEGIN IMMEDIATE itself
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
    found = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    ).first()
    if found is not None:
        if found.operation != operation or found.request_sha256 != digest:
            raise Conflict(
                f"Idempotency-Key {key!r} was used with a different request",
                code="idempotency_key_reused",
            )
        if found.status_code is not None:
            return Claim(replay=_replay(found))
        if found.created_at > now - timedelta(seconds=pending_s):
            raise _in_use(key)
        found.created_at = now  # its request died with its process: take it over
        session.commit()
        return Claim(record_id=found.id)
    record = IdempotencyRecord(
        scope=scope,
        key=key,
        operation=operation,
        request_sha256=digest,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    session.add(record)
    try:
        session.commit()
    except IntegrityError:  # PostgreSQL: another request claimed it meanwhile
        raise _in_use(key) from None
    return Claim(record_id=record.id)


def _in_use(key: str) -> Conflict:
    busy = Conflict(
        f"a request with Idempotency-Key {key!r} is still being processed",
        code="idempotency_key_in_use",
    )
    busy.headers["Retry-After"] = "1"
    return busy


def _replay(record: IdempotencyRecord) -> JSONResponse:
    headers = {REPLAYED: "true"}
    if record.location:
        headers["Location"] = record.location
    assert record.status_code is not None and record.body is not None
    return JSONResponse(orjson.loads(record.body), record.status_code, headers=headers)


def finish(
    session: Session,
    claim: Claim,
    *,
    status_code: int,
    answer: Any,
    location: str | None = None,
) -> None:
    """Store the answer the first request gave, for its retries."""
    if claim.record_id is None:
        return
    session.commit()  # the request's own work is committed; end its read transaction
    record = session.get(IdempotencyRecord, claim.record_id)
    if record is not None:
        record.status_code = status_code
        record.body = orjson.dumps(jsonable_encoder(answer))
        record.location = location
        session.commit()


def abandon(session: Session, claim: Claim) -> None:
    """The request failed: free the key, so that a retry runs it again."""
    if claim.record_id is None:
        return
    session.rollback()
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id))
    session.commit()


class KeyedRow(Protocol):
    """A row that keeps the Idempotency-Key that created it (jobs, sweeps)."""

    idempotency_key: Any
    request_sha256: Any
    created_at: Any


R = TypeVar("R", bound=KeyedRow)


def row_key(request: Request, key: str | None, *namespace: str) -> str | None:
    """What a row keeps of an Idempotency-Key: a digest of the caller, the namespace (rows of
    one table made by different routes) and the key, never the key itself."""
    return request_digest(_scope(request), *namespace, key) if key else None


def replayed_row(
    session: Session, model: type[R], key: str | None, request_sha: str, ttl_s: float
) -> R | None:
    """The row an earlier request with this key made, to answer again; None where there is
    no key or no row, or the row is past AESVC_IDEMPOTENCY_TTL_S (its key is then freed).
    409 `idempotency_key_reused` where that request differed."""
    if key is None:
        return None
    column = getattr(model, "idempotency_key")  # noqa: B009 (a column of any keyed table)
    row = session.scalars(select(model).where(column == key)).first()
    if row is None:
        return None
    if row.created_at < utcnow() - timedelta(seconds=ttl_s):
        row.idempotency_key = None
        session.commit()
        return None
    if row.request_sha256 != request_sha:
        raise Conflict(
            "this Idempotency-Key was used with a different request body",
            code="idempotency_key_reused",
        )
    return row


def commit_or_replay(
    session: Session, row: R, key: str | None, request_sha: str, ttl_s: float
) -> tuple[R, bool]:
    """Commit a new keyed row: (row, True); or, where a concurrent request with the same key
    committed first (the unique column refuses ours), (that row, False)."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = replayed_row(session, type(row), key, request_sha, ttl_s)
        if existing is None:
            raise
        return existing, False
    return row, True
