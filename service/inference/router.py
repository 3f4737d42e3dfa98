from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from service.deps import SessionDep, SettingsDep
from service.inference import service
from service.inference.cache import ModelCache
from service.inference.schemas import (
    EncodeRequest,
    EncodeResponse,
    ReconstructRequest,
    ReconstructResponse,
)

router = APIRouter(prefix="/v1/models/{name}/versions/{ref}", tags=["inference"])
RefPath = Annotated[str, Path(description="A version number or an alias (latest always exists)")]


def get_cache(request: Request) -> ModelCache:
    cache: ModelCache = request.app.state.ctx.extras["model_cache"]
    return cache


CacheDep = Annotated[ModelCache, Depends(get_cache)]


@router.post("/encode", operation_id="encode", summary="Encode rows into codings")
def encode(
    name: str,
    ref: RefPath,
    body: EncodeRequest,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
) -> EncodeResponse:
    loaded = service.load_version(session=session, cache=cache, name=name, ref=ref)
    session.close()
    x = service.to_matrix(
        body.inputs, n_columns=loaded.n_features, field="inputs", max_rows=settings.max_request_rows
    )
    out = service.encode(loaded, x, sample=body.sample)
    return EncodeResponse(model=name, version=loaded.version, **out)


@router.post("/reconstruct", operation_id="reconstruct", summary="Reconstruct rows; per-row errors")
def reconstruct(
    name: str,
    ref: RefPath,
    body: ReconstructRequest,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
) -> ReconstructResponse:
    loaded = service.load_version(session=session, cache=cache, name=name, ref=ref)
    session.close()
    x = service.to_matrix(
        body.inputs, n_columns=loaded.n_features, field="inputs", max_rows=settings.max_request_rows
    )
    out = service.reconstruct(loaded, x)
    return ReconstructResponse(model=name, version=loaded.version, **out)
