"""Large JSON request bodies, parsed in a separate process instead of on the event loop.

Parsing and validating JSON rows (pydantic, like orjson) holds the GIL the whole time: a
32 MB body is about 0.3 s of it, so a thread would stall the loop just the same, and four
clients sending such bodies stalled /healthz for seconds. A body of at least
AESVC_JSON_OFF_LOOP_BYTES goes to a small pool of spawned processes, which validate it with
the same schema (the same errors, field by field) and send back the row field as one
float32 array, cheap to pickle; the loop only moves bytes. The processes run at a lower
priority (nice 10), so that on a machine of few cores the loop is not starved either.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

T = TypeVar("T")
# Validation errors kept from a body (one per bad value): the 422 names the first of them
# (service.errors.MAX_ERRORS); the rest would only cost their pickling and the loop's time.
MAX_RAW_ERRORS = 1000


def body_errors(exc: ValidationError) -> list[Any]:
    """A body's validation errors as FastAPI words them (located in "body"), the first
    MAX_RAW_ERRORS of them."""
    kept = exc.errors(include_url=False)[:MAX_RAW_ERRORS]
    return [{**e, "loc": ("body", *e["loc"])} for e in kept]


def parse_rows_body(
    schema: type[BaseModel], body: bytes, array_field: str
) -> tuple[bool, dict[str, Any] | list[Any]]:
    """In the pool: (True, the fields with `array_field` as an array) or (False, errors)."""
    try:
        model = schema.model_validate_json(body)
    except ValidationError as exc:
        return False, body_errors(exc)
    fields = dict(model)
    rows: list[list[float]] = fields[array_field]
    widths = {len(row) for row in rows}
    if len(widths) == 1:
        with np.errstate(over="ignore"):  # 1e39 becomes inf, reported later as non-finite
            fields[array_field] = np.asarray(rows, dtype=np.float32)
    else:
        # empty or ragged: one row of each width, for the caller's check to word the error
        fields[array_field] = list({len(row): row for row in rows}.values())
    return True, fields


def _lower_priority() -> None:
    """Parsing is bulk work: where the cores are few, the event loop goes first."""
    os.nice(10)


class JsonBodyPool:
    """Started on first use: a service that never sees a large body starts no process."""

    def __init__(self, *, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None

    async def parse_rows(
        self, schema: type[BaseModel], body: bytes, array_field: str
    ) -> tuple[bool, dict[str, Any] | list[Any]]:
        return await self.run(parse_rows_body, schema, body, array_field)

    async def run(self, parse: Callable[..., T], *args: Any) -> T:
        """`parse(*args)` in the pool: a module-level function, light to import (the pool's
        processes import its module, and the modules of its arguments)."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, parse, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
