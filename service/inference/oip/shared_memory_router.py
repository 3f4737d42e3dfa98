"""The system shared memory extension's routes: register, unregister, status."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from service.inference.api import codecs
from service.inference.oip.router import NO_BODY, OIP, OIP_ERRORS, error_response
from service.inference.oip.shared_memory import SharedMemoryError, SharedMemoryRegistry
from service.inference.oip.tensors import OipError, parse_body
from service.security import key_id_of

router = APIRouter(prefix="/v2/systemsharedmemory", tags=OIP)
ERRORS: dict[int | str, dict[str, Any]] = {400: OIP_ERRORS[400]}


class SystemSharedMemoryRegister(BaseModel):
    key: str = Field(description="The POSIX shared memory object, as shm_open names it: '/name'.")
    offset: int = Field(
        default=0, ge=0, description="Bytes into the object where the region starts."
    )
    byte_size: int = Field(ge=1, description="The region's size in bytes.")


class SystemSharedMemoryStatus(BaseModel):
    name: str
    key: str
    offset: int
    byte_size: int


STATUS: dict[str, Any] = {"response_model": list[SystemSharedMemoryStatus], "responses": ERRORS}
NO_ANSWER: dict[str, Any] = {"response_class": Response, "responses": {**NO_BODY, **ERRORS}}


def _registry(request: Request) -> SharedMemoryRegistry:
    registry: SharedMemoryRegistry = request.app.state.ctx.shared_memory
    return registry


def _status(request: Request, name: str | None) -> Response:
    try:
        regions = _registry(request).status(name, owner=key_id_of(request))
    except SharedMemoryError as exc:
        return error_response(exc)
    return Response(orjson.dumps(regions), media_type=codecs.JSON)


def _unregister(request: Request, name: str | None) -> Response:
    try:
        _registry(request).unregister(name, owner=key_id_of(request))
    except SharedMemoryError as exc:
        return error_response(exc)
    return Response(status_code=200)


@router.get(
    "/status",
    operation_id="oip_system_shared_memory_status",
    summary="Every registered region",
    **STATUS,
)
def read_system_shared_memory_status(request: Request) -> Response:
    return _status(request, None)


@router.get(
    "/region/{region}/status",
    operation_id="oip_system_shared_memory_region_status",
    summary="One region (400 where none has that name)",
    **STATUS,
)
def read_system_shared_memory_region_status(region: str, request: Request) -> Response:
    return _status(request, region)


REGISTER_DOC: dict[str, Any] = codecs.request_body(SystemSharedMemoryRegister, npy=False)


@router.post(
    "/region/{region}/register",
    operation_id="oip_register_system_shared_memory",
    summary="Register a region of a POSIX shared memory object",
    **NO_ANSWER,
    openapi_extra=REGISTER_DOC,
)
async def create_system_shared_memory_region(region: str, request: Request) -> Response:
    try:
        spec = parse_body(SystemSharedMemoryRegister, await request.body(), "register request")
        register = _registry(request).register  # opens a file: off the event loop
        await run_in_threadpool(register, region, owner=key_id_of(request), **spec.model_dump())
    except (OipError, SharedMemoryError) as exc:
        return error_response(exc)
    return Response(status_code=200)


@router.post(
    "/unregister",
    operation_id="oip_unregister_system_shared_memory",
    summary="Unregister every region",
    **NO_ANSWER,
)
def delete_system_shared_memory_regions(request: Request) -> Response:
    return _unregister(request, None)


@router.post(
    "/region/{region}/unregister",
    operation_id="oip_unregister_system_shared_memory_region",
    summary="Unregister one region (none of that name is no error)",
    **NO_ANSWER,
)
def delete_system_shared_memory_region(region: str, request: Request) -> Response:
    return _unregister(request, region)
