"""Datasets: store validated float32 matrices with their stats, find them, delete them."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
import uuid
from datetime import timedelta
from typing import Any, BinaryIO

import numpy as np
import orjson
from pydantic import TypeAdapter
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, sessionmaker

from service.artifacts import ArtifactStore
from service.blob_guard import check_reachable, delete_unreferenced, ensure_blob
from service.database import utcnow
from service.datasets.chunks import ChunkedRows, ChunkRef, ChunkWriter, chunk_again, npy_bytes
from service.datasets.parsing import ParsedData, StreamedData, as_streamed, validate_shape
from service.datasets.schemas import FULL_PAGE_FEATURES, DatasetPublic, DatasetView
from service.datasets.tables import Dataset, DatasetChunk, UploadBlob
from service.errors import Conflict, NotFound, Unprocessable
from service.etags import check_if_match_tags
from service.json_answers import RenderedCache, RenderedJson
from service.pages import PageRequest, paginate

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ACTIVE_JOB_STATES = ("queued", "running", "cancelling")
# An upload that recorded no chunk for this many lease timeouts (AESVC_LEASE_TIMEOUT_S) is
# taken for dead (sweep_abandoned_uploads): long enough for its last phase (every chunk
# checked in the store before the commit) on a slow store; a dead one's chunks wait that
# long, and nothing reads them meanwhile.
ABANDONED_AFTER_LEASES = 10


# A dataset's id: 32 lowercase hex digits (uuid4().hex). A name of that shape is refused,
# so that {id_or_name} is never ambiguous (an id is looked up as an id, anything else as a
# name).
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def check_name(name: str, field: str = "name") -> str:
    if not NAME_PATTERN.fullmatch(name):  # match's $ also matches before a final newline
        raise Unprocessable(
            field, "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if ID_PATTERN.fullmatch(name):
        raise Unprocessable(field, "32 hexadecimal digits would read as a dataset id; add a letter")
    return name


def parse_image_shape(raw: str | None) -> list[int] | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        shape = [int(part) for part in re.split(r"[,x ]+", raw.strip().strip("[]()")) if part]
    except ValueError as exc:
        raise Unprocessable("image_shape", "expected integers like '8,8,1'") from exc
    if not 2 <= len(shape) <= 3 or any(s <= 0 for s in shape):
        raise Unprocessable("image_shape", "expected 2 or 3 positive integers (H, W[, C])")
    return shape if len(shape) == 3 else [*shape, 1]


def spool_upload(source: BinaryIO, spool: BinaryIO, *, expected_sha256: str | None) -> str:
    """Copy the uploaded file to its spool, hashing it on the way; a checksum the client
    sent must match (422 naming both), before anything is parsed or stored."""
    digest = hashlib.sha256()
    while block := source.read(1 << 20):
        digest.update(block)
        spool.write(block)
    spool.flush()
    actual = digest.hexdigest()
    wanted = (expected_sha256 or "").strip().lower()
    if wanted and wanted != actual:
        raise Unprocessable(
            "sha256",
            f"the file received has sha256 {actual}, not the {wanted} sent: the upload was "
            "damaged or cut short; nothing was stored",
        )
    return actual


def create_dataset(
    *,
    session: Session,
    store: ArtifactStore,
    name: str,
    parsed: ParsedData | StreamedData,
    source_format: str,
    image_shape: list[int] | None,
    builtin: bool = False,
) -> Dataset:
    """Store the rows chunk by chunk (service.datasets.chunks), then the row that makes
    them a dataset: nothing is visible before the commit, and a failure on the way (bad
    values, a truncated file, a full store) removes the chunks already written."""
    check_name(name)
    data = as_streamed(parsed)
    validate_shape(data.n_rows, data.n_features, image_shape)
    taken = session.scalar(select(Dataset.id).where(Dataset.name == name)) is not None
    session.rollback()  # end the transaction: no database lock is held while blobs are written
    if taken:
        raise Conflict(f"a dataset named {name!r} already exists", code="dataset_name_taken")
    upload = uuid.uuid4().hex
    record = functools.partial(_record_upload_blob, session, upload)
    writer = ChunkWriter(store, data.n_rows, data.n_features, image_shape, before_publish=record)
    y_bytes = npy_bytes(data.y) if data.y is not None else None
    labels = None
    try:
        for block in data.blocks():
            writer.add(block)
        written = writer.finish()
        if y_bytes is not None:
            labels = store.put_bytes(y_bytes, before_publish=record)
    except BaseException:  # e.g. bad values or the store filled up: no chunk stays behind
        try:
            session.rollback()
            _drop_upload(session, store, upload)
        except Exception:  # the upload's own error is the one to answer with
            log.exception("dataset %r: could not remove the chunks of a failed upload", name)
        session.rollback()
        raise
    dataset = Dataset(
        id=uuid.uuid4().hex,
        name=name,
        source_format=source_format,
        n_rows=data.n_rows,
        n_features=data.n_features,
        image_shape=image_shape,
        feature_names=data.feature_names,
        label_names=data.label_names,
        sha256=written.sha256,
        labels_sha256=labels.sha256 if labels else None,
        size_bytes=written.size_bytes,
        stats=written.stats,
        profile=written.profile.model_dump(),
        builtin=builtin,
    )
    session.add(dataset)
    session.add_all(
        DatasetChunk(
            dataset_id=dataset.id,
            position=i,
            first_row=c.first_row,
            n_rows=c.n_rows,
            sha256=c.sha256,
            xxh3=c.xxh3,
        )
        for i, c in enumerate(written.chunks)
    )
    blobs = [c.sha256 for c in written.chunks] + [labels.sha256 if labels else None]
    try:
        for chunk in written.chunks:  # see service.blob_guard
            again = functools.partial(chunk_again, data.blocks(), chunk)
            ensure_blob(session, store, chunk.sha256, again)
        if labels is not None and y_bytes is not None:
            ensure_blob(session, store, labels.sha256, y_bytes)
        session.execute(delete(UploadBlob).where(UploadBlob.upload_id == upload))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        _drop_upload(session, store, upload, blobs)
        raise Conflict(
            f"a dataset named {name!r} already exists", code="dataset_name_taken"
        ) from exc
    except BaseException:
        session.rollback()
        _drop_upload(session, store, upload, blobs)
        raise
    return dataset


def _record_upload_blob(session: Session, upload: str, sha256: str) -> None:
    """Before an upload stores a blob: its record, committed, so that the blob is found
    and removed (sweep_abandoned_uploads) if the process dies before the dataset's commit.
    The latest record's time is the upload's heartbeat."""
    session.commit()  # a fresh transaction, begun IMMEDIATE: it reads, then writes
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    row = session.get(UploadBlob, (upload, sha256))
    if row is None:
        session.add(UploadBlob(upload_id=upload, sha256=sha256, touched_at=utcnow()))
    else:  # the same bytes twice in one upload (e.g. two chunks of zeros)
        row.touched_at = utcnow()
    session.commit()


def _drop_upload(
    session: Session, store: ArtifactStore, upload: str, blobs: list[str | None] | None = None
) -> None:
    """An upload that will not become a dataset: the blobs it recorded (and `blobs`), where
    nothing else uses them (another upload or a dataset of the same bytes), then its records.
    Each blob's record goes under the blob's lock, in the transaction that checks it (see
    blob_guard.delete_unreferenced's `release`)."""
    query = select(UploadBlob.sha256).where(UploadBlob.upload_id == upload)
    recorded = list(session.scalars(query).all())
    session.rollback()

    def release(session: Session, sha256: str) -> None:
        mine = (UploadBlob.upload_id == upload) & (UploadBlob.sha256 == sha256)
        session.execute(delete(UploadBlob).where(mine))

    in_use = _dataset_blob_in_use
    delete_unreferenced(
        session, store, [*recorded, *(blobs or [])], referenced=in_use, release=release
    )
    session.execute(delete(UploadBlob).where(UploadBlob.upload_id == upload))
    session.commit()


def sweep_abandoned_uploads(
    factory: sessionmaker[Session], store: ArtifactStore, *, stale_after_s: float
) -> list[str]:
    """Uploads that recorded no blob for `stale_after_s` (their process died): their blobs
    go, as a failed upload's do. Run by the workers beside the jobs' lease reaper; one the
    store cannot remove now (an outage) stays on record for the next pass. Returns the
    uploads removed."""
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    with factory() as session:
        last = func.max(UploadBlob.touched_at)
        stale = session.scalars(
            select(UploadBlob.upload_id).group_by(UploadBlob.upload_id).having(last < cutoff)
        ).all()
        removed = []
        for upload in stale:
            try:
                _drop_upload(session, store, upload)
            except Exception as exc:  # the store away: its records stay for the next pass
                session.rollback()
                log.warning("upload %s, abandoned midway: not removed yet: %s", upload, exc)
                continue
            removed.append(upload)
            log.warning("removed the blobs of upload %s, abandoned midway", upload)
    return removed


# The columns that grow with the number of features (a wide dataset's are tens of MB of
# JSON, the profile's few numbers among them in `stats`): a basic view never reads them.
PER_FEATURE = (Dataset.feature_names, Dataset.stats)
BASIC_FIELDS = ("feature_names", "stats")
_JSON = TypeAdapter(DatasetPublic)  # the bytes FastAPI answers a DatasetPublic with


def to_public(dataset: Dataset) -> DatasetPublic:
    """The full view."""
    return DatasetPublic.model_validate(
        {
            **{c: getattr(dataset, c) for c in DatasetPublic.model_fields if hasattr(dataset, c)},
            "has_labels": dataset.labels_sha256 is not None,
        }
    )


def to_basic(datasets: list[Dataset]) -> list[DatasetPublic]:
    """The basic views of `datasets` (read without their per-feature columns)."""
    fields = [
        c for c in DatasetPublic.model_fields if c not in BASIC_FIELDS and hasattr(Dataset, c)
    ]
    return [
        DatasetPublic.model_validate(
            {
                **{c: getattr(d, c) for c in fields},
                **dict.fromkeys(BASIC_FIELDS),
                "has_labels": d.labels_sha256 is not None,
            }
        )
        for d in datasets
    ]


def full_answer(cache: RenderedCache, dataset: Dataset) -> RenderedJson:
    """The full view's JSON and ETag, from `cache` by the dataset's id (its per-feature
    columns are read only when it is rendered). A dataset never changes once stored (no
    route updates one; a batch job's output commits whole), and its id, a uuid4, is never
    given again: an id's rendered answer stays right while the id exists, and the dataset
    has been looked up before the cache is read, so a deleted one is a 404 whatever is kept."""
    return cache.get(dataset.id, lambda: RenderedJson.of(_JSON.dump_json(to_public(dataset))))


def full_listing(
    cache: RenderedCache, rows: list[Dataset], count: int, token: str | None
) -> RenderedJson:
    """A full listing page's JSON (DatasetsPublic's), made of the datasets' cached answers."""
    items = b",".join(full_answer(cache, d).body for d in rows)
    tail = b'],"count":%d,"next_page_token":%s}' % (count, orjson.dumps(token))
    return RenderedJson.of(b'{"data":[' + items + tail)


def list_datasets(
    *, session: Session, page: PageRequest, view: DatasetView = DatasetView.BASIC
) -> tuple[list[Dataset], int, str | None]:
    """A page of datasets, read without their per-feature columns. In the full view the
    page ends early where its datasets would pass FULL_PAGE_FEATURES features together (one
    dataset at least), so that no page is bigger than the widest dataset's full answer."""
    columns = {"created_at": Dataset.created_at, "name": Dataset.name}
    budget: dict[str, Any] = {}
    if view == DatasetView.FULL:
        budget = {"weight": lambda d: d.n_features, "budget": FULL_PAGE_FEATURES}
    query = select(Dataset).options(*(defer(c) for c in PER_FEATURE))
    return paginate(
        session, query, page, columns=columns, tie_break=Dataset.id, filters={}, **budget
    )


def get_dataset(*, session: Session, id_or_name: str, per_feature: bool = True) -> Dataset:
    """By id (32 hex digits) or name; `per_feature=False` leaves its per-feature columns
    unread until they are touched."""
    by_id = ID_PATTERN.fullmatch(id_or_name) is not None
    query = select(Dataset)
    if not per_feature:
        query = query.options(*(defer(c) for c in PER_FEATURE))
    dataset = session.scalars(
        query.where(Dataset.id == id_or_name if by_id else Dataset.name == id_or_name)
    ).first()
    if dataset is None:
        raise NotFound(f"no dataset with id or name {id_or_name!r}", code="dataset_not_found")
    return dataset


def held_dataset(session: Session, dataset_id: str) -> Dataset | None:
    """The dataset, its row locked FOR SHARE until the session commits, or None where it is
    gone. A job (or sweep) about to name it, and a delete of it (which locks it FOR UPDATE
    first), then go one after the other on PostgreSQL (SQLite's one write lock does as
    much): the delete counts the job and is 409 dataset_in_use, or the job finds the
    dataset deleted (404). They raced: a submission beside a delete was queued with a null
    dataset, never to run, while the delete answered 204, or was a 500 (a foreign key
    violation)."""
    query = select(Dataset).where(Dataset.id == dataset_id).with_for_update(read=True)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def use_dataset(*, session: Session, id_or_name: str) -> Dataset:
    """get_dataset for a row about to name it (a job, a sweep): held_dataset's lock taken."""
    dataset = get_dataset(session=session, id_or_name=id_or_name)
    held = held_dataset(session, dataset.id)
    if held is None:
        raise NotFound(f"no dataset with id or name {id_or_name!r}", code="dataset_not_found")
    return held


def delete_dataset(
    *,
    session: Session,
    store: ArtifactStore,
    id_or_name: str,
    if_match: str | None = None,
    cache: RenderedCache | None = None,
) -> None:
    """If-Match may name the ETag of either view, as the client last read the dataset (the
    full one taken from `cache` where it holds it)."""
    from service.training.tables import Job

    dataset = get_dataset(session=session, id_or_name=id_or_name, per_feature=False)
    # the row locked before the jobs are counted: a job submitted meanwhile holds it until
    # it commits, and is then counted (held_dataset)
    locked = session.scalar(select(Dataset.id).where(Dataset.id == dataset.id).with_for_update())
    if locked is None:
        raise NotFound(f"no dataset with id or name {id_or_name!r}", code="dataset_not_found")
    tags: list[str] = []
    if if_match is not None:
        basic = RenderedJson.of(_JSON.dump_json(to_basic([dataset])[0]))
        tags = [basic.etag, full_answer(cache or RenderedCache(0), dataset).etag]
    check_if_match_tags(if_match, tags)
    busy = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.dataset_id == dataset.id, Job.status.in_(ACTIVE_JOB_STATES))
    )
    if busy:
        raise Conflict(
            f"dataset {dataset.name!r} is used by {busy} queued or running job(s)",
            code="dataset_in_use",
        )
    chunks = session.scalars(
        select(DatasetChunk.sha256).where(DatasetChunk.dataset_id == dataset.id)
    ).all()
    blobs = [*chunks, dataset.sha256, dataset.labels_sha256]
    check_reachable(store, blobs)
    session.execute(delete(DatasetChunk).where(DatasetChunk.dataset_id == dataset.id))
    session.delete(dataset)
    session.commit()
    drop_unreferenced(session, store, blobs)


def drop_unreferenced(session: Session, store: ArtifactStore, blobs: list[str | None]) -> None:
    """Remove blobs no dataset refers to any more (identical uploads share one blob), each
    under its lock (service.blob_guard): an upload of the same bytes meanwhile keeps it."""
    delete_unreferenced(session, store, blobs, referenced=_dataset_blob_in_use)


def _dataset_blob_in_use(session: Session, sha: str) -> bool:
    """A dataset, a batch job's output or an upload in progress refers to the blob."""
    uploading = session.scalar(select(UploadBlob.upload_id).where(UploadBlob.sha256 == sha))
    if uploading is not None:
        return True
    used = session.scalar(
        select(func.count())
        .select_from(Dataset)
        .where(or_(Dataset.sha256 == sha, Dataset.labels_sha256 == sha))
    )
    chunk = session.scalar(select(DatasetChunk.dataset_id).where(DatasetChunk.sha256 == sha))
    from service.batch.tables import BatchChunk  # a batch job's chunks, not yet a dataset

    pending = session.scalar(select(BatchChunk.job_id).where(BatchChunk.sha256 == sha))
    return bool(used) or chunk is not None or pending is not None


def open_rows(*, session: Session, store: ArtifactStore, dataset: Dataset) -> ChunkedRows:
    """The dataset's rows, read a chunk at a time; a dataset stored before chunks existed
    is its one blob, read as one chunk."""
    rows = session.execute(
        select(DatasetChunk.sha256, DatasetChunk.first_row, DatasetChunk.n_rows, DatasetChunk.xxh3)
        .where(DatasetChunk.dataset_id == dataset.id)
        .order_by(DatasetChunk.position)
    ).all()
    chunks = [ChunkRef(sha256=s, first_row=f, n_rows=n, xxh3=x) for s, f, n, x in rows]
    if not chunks:
        chunks = [ChunkRef(sha256=dataset.sha256, first_row=0, n_rows=dataset.n_rows)]
    return ChunkedRows(store, chunks, dataset.n_features)


def load_labels(*, store: ArtifactStore, labels_sha256: str | None) -> np.ndarray | None:
    if not labels_sha256:
        return None
    return np.load(io.BytesIO(store.get_bytes(labels_sha256)), allow_pickle=False)


@functools.cache
def builtin_payloads() -> dict[str, dict[str, Any]]:
    """Read once per process (scikit-learn parses its CSV files on every call, and every
    app start registers the built-ins); the arrays are read-only, as they are shared."""
    from sklearn.datasets import load_breast_cancer, load_digits

    from service.zoo.datasets_builtin import make_pca3d

    digits = load_digits()
    cancer = load_breast_cancer()
    payloads: dict[str, dict[str, Any]] = {
        "digits": {
            "parsed": ParsedData(
                X=digits.data.astype(np.float32),
                y=digits.target.astype(np.int64),
                feature_names=[f"pixel_{i // 8}_{i % 8}" for i in range(64)],
                label_names=[str(i) for i in range(10)],
            ),
            "image_shape": [8, 8, 1],
        },
        "pca3d": {
            "parsed": ParsedData(
                X=make_pca3d(), y=None, feature_names=["x1", "x2", "x3"], label_names=None
            ),
            "image_shape": None,
        },
        "breast_cancer": {
            "parsed": ParsedData(
                X=cancer.data.astype(np.float32),
                y=cancer.target.astype(np.int64),
                feature_names=[str(n) for n in cancer.feature_names],
                label_names=[str(n) for n in cancer.target_names],
            ),
            "image_shape": None,
        },
    }
    for payload in payloads.values():
        for array in (payload["parsed"].X, payload["parsed"].y):
            if array is not None:
                array.setflags(write=False)
    return payloads


def register_builtins(*, session: Session, store: ArtifactStore) -> None:
    """Idempotent: a name that exists is left alone, also when two processes race."""
    existing = set(session.scalars(select(Dataset.name)).all())
    for name, payload in builtin_payloads().items():
        if name in existing:
            continue
        try:
            create_dataset(
                session=session,
                store=store,
                name=name,
                parsed=payload["parsed"],
                source_format="builtin",
                image_shape=payload["image_shape"],
                builtin=True,
            )
        except Conflict:
            continue
