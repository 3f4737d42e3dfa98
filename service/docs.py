"""/openapi.json for key holders, where the docs are not public (AESVC_PUBLIC_DOCS).

The schema tells an anonymous caller every route and parameter; with auth required it
needs a `read` key (tag "docs"), and the /docs and /redoc pages, which a browser opens
without a key, are not served.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(tags=["docs"])


@router.get("/openapi.json", operation_id="read_openapi", include_in_schema=False)
def read_openapi(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema
