"""uvicorn's HTTP protocol, with the bounds it lacks against slow clients (slowloris).

uvicorn times out a connection only while it is idle *between* requests, and any byte
resets that timer: a client that sends a request head one byte at a time, or nothing at
all, holds its connection (and a descriptor) for ever, and `limit_concurrency` only answers
503 to requests that arrive, so it does not help. What this protocol adds, per process:

- a deadline for a request head (AESVC_HEADER_TIMEOUT_S), from the connection's start or
  the end of its previous response: past it the connection is closed;
- a bound on the head's size (AESVC_MAX_HEADER_BYTES): past it, 431 and close;
- at most AESVC_MAX_CONNECTIONS connections: a connection past it closes the connection
  that has waited longest for a request head (a slow or idle one), so descriptors stay
  bounded and a client that sends its request at once is still served while an attacker
  holds the rest.

In production a reverse proxy stands in front as well (docs/deployment.md); this is what
the service does on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout_s: float
    max_header_bytes: int


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ConnectionLimits  # set on the subclass `protocol_for` makes
    # The connections waiting for a request head, the longest-waiting first (the subclass
    # `protocol_for` makes has its own): eviction and bookkeeping in O(1), as a flood of
    # connections makes one of each per connection.
    waiting: OrderedDict[GuardedHttpToolsProtocol, None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_since: float | None = None  # monotonic: waiting for a request head since
        self.head_bytes = 0
        self.head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        if len(self.connections) > self.limits.max_connections:
            self._evict_one()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self.head_since is not None
        super().data_received(data)  # a chunk may hold the head's end and a body after it
        if waiting and self.head_since is not None:
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_header_bytes:
                self._head_done()
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-length: 0\r\nconnection: close\r\n\r\n"
                )
                self.transport.close()

    def on_headers_complete(self) -> None:
        self._head_done()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()  # keep-alive: the next request head has the same deadline

    def _await_head(self) -> None:
        self._head_done()
        self.waiting[self] = None
        self.head_since = time.monotonic()
        self.head_bytes = 0
        self.head_deadline = self.loop.call_later(self.limits.header_timeout_s, self._too_slow)

    def _head_done(self) -> None:
        self.waiting.pop(self, None)
        self.head_since = None
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _too_slow(self) -> None:
        self.head_deadline = None
        if self.head_since is not None and not self.transport.is_closing():
            self._head_done()
            self.transport.close()

    def _evict_one(self) -> None:
        """Close the connection that has waited longest for a request head (this one
        only where every other is busy with a request)."""
        if self.waiting:
            oldest, _ = self.waiting.popitem(last=False)
            oldest._head_done()
            oldest.transport.close()


def protocol_for(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """uvicorn builds its protocol from a class (`uvicorn.run(http=...)`): one per setting."""
    attributes = {"limits": limits, "waiting": OrderedDict()}
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), attributes)
