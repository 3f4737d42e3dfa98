"""Models and their versions: register (idempotently), resolve a {ref}, list, read."""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson
import torch
from safetensors.torch import save as save_safetensors
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore, retry_store
from service.blob_guard import ensure_blob
from service.database import retry_while_unavailable, utcnow
from service.datasets.tables import Dataset
from service.errors import Gone, NotFound, Unprocessable
from service.etags import check_if_match
from service.pages import PageRequest, paginate
from service.registry.quality import worse_than
from service.registry.schemas import ModelPublic, ModelUpdate, ModelVersionPublic
from service.registry.tables import Model, ModelAlias, ModelVersion, split_coding_cov
from service.zoo.spec import ModelSpec

LATEST = "latest"
MAX_VERSION = 2**31 - 1  # model_version.version is an INTEGER: 32 bits on PostgreSQL
MAX_TAGS = 64
# A page of models holds at most this many characters of descriptions and tags together
# (one model at least): a model may hold 84 KB of them
MODEL_PAGE_CHARS = 1 << 20
# ... and a page of versions at most this many bytes of their metrics' JSON (one version at
# least): an import's may hold 64 KiB, a trained version's coding_mean is code_size numbers
VERSION_PAGE_BYTES = 4 << 20
# A version's read carries its coding covariance (code_size² numbers) up to this code size;
# past it the read leaves it out, and never reads its column (generate does; the safetensors
# download's metadata holds it): at a code size of 2,048 it was 50 MB of JSON every read
# parsed and 45 MB of its answer
MAX_READ_COV_CODE_SIZE = 64


@lru_cache(maxsize=1)
def service_version() -> str:
    try:
        package = version("autoencoder-service")
    except PackageNotFoundError:
        package = "0+unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{package}+g{commit}" if commit else package


# What inference reads from a version's metrics: score's threshold (and the contamination
# it was drawn at) and the quantiles a request's contamination picks from, generate's
# Gaussian (service.inference.api.service)
SERVING_METRICS = ("threshold", "contamination", "score_quantiles", "coding_mean", "coding_cov")


def weights_blob(
    state_dict: dict[str, torch.Tensor], config: dict[str, Any], metrics: dict[str, Any]
) -> bytes:
    """The stored (and exported) file: the tensors, and in its metadata the config and the
    metrics that serving reads (SERVING_METRICS), so that a version exported and imported
    elsewhere keeps its anomaly threshold and the coding statistics generate samples from.
    Those follow from the weights and the data; the others (timings) would make two equal
    trainings store two files."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    metadata = weights_metadata(config, metrics)
    if "metrics" not in metadata:
        return save_safetensors(tensors, metadata=metadata)
    return _metadata_sorted(save_safetensors(tensors, metadata=metadata))


def weights_metadata(config: dict[str, Any], metrics: dict[str, Any]) -> dict[str, str]:
    metadata = {"config": json.dumps(config, sort_keys=True)}
    serving = {k: metrics[k] for k in SERVING_METRICS if k in metrics}
    if serving:
        metadata["metrics"] = json.dumps(serving, sort_keys=True)
    return metadata


def weights_header(
    shapes: Mapping[str, Sequence[int]], config: dict[str, Any], metrics: dict[str, Any]
) -> bytes:
    """The first bytes of weights_blob's file for float32 tensors of these shapes, whose
    bytes follow in the order of their names: what a blob written a tensor at a time begins
    with (an import's: service.registry.imports). As safetensors writes it: the metadata
    first, then each tensor's entry in the order of its data, the header padded with spaces
    to 8 bytes (tests/registry/test_import_canonical.py holds the two to the same bytes)."""
    metadata = dict(sorted(weights_metadata(config, metrics).items()))
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name in sorted(shapes):
        shape = [int(n) for n in shapes[name]]
        size = 4 * math.prod(shape)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text


def _metadata_sorted(blob: bytes) -> bytes:
    """The file with its metadata's keys in order: safetensors writes them from a hash map
    in an order that changes from process to process, and a blob is named by its sha256
    (two equal trainings store one file, a resumed one the same as an uninterrupted one)."""
    length = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + length])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)  # the data stays aligned, as safetensors pads it
    return len(text).to_bytes(8, "little") + text + blob[8 + length :]


def _nothing(session: Session, version: int) -> None:
    return None


def register_version(
    factory: sessionmaker[Session],
    store: ArtifactStore,
    *,
    model_name: str,
    source_job_id: str,
    dataset_id: str | None,
    state_dict: dict[str, torch.Tensor],
    config: dict[str, Any],
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    stopping: threading.Event | None = None,
    in_same_transaction: Callable[[Session, int], None] = _nothing,
) -> int:
    """Store the weights, then in ONE transaction add the version and whatever the caller
    adds with `in_same_transaction(session, version)` (training: its job's success, or an
    exception that leaves nothing written).

    Idempotent per source job (unique source_job_id): a retry after a crash returns the
    version the first attempt registered, and so does a retry while the database was
    unreachable. A full store raises StorageFull before any row is written.
    """
    blob = weights_blob(state_dict, config, metrics)
    stored = retry_store(
        lambda: store.put_bytes(blob),
        what=f"job {source_job_id}: store its weights",
        stopping=stopping,
    )
    row = _VersionRow(
        model_name=model_name,
        source_job_id=source_job_id,
        dataset_id=dataset_id,
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        config=config,
        metrics=metrics,
        history=history,
    )

    def register() -> int:
        for _ in range(5):
            session = factory()
            try:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                version = _register_once(session, row)
                if version.created:
                    in_same_transaction(session, version.number)
                    ensure_blob(session, store, stored.sha256, blob)  # (service.blob_guard)
                    session.commit()
                return version.number
            except IntegrityError:
                session.rollback()  # a concurrent first version of a new model: try again
            finally:
                session.close()
        raise RuntimeError(f"could not register a version for job {source_job_id}")

    try:
        return retry_while_unavailable(
            register, what=f"job {source_job_id}: register its version", stopping=stopping
        )
    except BaseException:  # no version row holds the weights: they go, unless shared
        from service.registry.deletion import release_artifacts

        with contextlib.suppress(Exception), factory() as session:
            release_artifacts(session=session, store=store, sha256s=[stored.sha256])
        raise


@dataclass(frozen=True)
class _VersionRow:
    model_name: str
    source_job_id: str
    dataset_id: str | None
    sha256: str
    size_bytes: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, Any]]


@dataclass(frozen=True)
class _Registered:
    number: int
    created: bool  # False: the source's first attempt registered it already


def _register_once(session: Session, row: _VersionRow) -> _Registered:
    """Add the version row (not committed), or find the one this source registered."""
    existing = session.scalars(
        select(ModelVersion).where(ModelVersion.source_job_id == row.source_job_id)
    ).first()
    if existing is not None:
        return _Registered(existing.version, created=False)
    model = session.scalars(
        select(Model).where(Model.name == row.model_name).with_for_update()
    ).first()
    if model is None:
        model = Model(name=row.model_name, description="", tags={}, last_version=0)
        session.add(model)
        session.flush()
    model.last_version += 1
    model.updated_at = utcnow()
    spec = ModelSpec.stored(row.config["spec"])
    # read in this transaction: a dataset deleted since the job started is no lineage
    dataset = session.get(Dataset, row.dataset_id) if row.dataset_id else None
    metrics, coding_cov = split_coding_cov(row.metrics)
    session.add(
        ModelVersion(
            model_id=model.id,
            version=model.last_version,
            status="ready",
            source_job_id=row.source_job_id,
            dataset_id=dataset.id if dataset else None,
            dataset_sha256=dataset.sha256 if dataset else None,
            spec=row.config["spec"],
            config=row.config,
            metrics=metrics,
            coding_cov=coding_cov,
            history=row.history,
            artifact_sha256=row.sha256,
            size_bytes=row.size_bytes,
            n_features=int(row.config["n_features"]),
            code_size=spec.architecture.code_size,
            kind=spec.architecture.kind,
            service_version=service_version(),
            torch_version=torch.__version__,
        )
    )
    session.flush()
    return _Registered(model.last_version, created=True)


def get_model(*, session: Session, name: str) -> Model:
    model = session.scalars(select(Model).where(Model.name == name)).first()
    if model is None:
        raise NotFound(f"no model named {name!r}", code="model_not_found")
    return model


def resolve_version(
    *, session: Session, name: str, ref: str, allow_archived: bool = False
) -> ModelVersion:
    """A {ref} is a version number or an alias; `latest` is the newest ready version."""
    model = get_model(session=session, name=name)
    query = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if ref.isascii() and ref.isdigit():  # "²" is a digit to isdigit, not to int()
        # past the INTEGER column's range no version can exist (and int() refuses strings
        # of over 4,300 digits)
        digits = ref.lstrip("0") or "0"
        found = None
        if len(digits) <= len(str(MAX_VERSION)) and int(digits) <= MAX_VERSION:
            found = session.scalars(query.where(ModelVersion.version == int(digits))).first()
    elif ref == LATEST:
        found = session.scalars(
            query.where(ModelVersion.status == "ready").order_by(ModelVersion.version.desc())
        ).first()
    else:
        alias = session.scalars(
            select(ModelAlias).where(ModelAlias.model_id == model.id, ModelAlias.alias == ref)
        ).first()
        if alias is None:
            raise NotFound(f"model {name!r} has no alias {ref!r}", code="alias_not_found")
        found = session.scalars(query.where(ModelVersion.version == alias.version)).first()
    if found is None:
        raise NotFound(f"model {name!r} has no version {ref!r}", code="version_not_found")
    if found.status != "ready" and not allow_archived:
        raise Gone(
            f"version {found.version} of model {name!r} is archived and no longer served",
            code="version_archived",
        )
    return found


def aliases_of(session: Session, model_id: int) -> dict[str, int]:
    rows = session.scalars(select(ModelAlias).where(ModelAlias.model_id == model_id)).all()
    return {row.alias: row.version for row in rows}


def lock_model(session: Session, name: str) -> Model:
    """Start a write that serialises with every other write to this model.

    SQLite: an IMMEDIATE transaction (the database write lock); PostgreSQL: the model row
    FOR UPDATE. Alias moves, archiving, deletion and registration all take it, so that a
    check ("no alias points here", "the version is ready") still holds at commit.
    """
    if session.in_transaction():
        session.rollback()  # only reads came before; the write must BEGIN IMMEDIATE itself
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    model = session.scalars(select(Model).where(Model.name == name).with_for_update()).first()
    if model is None:
        raise NotFound(f"no model named {name!r}", code="model_not_found")
    return model


def list_models(
    *, session: Session, name_contains: str | None, page: PageRequest
) -> tuple[list[Model], int, str | None]:
    query = select(Model)
    if name_contains:  # case-insensitive on every backend; % and _ match themselves
        query = query.where(func.lower(Model.name).contains(name_contains.lower(), autoescape=True))
    columns = {"name": Model.name, "created_at": Model.created_at}
    filters = {"name_contains": name_contains}
    return paginate(
        session,
        query,
        page,
        columns=columns,
        tie_break=Model.id,
        filters=filters,
        weight=_model_chars,
        budget=MODEL_PAGE_CHARS,
    )


def _model_chars(model: Model) -> int:
    """What a model's answer holds of its own text (MODEL_PAGE_CHARS)."""
    tags = sum(len(k) + len(str(v)) for k, v in (model.tags or {}).items())
    return len(model.description or "") + tags


def update_model(
    *, session: Session, name: str, update: ModelUpdate, if_match: str | None = None
) -> Model:
    """Replace the description; merge the tags (a null value removes that tag)."""
    model = lock_model(session, name)
    check_if_match(if_match, model_public(session, model))
    if update.description is not None:
        model.description = update.description
    if update.tags is not None:
        tags = dict(model.tags)
        for key, value in update.tags.items():
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
        if len(tags) > MAX_TAGS:
            raise Unprocessable("tags", f"a model holds at most {MAX_TAGS} tags, not {len(tags)}")
        model.tags = tags
    model.updated_at = utcnow()
    session.commit()
    return model


def latest_version_number(session: Session, model_id: int) -> int | None:
    return session.scalar(
        select(func.max(ModelVersion.version)).where(
            ModelVersion.model_id == model_id, ModelVersion.status == "ready"
        )
    )


def model_public(session: Session, model: Model) -> ModelPublic:
    return _model_public(
        model, latest_version_number(session, model.id), aliases_of(session, model.id)
    )


def models_public(session: Session, models: list[Model]) -> list[ModelPublic]:
    """model_public of each, in two queries: a page of 1,000 models took 2,001 (0.34 s of a
    worker thread and a pooled connection; 40 such listings kept other reads 8 s waiting)."""
    ids = [m.id for m in models]
    if not ids:
        return []
    latest = dict(
        session.execute(
            select(ModelVersion.model_id, func.max(ModelVersion.version))
            .where(ModelVersion.model_id.in_(ids), ModelVersion.status == "ready")
            .group_by(ModelVersion.model_id)
        ).all()
    )
    aliases: dict[int, dict[str, int]] = {}
    for row in session.scalars(select(ModelAlias).where(ModelAlias.model_id.in_(ids))):
        aliases.setdefault(row.model_id, {})[row.alias] = row.version
    return [_model_public(m, latest.get(m.id), aliases.get(m.id, {})) for m in models]


def _model_public(model: Model, latest: int | None, aliases: dict[str, int]) -> ModelPublic:
    if latest is not None:
        aliases[LATEST] = latest
    return ModelPublic(
        name=model.name,
        description=model.description,
        tags=model.tags,
        latest_version=latest,
        aliases=aliases,
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def _aliased_versions(
    session: Session, model_id: int, aliases: dict[str, int], exclude: int
) -> dict[str, tuple[int, dict[str, Any], str | None]]:
    """alias -> (version, metrics, dataset sha256) of the aliases naming another version."""
    numbers = {v for v in aliases.values() if v != exclude}
    if not numbers:
        return {}
    rows = session.scalars(
        select(ModelVersion).where(
            ModelVersion.model_id == model_id, ModelVersion.version.in_(numbers)
        )
    ).all()
    by_number = {row.version: row for row in rows}
    return {
        alias: (n, by_number[n].metrics, by_number[n].dataset_sha256)
        for alias, n in aliases.items()
        if n in by_number
    }


def _read_covariances(session: Session, versions: list[ModelVersion]) -> dict[int, Any]:
    """The coding covariances that reads answer (up to MAX_READ_COV_CODE_SIZE), by version
    id, in one query for the page: its column is deferred, and read one by one it took a
    query a version."""
    small = [mv.id for mv in versions if mv.code_size <= MAX_READ_COV_CODE_SIZE]
    if not small:
        return {}
    query = select(ModelVersion.id, ModelVersion.coding_cov).where(ModelVersion.id.in_(small))
    return {id_: cov for id_, cov in session.execute(query) if cov is not None}


def version_public(session: Session, model_name: str, mv: ModelVersion) -> ModelVersionPublic:
    return versions_public(session, model_name, [mv])[0]


def versions_public(
    session: Session, model_name: str, versions: list[ModelVersion]
) -> list[ModelVersionPublic]:
    """version_public of each version of one model, in three queries: a page of 1,000
    versions took three each (its aliases, the latest, the versions its aliases name)."""
    if not versions:
        return []
    model_id = versions[0].model_id
    all_aliases = aliases_of(session, model_id)
    latest = latest_version_number(session, model_id)
    aliased = _aliased_versions(session, model_id, all_aliases, exclude=-1)
    covariances = _read_covariances(session, versions)
    return [
        _version_public(
            model_name,
            mv,
            all_aliases,
            latest,
            {alias: named for alias, named in aliased.items() if named[0] != mv.version},
            covariances.get(mv.id),
        )
        for mv in versions
    ]


def _version_public(
    model_name: str,
    mv: ModelVersion,
    all_aliases: dict[str, int],
    latest: int | None,
    aliased: dict[str, tuple[int, dict[str, Any], str | None]],
    coding_cov: Any,
) -> ModelVersionPublic:
    aliases = sorted(a for a, v in all_aliases.items() if v == mv.version)
    if latest == mv.version:
        aliases.append(LATEST)
    metrics = split_coding_cov(mv.metrics)[0]
    if coding_cov is not None:
        metrics["coding_cov"] = coding_cov
    return ModelVersionPublic(
        model=model_name,
        version=mv.version,
        status=mv.status,  # type: ignore[arg-type]  # the column holds one of the two
        aliases=aliases,
        kind=mv.kind,  # type: ignore[arg-type]  # written from a validated spec
        n_features=mv.n_features,
        code_size=mv.code_size,
        metrics=metrics,
        worse_than=worse_than(
            metrics=metrics,
            dataset_sha256=mv.dataset_sha256,
            aliased=aliased,
        ),
        spec=ModelSpec.stored(mv.spec),
        source_job_id=mv.source_job_id,
        dataset_id=mv.dataset_id,
        dataset_sha256=mv.dataset_sha256,
        artifact_sha256=mv.artifact_sha256,
        size_bytes=mv.size_bytes,
        service_version=mv.service_version,
        torch_version=mv.torch_version,
        created_at=mv.created_at,
    )


def ready_versions(
    *,
    session: Session,
    name: str | None = None,
    after: tuple[str, int] | None = None,
    limit: int | None = None,
) -> list[tuple[str, int]]:
    """(model name, version) of every ready version, of one model (NotFound where there is
    no such model) or of all, in name and version order; `after` and `limit` page them."""
    query = (
        select(Model.name, ModelVersion.version)
        .join(Model, ModelVersion.model_id == Model.id)
        .where(ModelVersion.status == "ready")
    )
    if name is not None:
        get_model(session=session, name=name)
        query = query.where(Model.name == name)
    if after is not None:
        last_name, last_version = after
        query = query.where(
            or_(
                Model.name > last_name,
                and_(Model.name == last_name, ModelVersion.version > last_version),
            )
        )
    query = query.order_by(Model.name, ModelVersion.version)
    rows = session.execute(query if limit is None else query.limit(limit))
    return [(model, number) for model, number in rows]


def list_versions(
    *, session: Session, name: str, status: str | None, page: PageRequest
) -> tuple[list[ModelVersion], int, str | None]:
    model = get_model(session=session, name=name)
    query = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if status is not None:
        query = query.where(ModelVersion.status == status)
    columns = {"version": ModelVersion.version, "created_at": ModelVersion.created_at}
    filters = {"model": name, "status": status}
    return paginate(
        session,
        query,
        page,
        columns=columns,
        tie_break=ModelVersion.id,
        filters=filters,
        weight=_version_bytes,
        budget=VERSION_PAGE_BYTES,
    )


def _version_bytes(mv: ModelVersion) -> int:
    """What a version's answer holds of its metrics (VERSION_PAGE_BYTES), and a little."""
    return len(orjson.dumps(mv.metrics)) + 1024
