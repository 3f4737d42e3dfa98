from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import SessionDep
from service.registry import service
from service.registry.schemas import (
    ModelPublic,
    ModelsPublic,
    ModelVersionPublic,
    ModelVersionsPublic,
)

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", operation_id="list_models", summary="List models")
def list_models(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ModelsPublic:
    rows, count = service.list_models(session=session, offset=offset, limit=limit)
    return ModelsPublic(data=[service.model_public(session, m) for m in rows], count=count)


@router.get("/{name}", operation_id="read_model", summary="Get a model with its aliases")
def read_model(session: SessionDep, name: str) -> ModelPublic:
    return service.model_public(session, service.get_model(session=session, name=name))


@router.get(
    "/{name}/versions", operation_id="list_model_versions", summary="List a model's versions"
)
def list_model_versions(session: SessionDep, name: str) -> ModelVersionsPublic:
    rows = service.list_versions(session=session, name=name)
    return ModelVersionsPublic(
        data=[service.version_public(session, name, v) for v in rows], count=len(rows)
    )


@router.get(
    "/{name}/versions/{ref}",
    operation_id="read_model_version",
    summary="Get a version by number or alias",
)
def read_model_version(session: SessionDep, name: str, ref: str) -> ModelVersionPublic:
    mv = service.resolve_version(session=session, name=name, ref=ref, allow_archived=True)
    return service.version_public(session, name, mv)
