from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import JSONResponse, StreamingResponse

from service import idempotency
from service.deps import (
    ActorDep,
    ContextDep,
    JsonBody,
    MultipartBody,
    SessionDep,
    SettingsDep,
    StoreDep,
)
from service.errors import problem_responses
from service.etags import IfMatch, etag_of, none_match
from service.idempotency import IdempotencyKey
from service.pages import PageRequest, page_request
from service.registry import aliases, deletion, export, imports, service
from service.registry.schemas import (
    ALIAS_PATTERN,
    AliasEventsPublic,
    AliasPublic,
    AliasUpdate,
    ExportFormat,
    ExportPart,
    ModelPublic,
    ModelsPublic,
    ModelUpdate,
    ModelVersionPublic,
    ModelVersionsPublic,
)

router = APIRouter(
    prefix="/v1/models",
    tags=["models"],
    responses=problem_responses(400, 404, 409, 410, 413, 415, 503, 507),
)
RefPath = Annotated[str, Path(description="A version number or an alias (latest always exists)")]
AliasPath = Annotated[str, Path(max_length=64, description=f"An alias name, {ALIAS_PATTERN}")]
ModelPage = Annotated[
    PageRequest, page_request(("name", "-name", "created_at", "-created_at"), "name")
]
VersionPage = Annotated[
    PageRequest, page_request(("version", "-version", "created_at", "-created_at"), "version")
]
AliasEventPage = Annotated[PageRequest, page_request(("created_at", "-created_at"), "created_at")]
BINARY: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    }
}


def _cache(ctx: ContextDep) -> deletion.Evictor | None:
    return ctx.model_cache


def _forget_refs(ctx: ContextDep, name: str) -> None:
    cache = ctx.model_cache
    if cache is not None:
        cache.forget_refs(name)


@router.get("", operation_id="list_models", summary="List models")
def list_models(
    session: SessionDep,
    page: ModelPage,
    name_contains: Annotated[
        str | None, Query(max_length=128, description="Case-insensitive part of the name")
    ] = None,
) -> ModelsPublic:
    rows, count, token = service.list_models(
        session=session, name_contains=name_contains, page=page
    )
    data = service.models_public(session, rows)
    return ModelsPublic(data=data, count=count, next_page_token=token)


@router.get("/{name}", operation_id="read_model", summary="Get a model with its aliases")
def read_model(session: SessionDep, name: str) -> ModelPublic:
    return service.model_public(session, service.get_model(session=session, name=name))


@router.patch(
    "/{name}",
    operation_id="update_model",
    dependencies=[JsonBody],
    summary="Set the description; merge tags (a null tag value removes it)",
)
def update_model(
    session: SessionDep, response: Response, name: str, body: ModelUpdate, if_match: IfMatch = None
) -> ModelPublic:
    model = service.update_model(session=session, name=name, update=body, if_match=if_match)
    public = service.model_public(session, model)
    response.headers["ETag"] = etag_of(public)
    return public


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_model",
    summary="Delete a model: versions, aliases, history, blobs (409 while a job trains it)",
)
def delete_model(
    session: SessionDep, store: StoreDep, ctx: ContextDep, name: str, if_match: IfMatch = None
) -> None:
    deletion.delete_model(
        session=session,
        store=store,
        name=name,
        guard=ctx.model_delete_guard,
        cache=_cache(ctx),
        if_match=if_match,
    )


@router.get(
    "/{name}/versions", operation_id="list_model_versions", summary="List a model's versions"
)
def list_model_versions(
    session: SessionDep,
    name: str,
    page: VersionPage,
    status: Annotated[str | None, Query(pattern="^(ready|archived)$")] = None,
) -> ModelVersionsPublic:
    rows, count, token = service.list_versions(session=session, name=name, status=status, page=page)
    data = service.versions_public(session, name, rows)
    return ModelVersionsPublic(data=data, count=count, next_page_token=token)


@router.post(
    "/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    operation_id="import_model_version",
    response_model=ModelVersionPublic,
    dependencies=[MultipartBody],
    form_limits={"max_files": 1, "max_fields": 2},  # a part past them: 400
    summary="Import a model trained elsewhere (safetensors + config) as the next version",
)
def import_model_version(
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    ctx: ContextDep,
    request: Request,
    response: Response,
    name: str,
    file: Annotated[
        UploadFile,
        File(
            description="Weights and preprocessing, safetensors",
            json_schema_extra={"format": "binary"},
        ),
    ],
    config: Annotated[
        str | None,
        Form(
            description="Config JSON {spec, n_features, image_shape, format_version}; "
            "optional when the file's metadata holds it under 'config'"
        ),
    ] = None,
    metrics: Annotated[
        str | None,
        Form(
            description="Metrics JSON object (the anomaly threshold, the coding statistics); "
            "optional, and taken from the file's metadata under 'metrics' without it (the "
            "service's own exports hold the ones scoring and generating read)"
        ),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> ModelVersionPublic | JSONResponse:
    claim = idempotency.begin(
        session,
        request,
        key=idempotency_key,
        operation="import_model_version",
        digest=idempotency.request_digest(name, file.file, config, metrics),
        ttl_s=settings.idempotency_ttl_s,
        pending_s=settings.idempotency_pending_s,
    )
    if claim.replay is not None:
        return claim.replay
    try:
        mv = imports.import_version(
            session=session,
            store=store,
            max_parameters=settings.resolved_max_model_parameters,
            name=name,
            upload=file.file,
            config_json=config,
            metrics_json=metrics,
        )
        public = service.version_public(session, name, mv)
    except BaseException:
        idempotency.abandon(session, claim)
        raise
    location = f"/v1/models/{name}/versions/{mv.version}"
    idempotency.finish(session, claim, status_code=201, answer=public, location=location)
    response.headers["Location"] = location
    return public


@router.get(
    "/{name}/versions/{ref}",
    operation_id="read_model_version",
    summary="Get a version by number or alias",
)
def read_model_version(session: SessionDep, name: str, ref: RefPath) -> ModelVersionPublic:
    mv = service.resolve_version(session=session, name=name, ref=ref, allow_archived=True)
    return service.version_public(session, name, mv)


@router.delete(
    "/{name}/versions/{ref}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_model_version",
    summary="Archive a version and free its blob (409 while an alias points at it)",
)
def delete_model_version(
    session: SessionDep,
    store: StoreDep,
    ctx: ContextDep,
    name: str,
    ref: RefPath,
    if_match: IfMatch = None,
) -> None:
    # The same {ref} as every version route; an alias resolves to the version it names
    # (which it still points at, so that is a 409 unless it is `latest`).
    version = service.resolve_version(session=session, name=name, ref=ref, allow_archived=True)
    deletion.archive_version(
        session=session,
        store=store,
        name=name,
        version=version.version,
        cache=_cache(ctx),
        if_match=if_match,
    )


@router.get(
    "/{name}/versions/{ref}/artifact",
    operation_id="export_model_version",
    summary="Download the version as safetensors, ONNX or TorchScript (raw-unit inputs)",
    response_class=Response,
    responses=BINARY,
)
def export_model_version(
    ctx: ContextDep,
    name: str,
    ref: RefPath,
    format: Annotated[ExportFormat, Query()] = "safetensors",
    part: Annotated[ExportPart, Query(description="full, encoder or decoder")] = "full",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    # Its own session, closed before the answer streams: a request-scoped one would be held
    # until the last byte is read, and downloads a client never reads would take the pool.
    store = ctx.store
    with ctx.session_factory() as session:
        artifact = export.export_version(
            session=session, store=store, name=name, ref=ref, format=format, part=part
        )
    etag = f'"{artifact.sha256}"'
    headers = {"ETag": etag, "X-Checksum-Sha256": artifact.sha256}
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    # Checked before the first byte (a corrupt blob is a 500, never sent), then sent a chunk
    # at a time: a client that reads slowly holds a chunk of the server's memory, not the file
    if artifact.weights_sha256 != artifact.sha256:
        store.verify(artifact.weights_sha256)  # an export's weights, checked on every download
    headers["Content-Length"] = str(store.verify(artifact.sha256))
    headers["Content-Disposition"] = f'attachment; filename="{artifact.filename}"'
    chunks = store.read_chunks(artifact.sha256)  # checked again as sent: a change aborts it
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


@router.get(
    "/{name}/aliases/{alias}",
    operation_id="read_model_alias",
    summary="Where an alias points (latest included)",
)
def read_model_alias(session: SessionDep, name: str, alias: AliasPath) -> AliasPublic:
    return aliases.read_alias(session=session, name=name, alias=alias)


@router.put(
    "/{name}/aliases/{alias}",
    operation_id="set_model_alias",
    dependencies=[JsonBody],
    summary="Point an alias at a ready version (atomic; the move is recorded)",
)
def set_model_alias(
    session: SessionDep,
    ctx: ContextDep,
    actor: ActorDep,
    name: str,
    alias: AliasPath,
    body: AliasUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AliasPublic:
    moved = aliases.set_alias(
        session=session,
        name=name,
        alias=alias,
        version=body.version,
        actor=actor,
        if_match=if_match,
    )
    _forget_refs(ctx, name)
    response.headers["ETag"] = etag_of(moved)
    return moved


@router.delete(
    "/{name}/aliases/{alias}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_model_alias",
    summary="Remove an alias (the removal is recorded)",
)
def delete_model_alias(
    session: SessionDep,
    ctx: ContextDep,
    actor: ActorDep,
    name: str,
    alias: AliasPath,
    if_match: IfMatch = None,
) -> None:
    aliases.delete_alias(session=session, name=name, alias=alias, actor=actor, if_match=if_match)
    _forget_refs(ctx, name)


@router.get(
    "/{name}/aliases/{alias}/history",
    operation_id="list_model_alias_history",
    summary="Every move of an alias, oldest first",
)
def list_model_alias_history(
    session: SessionDep,
    name: str,
    alias: AliasPath,
    page: AliasEventPage,
) -> AliasEventsPublic:
    events, count, token = aliases.alias_history(session=session, name=name, alias=alias, page=page)
    return AliasEventsPublic(data=events, count=count, next_page_token=token)
