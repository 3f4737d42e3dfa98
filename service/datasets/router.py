from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse, StreamingResponse

from service import idempotency
from service.artifacts import no_space_is_storage_full
from service.datasets import download, service
from service.datasets.parsing import detect_format, parse_file
from service.datasets.schemas import (
    FULL_PAGE_FEATURES,
    DatasetPublic,
    DatasetsPublic,
    DatasetView,
)
from service.deps import ContextDep, MultipartBody, SessionDep, SettingsDep, StoreDep
from service.errors import problem_responses
from service.etags import IfMatch
from service.idempotency import IdempotencyKey
from service.json_answers import json_answer
from service.pages import PageRequest, page_request
from service.tmpfiles import locked_temp

DatasetPage = Annotated[
    PageRequest, page_request(("created_at", "-created_at", "name", "-name"), "created_at")
]
router = APIRouter(
    prefix="/v1/datasets",
    tags=["datasets"],
    responses=problem_responses(400, 404, 409, 413, 415, 503, 507),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_dataset",
    response_model=DatasetPublic,
    dependencies=[MultipartBody],
    form_limits={"max_files": 1, "max_fields": 5},  # a part past them: 400
    summary="Upload a dataset (.csv, .npy, .npz, .parquet)",
)
def create_dataset(
    request: Request,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
    file: Annotated[
        UploadFile, File(description="The data file", json_schema_extra={"format": "binary"})
    ],
    name: Annotated[str, Form(description="Unique dataset name")],
    image_shape: Annotated[str | None, Form(description="H,W[,C], e.g. 8,8,1")] = None,
    label_column: Annotated[str | None, Form(description="csv/parquet column of labels")] = None,
    sha256: Annotated[
        str | None,
        Form(
            description="The file's sha256 (hex), when the client wants the upload checked: "
            "on a mismatch nothing is stored and the answer is 422."
        ),
    ] = None,
    header: Annotated[
        bool | None,
        Form(
            description="csv: whether the first row names the columns. Unset, a first row of "
            "numbers is refused (422) rather than taken as names."
        ),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> DatasetPublic | JSONResponse:
    fmt = detect_format(file.filename or "", file.content_type)
    service.check_name(name)
    shape = service.parse_image_shape(image_shape)
    spool = settings.data_dir / "tmp"
    spool.mkdir(parents=True, exist_ok=True)
    # Outside the file's own `with`: closing it on a full disk fails again, and must not
    # turn the 507 into a 500.
    with (
        no_space_is_storage_full(spool, "the upload to its spool folder"),
        locked_temp(spool) as (tmp, tmp_path),
    ):
        file_sha = service.spool_upload(file.file, tmp, expected_sha256=sha256)
        claim = idempotency.begin(
            session,
            request,
            key=idempotency_key,
            operation="create_dataset",
            digest=idempotency.request_digest(
                name, file_sha, fmt, image_shape, label_column, str(header)
            ),
            ttl_s=settings.idempotency_ttl_s,
            pending_s=settings.idempotency_pending_s,
        )
        if claim.replay is not None:
            return claim.replay
        try:
            parsed = parse_file(
                tmp_path,
                fmt,
                label_column=label_column or None,
                max_decoded_bytes=settings.max_upload_bytes,
                spool=spool,
                header=header,
            )
            # Inside the spool's `with`: a streamed file is read while its chunks are stored.
            dataset = service.create_dataset(
                session=session,
                store=store,
                name=name,
                parsed=parsed,
                source_format=fmt,
                image_shape=shape,
            )
            public = service.to_public(dataset)
        except BaseException:
            idempotency.abandon(session, claim)
            raise
    location = f"/v1/datasets/{dataset.id}"
    idempotency.finish(session, claim, status_code=201, answer=public, location=location)
    response.headers["Location"] = location
    return public


VIEW = (
    "`basic` leaves out what grows with the number of features (`feature_names` and `stats` "
    "are null); `full` carries everything."
)
ListView = Annotated[
    DatasetView,
    Query(
        description=f"{VIEW} Default: basic. A full page ends early where its datasets would "
        f"pass {FULL_PAGE_FEATURES:,} features together (next_page_token goes on from there)."
    ),
]
ReadView = Annotated[DatasetView, Query(description=f"{VIEW} Default: full.")]


# Both routes are plain functions, run in a worker thread: the full view's JSON (megabytes
# for a wide dataset) is rendered there and sent in chunks (service.json_answers), never
# serialised on the event loop. Each reads in its own session, closed before the answer
# goes out: a request-scoped one is held until the last byte is read, and full answers a
# client never reads would take the database pool, then the worker threads waiting for it.
@router.get(
    "", operation_id="list_datasets", summary="List datasets", response_model=DatasetsPublic
)
def list_datasets(
    ctx: ContextDep, page: DatasetPage, view: ListView = DatasetView.BASIC
) -> DatasetsPublic | Response:
    with ctx.session_factory() as session:
        rows, count, token = service.list_datasets(session=session, page=page, view=view)
        if view == DatasetView.FULL:
            return json_answer(service.full_listing(ctx.dataset_answers, rows, count, token))
        return DatasetsPublic(data=service.to_basic(rows), count=count, next_page_token=token)


@router.get(
    "/{id_or_name}",
    operation_id="read_dataset",
    summary="Get a dataset by id or name",
    response_model=DatasetPublic,
)
def read_dataset(
    ctx: ContextDep, id_or_name: str, view: ReadView = DatasetView.FULL
) -> DatasetPublic | Response:
    with ctx.session_factory() as session:
        dataset = service.get_dataset(session=session, id_or_name=id_or_name, per_feature=False)
        if view == DatasetView.BASIC:
            return service.to_basic([dataset])[0]
        return json_answer(service.full_answer(ctx.dataset_answers, dataset))


@router.delete(
    "/{id_or_name}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_dataset",
    summary="Delete a dataset (409 while a job uses it)",
)
def delete_dataset(
    ctx: ContextDep, session: SessionDep, store: StoreDep, id_or_name: str, if_match: IfMatch = None
) -> None:
    service.delete_dataset(
        session=session,
        store=store,
        cache=ctx.dataset_answers,
        id_or_name=id_or_name,
        if_match=if_match,
    )


@router.get(
    "/{id_or_name}/data",
    operation_id="download_dataset",
    summary="Download a dataset's rows (.npy or .parquet)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                download.NPY: {"schema": {"type": "string", "format": "binary"}},
                download.PARQUET: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The float32 matrix: .npy (its sha256 is the dataset's) or "
            "Parquet (a float32 column per feature)",
        }
    },
)
def download_dataset(
    ctx: ContextDep,
    id_or_name: str,
    format: Annotated[Literal["npy", "parquet"], Query(description="The file's format")] = "npy",
) -> StreamingResponse:
    # Its own session, closed before the answer streams: a request-scoped one would be held
    # until the last byte is read, and downloads a client never reads would take the pool.
    store = ctx.store
    with ctx.session_factory() as session:
        dataset = service.get_dataset(session=session, id_or_name=id_or_name)
        rows = service.open_rows(session=session, store=store, dataset=dataset)
        name, feature_names = dataset.name, list(dataset.feature_names)
    filename = f"{name}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "npy":
        headers["Content-Length"] = str(download.npy_size(rows))
        return StreamingResponse(
            download.npy_stream(rows), media_type=download.NPY, headers=headers
        )
    return StreamingResponse(
        download.parquet_stream(rows, feature_names), media_type=download.PARQUET, headers=headers
    )
