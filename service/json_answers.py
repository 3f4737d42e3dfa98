"""Large JSON answers rendered ahead in the route's thread and sent a chunk at a time.

A resource whose JSON runs to megabytes (a wide dataset's full view) cost the event loop
three times when FastAPI rendered it: serialised there, buffered whole and hashed there by
ETagMiddleware, then handed to the transport in one write, so that a client that never
reads kept the whole answer in its connection's buffer until the send timeout, one copy
per connection. Rendered as bytes with their ETag in the route's worker thread instead,
an answer passes ETagMiddleware unbuffered (it carries its ETag) and leaves in chunks of
CHUNK_BYTES, each written only once the previous one has drained (uvicorn's flow control),
so an unread connection holds about one chunk of it. RenderedCache keeps recent answers,
so that repeated reads of an unchanged resource render nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi.responses import Response, StreamingResponse

from service.etags import etag_of_bytes

# What one unread connection holds of an answer: a quarter of the socket's send buffer
# (AESVC_SEND_BUFFER_BYTES), and an answer this small goes out in one write.
CHUNK_BYTES = 256 << 10


@dataclass(frozen=True)
class RenderedJson:
    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> RenderedJson:
        return cls(body=body, etag=etag_of_bytes(body))


def json_answer(rendered: RenderedJson) -> Response:
    """A 200 with the rendered bytes and their ETag (ETagMiddleware turns it into a 304 for
    a matching If-None-Match); past CHUNK_BYTES, streamed a chunk at a time."""
    headers = {"ETag": rendered.etag}
    if len(rendered.body) <= CHUNK_BYTES:
        return Response(rendered.body, media_type="application/json", headers=headers)
    headers["Content-Length"] = str(len(rendered.body))
    return StreamingResponse(_chunks(rendered.body), media_type="application/json", headers=headers)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), CHUNK_BYTES):
        yield body[start : start + CHUNK_BYTES]


class RenderedCache:
    """Rendered answers by key, the least recently used dropped past `max_bytes` (an answer
    larger than that is rendered for each read, never kept). A key's answer is rendered by
    one thread at a time: the others asking for it meanwhile wait and take that one, so a
    burst of reads of a cold, wide resource costs one rendering, not one per read."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, RenderedJson] = OrderedDict()
        self._size = 0
        self._rendering: dict[str, threading.Lock] = {}

    def get(self, key: str, render: Callable[[], RenderedJson]) -> RenderedJson:
        with self._lock:
            hit = self._take(key)
            if hit is not None:
                return hit
            flight = self._rendering.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                hit = self._take(key)
            if hit is not None:
                return hit
            rendered = render()
            with self._lock:
                self._put(key, rendered)
                if self._rendering.get(key) is flight:
                    del self._rendering[key]
            return rendered

    def _take(self, key: str) -> RenderedJson | None:
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
        return hit

    def _put(self, key: str, rendered: RenderedJson) -> None:
        size = len(rendered.body)
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        self._size -= len(old.body) if old is not None else 0
        self._entries[key] = rendered
        self._size += size
        while self._size > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._size -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._size
