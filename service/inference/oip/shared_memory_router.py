"""The system shared memory extension's routes: register, unregister, status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from service.inference.api import codecs
from service.inference.oip.router import NO_BODY, OIP, OIP_ERRORS
from service.inference.oip.shared_memory import SharedMemoryRegistry
from service.inference.oip.tensors import OipRoute, parse_body
from service.security import key_id_of

router = APIRouter(prefix="/v2/systemsharedmemory", tags=OIP, route_class=OipRoute)
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


def _registry(request: Request) -> SharedMemoryRegistry:
    registry: SharedMemoryRegistry = request.app.state.ctx.shared_memory
    return registry


def _status(path: str, operation_id: str, summary: str) -> Any:
    return router.get(
        path,
        operation_id=operation_id,
        summary=summary,
        response_model=list[SystemSharedMemoryStatus],
        responses=ERRORS,
    )


def _change(path: str, operation_id: str, summary: str, **spec: Any) -> Any:
    return router.post(
        path,
        operation_id=operation_id,
        summary=summary,
        response_class=Response,
        responses={**NO_BODY, **ERRORS},
        **spec,
    )


@_status("/status", "oip_system_shared_memory_status", "Every registered region")
async def read_system_shared_memory_status(request: Request) -> Response:
    return codecs.json_response(_registry(request).status(owner=key_id_of(request)))


@_status(
    "/region/{region}/status",
    "oip_system_shared_memory_region_status",
    "One region (400 where none has that name)",
)
async def read_system_shared_memory_region_status(region: str, request: Request) -> Response:
    return codecs.json_response(_registry(request).status(region, owner=key_id_of(request)))


@_change(
    "/region/{region}/register",
    "oip_register_system_shared_memory",
    "Register a region of a POSIX shared memory object",
    openapi_extra=codecs.request_body(SystemSharedMemoryRegister),
)
async def create_system_shared_memory_region(region: str, request: Request) -> Response:
    spec = parse_body(SystemSharedMemoryRegister, await request.body(), "register request")
    register = _registry(request).register  # opens a file: off the event loop
    await run_in_threadpool(register, region, owner=key_id_of(request), **spec.model_dump())
    return Response(status_code=200)


@_change("/unregister", "oip_unregister_system_shared_memory", "Unregister every region")
async def delete_system_shared_memory_regions(request: Request) -> Response:
    _registry(request).unregister(owner=key_id_of(request))
    return Response(status_code=200)


@_change(
    "/region/{region}/unregister",
    "oip_unregister_system_shared_memory_region",
    "Unregister one region (none of that name is no error)",
)
async def delete_system_shared_memory_region(region: str, request: Request) -> Response:
    _registry(request).unregister(region, owner=key_id_of(request))
    return Response(status_code=200)
