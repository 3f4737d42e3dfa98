"""Cursor pages for every collection: `limit`, `order_by`, `page_token` → `next_page_token`.

Offset pages shift as rows arrive (a job submitted between two pages pushes one job onto
the next page twice); a cursor names the last row seen, so the next page starts after it
whatever was added or removed since. The token is opaque to clients: the sort key's value
and the row's id (the tie-break), with the order and the filters it was made for, so a
token sent with another order or other filters is refused rather than silently misread.
`offset` stays for 0.x clients, deprecated (a `Deprecation` header on every answer).
"""

# No `from __future__ import annotations`: the dependency's Query annotations close over
# `orders` and `description`, which FastAPI must see as objects, not strings.
import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Query, Response
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.errors import Unprocessable

T = TypeVar("T")
# SQL OFFSET is a 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT): past it, a 422
# here rather than an overflow in the driver.
MAX_OFFSET = 2**63 - 1
MAX_LIMIT = 1000
# A page with a weight budget reads its rows this many at a time, and stops past the budget
WEIGHED_ROWS_AT_A_TIME = 16
# RFC 9745: the moment `offset` and the 0.x job body were deprecated (API 1.0); RFC 8594:
# when they may go.
OFFSET_DEPRECATED = "@1796515200"  # 2026-12-05
OFFSET_SUNSET = "Tue, 01 Jun 2027 00:00:00 GMT"


def mark_deprecated(response: Response) -> None:
    """The headers of an answer to a request that used a 0.x (API 1.0-deprecated) shape."""
    response.headers["Deprecation"] = OFFSET_DEPRECATED
    response.headers["Sunset"] = OFFSET_SUNSET


@dataclass(frozen=True)
class PageRequest:
    limit: int
    order_by: str
    page_token: str | None
    offset: int | None


def page_request(orders: Sequence[str], default: str, default_limit: int = 100) -> Any:
    """A dependency for a list route sorted by one of `orders` ("name", "-created_at", ...:
    a leading '-' is descending)."""
    description = f"Sort key: one of {', '.join(orders)} ('-' descending); default {default}"

    def dependency(
        response: Response,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = default_limit,
        order_by: Annotated[
            str, Query(description=description, json_schema_extra=_enum(orders))
        ] = default,
        page_token: Annotated[
            str | None,
            Query(max_length=512, description="The `next_page_token` of the previous page"),
        ] = None,
        offset: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_OFFSET,
                deprecated=True,
                description="Deprecated: rows to skip (pages shift as rows arrive); use page_token",
            ),
        ] = None,
    ) -> PageRequest:
        if order_by not in orders:
            raise Unprocessable("order_by", f"must be one of {', '.join(orders)}")
        if offset is not None:
            if page_token is not None:
                raise Unprocessable("offset", "send page_token or offset, not both")
            mark_deprecated(response)
        return PageRequest(limit=limit, order_by=order_by, page_token=page_token, offset=offset)

    return Depends(dependency)


def _enum(orders: Sequence[str]) -> dict[str, Any]:
    """The closed set, with names for generated SDKs (CREATED_AT_DESC, not VALUE_0)."""
    names = [o.lstrip("-").upper() + ("_DESC" if o.startswith("-") else "") for o in orders]
    return {"enum": list(orders), "x-enum-varnames": names}


def _encode(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    return datetime.fromisoformat(value["t"]) if isinstance(value, dict) else value


def _scope(order_by: str, filters: Mapping[str, Any]) -> str:
    text = orjson.dumps([order_by, filters], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(text).hexdigest()[:16]


def make_token(order_by: str, filters: Mapping[str, Any], value: Any, row_id: Any) -> str:
    """The next page's token: after (value, row_id) in this order, under these filters."""
    payload = {"s": _scope(order_by, filters), "v": _encode(value), "i": row_id}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def read_token(token: str, order_by: str, filters: Mapping[str, Any]) -> tuple[Any, Any]:
    """(value, row_id) of the last row before the page `token` starts; 422 `page_token`
    for a token this service did not make for this order and these filters."""
    return _read_token(token, _scope(order_by, filters))


def _read_token(token: str, scope: str) -> tuple[Any, Any]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        made_for, value, row_id = raw["s"], _decode(raw["v"]), raw["i"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise Unprocessable("page_token", "not a page token this service made") from None
    if made_for != scope:
        raise Unprocessable(
            "page_token",
            "made for another order_by or other filters: send the same ones as for the first page",
        )
    return value, row_id


def _fits(value: Any, column: InstrumentedAttribute[Any]) -> bool:
    """Whether a token's value can stand for one of the column's, as make_token wrote it
    (its scope is a digest of public values: anyone can make one)."""
    kind = column.type
    try:
        want = getattr(kind, "impl_instance", kind).python_type  # a TypeDecorator's: object
    except NotImplementedError:
        return True
    if value is None or isinstance(value, bool):
        return value is None or want is bool
    if want is datetime:  # aware, and a moment of the calendar in UTC too (as it is bound)
        if not isinstance(value, datetime) or value.tzinfo is None:
            return False
        try:
            value.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is in the year 10,000 in UTC
            return False
        return True
    if isinstance(value, int) and not -(2**63) <= value < 2**63:  # no database holds it
        return False
    return isinstance(value, int | float) if want is float else isinstance(value, want)


def paginate(
    session: Session,
    query: Select[Any],
    page: PageRequest,
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    tie_break: InstrumentedAttribute[Any],
    filters: Mapping[str, Any],
    convert: Callable[[Any], T] = lambda row: row,
    weight: Callable[[Any], int] | None = None,
    budget: int = 0,
) -> tuple[list[T], int, str | None]:
    """(this page's rows, the total count of the filtered query, the next page's token).

    With `weight`, the page also ends before the row that would take its rows' weights past
    `budget` (it holds one row at least), and the token goes on from there: a short page,
    as AIP-158 allows, for rows whose answers are large (a dataset's full view, a model's
    tags). Its rows are read a few at a time, none past that row."""
    # counted over the key alone: the rows' other columns (a dataset's megabytes of stats)
    # are not the count's to read
    keys = query.with_only_columns(tie_break, maintain_column_froms=True)
    count = session.scalar(select(func.count()).select_from(keys.subquery())) or 0
    name = page.order_by.lstrip("-")
    column, descending = columns[name], page.order_by.startswith("-")
    scope = _scope(page.order_by, filters)
    if page.page_token is not None:
        value, row_id = _read_token(page.page_token, scope)
        if not (_fits(value, column) and _fits(row_id, tie_break)):  # a token made by hand
            raise Unprocessable("page_token", "not a page token this service made")
        beyond = column < value if descending else column > value
        query = query.where(or_(beyond, and_(column == value, tie_break > row_id)))
    ordered = query.order_by(column.desc() if descending else column.asc(), tie_break.asc())
    if page.offset:
        ordered = ordered.offset(page.offset)
    ordered = ordered.limit(page.limit + 1)
    keep = page.limit
    if weight is None:
        rows = list(session.scalars(ordered))
    else:  # read a few rows at a time, and no further than the row past the budget
        rows, total = [], 0
        result = session.scalars(ordered.execution_options(yield_per=WEIGHED_ROWS_AT_A_TIME))
        try:
            for row in result:
                rows.append(row)
                if len(rows) > page.limit:
                    break
                total += weight(row)
                if len(rows) > 1 and total > budget:
                    keep = len(rows) - 1
                    break
        finally:
            result.close()
    next_token = None
    if len(rows) > keep:
        rows = rows[:keep]
        last = rows[-1]
        value, row_id = getattr(last, column.key), getattr(last, tie_break.key)
        next_token = make_token(page.order_by, filters, value, row_id)
    return [convert(row) for row in rows], count, next_token
