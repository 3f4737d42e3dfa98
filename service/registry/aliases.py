"""Aliases: named pointers at ready versions, each move recorded in alias_event.

`latest` is computed (the newest ready version), so it cannot be set or deleted.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.database import utcnow
from service.errors import Conflict, NotFound, Unprocessable
from service.etags import check_if_match
from service.pages import PageRequest, paginate
from service.registry.schemas import ALIAS_PATTERN, AliasEventPublic, AliasPublic
from service.registry.service import LATEST, get_model, latest_version_number, lock_model
from service.registry.tables import AliasEvent, ModelAlias, ModelVersion

_ALIAS_RE = re.compile(ALIAS_PATTERN)
# Every read of a model lists its aliases, and every read of one of its versions reads them
MAX_ALIASES = 64


def check_alias_name(alias: str) -> None:
    if alias == LATEST:
        raise Unprocessable(
            "alias", "'latest' always points at the newest ready version; it cannot be changed"
        )
    if not _ALIAS_RE.fullmatch(alias):
        raise Unprocessable(
            "alias",
            f"{alias!r} is not an alias name: a letter, then up to 63 letters, digits, "
            "'_' or '-' (a number would be read as a version)",
        )


def _alias_row(session: Session, model_id: int, alias: str) -> ModelAlias | None:
    return session.scalars(
        select(ModelAlias).where(ModelAlias.model_id == model_id, ModelAlias.alias == alias)
    ).first()


def read_alias(*, session: Session, name: str, alias: str) -> AliasPublic:
    model = get_model(session=session, name=name)
    if alias == LATEST:
        latest = latest_version_number(session, model.id)
        if latest is None:
            raise NotFound(
                f"model {name!r} has no ready version, so no 'latest'", code="version_not_found"
            )
        return AliasPublic(model=name, alias=LATEST, version=latest, updated_at=None)
    row = _alias_row(session, model.id, alias)
    if row is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}", code="alias_not_found")
    return AliasPublic(model=name, alias=alias, version=row.version, updated_at=row.updated_at)


def _current(session: Session, name: str, model_id: int, alias: str) -> AliasPublic | None:
    row = _alias_row(session, model_id, alias)
    if row is None:
        return None
    return AliasPublic(model=name, alias=alias, version=row.version, updated_at=row.updated_at)


def set_alias(
    *,
    session: Session,
    name: str,
    alias: str,
    version: int,
    actor: str | None = None,
    if_match: str | None = None,
) -> AliasPublic:
    """Point `alias` at a ready version: upsert and event in one transaction.

    Setting it to where it already points changes nothing and records no event.
    `if_match` is compared under the model's lock: of two moves from the same ETag, one wins.
    """
    check_alias_name(alias)
    model = lock_model(session, name)
    check_if_match(if_match, _current(session, name, model.id, alias))
    status = session.scalar(
        select(ModelVersion.status).where(
            ModelVersion.model_id == model.id, ModelVersion.version == version
        )
    )
    if status is None:
        raise NotFound(f"model {name!r} has no version {version}", code="version_not_found")
    if status != "ready":
        raise Conflict(
            f"version {version} of model {name!r} is {status}; an alias needs a ready one",
            code="version_not_ready",
        )
    found = _alias_row(session, model.id, alias)
    if found is None:
        held = session.scalar(
            select(func.count()).select_from(ModelAlias).where(ModelAlias.model_id == model.id)
        )
        if held is not None and held >= MAX_ALIASES:
            raise Unprocessable(
                "alias",
                f"model {name!r} holds {held} aliases, the most a model may hold is "
                f"{MAX_ALIASES}: move or delete one",
            )
    previous = found.version if found is not None else None
    row = found or ModelAlias(model_id=model.id, alias=alias, version=version)
    if previous != version:
        now = utcnow()
        row.version, row.updated_at = version, now
        session.add(row)
        session.add(
            AliasEvent(
                model_id=model.id,
                alias=alias,
                from_version=previous,
                to_version=version,
                actor=actor,
                created_at=now,
            )
        )
        session.commit()
    return AliasPublic(model=name, alias=alias, version=row.version, updated_at=row.updated_at)


def delete_alias(
    *,
    session: Session,
    name: str,
    alias: str,
    actor: str | None = None,
    if_match: str | None = None,
) -> None:
    check_alias_name(alias)
    model = lock_model(session, name)
    check_if_match(if_match, _current(session, name, model.id, alias))
    row = _alias_row(session, model.id, alias)
    if row is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}", code="alias_not_found")
    session.add(
        AliasEvent(
            model_id=model.id,
            alias=alias,
            from_version=row.version,
            to_version=None,
            actor=actor,
            created_at=utcnow(),
        )
    )
    session.delete(row)
    session.commit()


def alias_history(
    *, session: Session, name: str, alias: str, page: PageRequest
) -> tuple[list[AliasEventPublic], int, str | None]:
    """Every move of the alias, oldest first; 404 for an alias that never existed."""
    if alias == LATEST:
        raise Unprocessable(
            "alias", "'latest' is computed from the versions; it has no history of moves"
        )
    model = get_model(session=session, name=name)
    query = select(AliasEvent).where(AliasEvent.model_id == model.id, AliasEvent.alias == alias)
    if session.scalar(query.limit(1)) is None:
        raise NotFound(f"model {name!r} has never had an alias {alias!r}", code="alias_not_found")

    def public(e: AliasEvent) -> AliasEventPublic:
        return AliasEventPublic(
            alias=e.alias,
            from_version=e.from_version,
            to_version=e.to_version,
            actor=e.actor,
            created_at=e.created_at,
        )

    columns = {"created_at": AliasEvent.created_at}
    filters = {"model": name, "alias": alias}
    return paginate(
        session,
        query,
        page,
        columns=columns,
        tie_break=AliasEvent.id,
        filters=filters,
        convert=public,
    )
