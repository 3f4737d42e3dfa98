"""Archive a version, delete a model, and remove the blobs that nobody references any more.

The database decides first (one transaction), the blobs go after the commit: a crash in
between leaves an unreferenced blob, never a row that points at a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.artifacts import ArtifactStore
from service.blob_guard import check_reachable, delete_unreferenced
from service.errors import Conflict, Gone, NotFound
from service.etags import check_if_match
from service.registry.service import lock_model, model_public, version_public
from service.registry.tables import AliasEvent, Model, ModelAlias, ModelExport, ModelVersion

# Raises to refuse deleting the model (a domain error): what deletion asks of the parts
# that add versions (training, through service.context: 409 while a job will add one).
DeleteGuard = Callable[[Session, str], None]


class Evictor(Protocol):
    """What deletion needs of the inference model cache (service.inference.runtime.cache)."""

    def evict(self, name: str, version: int | None = None) -> None: ...


def archive_version(
    *,
    session: Session,
    store: ArtifactStore,
    name: str,
    version: int,
    cache: Evictor | None = None,
    if_match: str | None = None,
) -> None:
    """409 while an alias points at it; else archived (410 on inference) and its blob freed."""
    model = lock_model(session, name)
    mv = session.scalars(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == version
        )
    ).first()
    check_if_match(if_match, version_public(session, name, mv) if mv is not None else None)
    if mv is None:
        raise NotFound(f"model {name!r} has no version {version}", code="version_not_found")
    if mv.status != "ready":
        raise Gone(
            f"version {version} of model {name!r} is already archived", code="version_archived"
        )
    pointing = sorted(
        session.scalars(
            select(ModelAlias.alias).where(
                ModelAlias.model_id == model.id, ModelAlias.version == version
            )
        )
    )
    if pointing:
        raise Conflict(
            f"version {version} of model {name!r} is still the target of alias(es) "
            f"{', '.join(pointing)}; move or delete them first",
            code="version_has_aliases",
            aliases=pointing,
        )
    mv.status = "archived"
    sha256 = mv.artifact_sha256
    check_reachable(store, [sha256])
    session.commit()
    if cache is not None:
        cache.evict(name, version)
    release_artifacts(session=session, store=store, sha256s=[sha256])


def delete_model(
    *,
    session: Session,
    store: ArtifactStore,
    name: str,
    guard: DeleteGuard,
    cache: Evictor | None = None,
    if_match: str | None = None,
) -> None:
    """Versions, aliases, alias history and unshared blobs, unless `guard` refuses (in
    the same transaction, under the model's write lock: no version can sneak in)."""
    model = lock_model(session, name)
    check_if_match(if_match, model_public(session, model))
    guard(session, name)
    sha256s = list(
        session.scalars(
            select(ModelVersion.artifact_sha256).where(ModelVersion.model_id == model.id)
        )
    )
    check_reachable(store, sha256s)
    # Explicit deletes rather than ON DELETE CASCADE alone: correct even on a SQLite
    # connection that was opened without PRAGMA foreign_keys.
    for table in (AliasEvent, ModelAlias, ModelVersion):
        session.execute(delete(table).where(table.model_id == model.id))
    session.execute(delete(Model).where(Model.id == model.id))
    session.commit()
    if cache is not None:
        cache.evict(name)
    release_artifacts(session=session, store=store, sha256s=sha256s)


def release_artifacts(*, session: Session, store: ArtifactStore, sha256s: list[str]) -> None:
    """Delete each blob (and its cached exports) that no ready version still holds, under
    the blob's lock (service.blob_guard): a registration reusing it meanwhile keeps it."""
    delete_unreferenced(
        session, store, sha256s, referenced=weights_in_use, also_delete=_drop_exports
    )


def weights_in_use(session: Session, sha256: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(ModelVersion)
            .where(ModelVersion.artifact_sha256 == sha256, ModelVersion.status == "ready")
        )
    )


def _drop_exports(session: Session, sha256: str) -> list[str]:
    exports = list(
        session.scalars(
            select(ModelExport.export_sha256).where(ModelExport.artifact_sha256 == sha256)
        )
    )
    session.execute(delete(ModelExport).where(ModelExport.artifact_sha256 == sha256))
    return exports
