"""uvicorn's HTTP protocol, with the bounds it lacks against slow clients (slowloris).

uvicorn times out a connection only while it is idle *between* requests, and any byte
resets that timer: a client that sends a request head one byte at a time, or nothing at
all, holds its connection (and a descriptor) for ever, and `limit_concurrency` only answers
503 to requests that arrive, so it does not help. What this protocol adds, per process:

- a deadline for a request head (AESVC_HEADER_TIMEOUT_S), from the connection's start or
  the end of its previous response: past it the connection is closed;
- a bound on the head's size (AESVC_MAX_HEADER_BYTES), counted as it arrives: past it, 431
  and close;
- a deadline for a request body (Apache's mod_reqtimeout rule): AESVC_BODY_TIMEOUT_S from
  the end of its head, one second more per AESVC_BODY_MIN_BYTES_PER_S bytes received, the
  time the app leaves it unread not counted: past it, 408 and close;
- a deadline for an answer's client to read (AESVC_SEND_TIMEOUT_S, nginx's send_timeout):
  a connection whose writes stay paused that long (the socket's buffer full, the client
  reading nothing) is aborted, its buffered answer dropped, so that the request's app task
  ends and lets go of what it holds;
- a bounded kernel send buffer per connection (AESVC_SEND_BUFFER_BYTES): autotuned, it
  took up to 4 MiB of answers from a client reading none, so the event loop kept answering
  its pipelined requests long before its writes paused;
- at most AESVC_MAX_CONNECTIONS connections: a connection past it closes the connection
  that has waited longest for a request head (a slow or idle one), else the slowest body
  under the minimum rate, else the answer stalled longest (a second at least), else the
  one with the most requests pipelined (PIPELINED at least, unanswered), so
  descriptors stay bounded and a client that sends its request at once is still served
  while an attacker holds the rest.

In production a reverse proxy stands in front as well (docs/deployment.md); this is what
the service does on its own.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_END = b"\r\n\r\n"
# Requests queued on one connection behind the one being answered that mark it as a client
# answered faster than it reads: 40 connections pipelining 400 cheap requests each were
# still being answered into their 2 MiB send buffers 5.7 s later (no write paused, nothing
# stalled), and every newcomer was closed meanwhile.
PIPELINED = 16
TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout_s: float
    max_header_bytes: int
    body_timeout_s: float = 30.0
    body_min_bytes_per_s: int = 4 << 10
    send_timeout_s: float = 60.0
    send_buffer_bytes: int = 0  # SO_SNDBUF of each connection; 0: the kernel's autotuning


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ConnectionLimits  # set on the subclass `protocol_for` makes
    # The connections waiting for a request head, the longest-waiting first (the subclass
    # `protocol_for` makes has its own): eviction and bookkeeping in O(1), as a flood of
    # connections makes one of each per connection.
    waiting: OrderedDict[GuardedHttpToolsProtocol, None]
    # The connections receiving a request body, and the one timer that sweeps them (the
    # subclass's own): no timer per request
    bodies: dict[GuardedHttpToolsProtocol, None]
    sweep: list[asyncio.TimerHandle]
    # The connections whose writes are paused (a client not reading), since when, the
    # longest first, and the one timer that sweeps them
    stalled: OrderedDict[GuardedHttpToolsProtocol, float]
    send_sweep: list[asyncio.TimerHandle]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_since: float | None = None  # monotonic: waiting for a request head since
        self.head_bytes = 0
        self.head_tail = b""  # the last bytes of the head so far (its end may straddle reads)
        self.head_deadline: asyncio.TimerHandle | None = None
        self.body_since = 0.0  # monotonic: receiving a body since (paused time excluded)
        self.body_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if self.limits.send_buffer_bytes and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.limits.send_buffer_bytes)
        super().connection_made(transport)
        self._await_head()
        if len(self.connections) > self.limits.max_connections:
            self._evict_one()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        self.bodies.pop(self, None)
        self.stalled.pop(self, None)
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        self.stalled.pop(self, None)
        self.stalled[self] = time.monotonic()  # paused last: last in the order
        if not self.send_sweep:
            every = min(1.0, self.limits.send_timeout_s / 2)
            self.send_sweep.append(self.loop.call_later(every, self._sweep_stalled, every))

    def resume_writing(self) -> None:
        self.stalled.pop(self, None)
        super().resume_writing()

    def _sweep_stalled(self, every: float) -> None:
        """Abort the connections whose writes have been paused past the send timeout."""
        self.send_sweep.clear()
        deadline = time.monotonic() - self.limits.send_timeout_s
        try:
            for connection, since in list(self.stalled.items()):
                if since > deadline:
                    break  # paused in order: the rest are later still
                connection._abort_stalled()
        finally:
            if self.stalled:
                self.send_sweep.append(self.loop.call_later(every, self._sweep_stalled, every))

    def _abort_stalled(self) -> None:
        """Abort, not close: close() would wait to send what the client does not read."""
        self.stalled.pop(self, None)
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.head_since is not None:  # counted before it is parsed, up to the head's end
            # blank lines before a request line are skipped by the parser, not its head's end
            start = len(data) - len(data.lstrip(b"\r\n")) if not self.head_bytes else 0
            found = data.find(HEAD_END, start)
            head = len(data) if found < 0 else found + len(HEAD_END)
            if self.head_tail:  # an end that straddles this read and the ones before
                across = (self.head_tail + data[:3]).find(HEAD_END)
                head = across + len(HEAD_END) - len(self.head_tail) if across >= 0 else head
            self.head_bytes += head
            if self.head_bytes > self.limits.max_header_bytes:
                self._head_done()
                self.transport.write(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"content-length: 0\r\nconnection: close\r\n\r\n"
                )
                self.transport.close()
                return
            self.head_tail = (self.head_tail + data)[-3:]
        super().data_received(data)  # a chunk may hold the head's end and a body after it

    def on_headers_complete(self) -> None:
        self._head_done()
        super().on_headers_complete()
        self.body_since, self.body_bytes = time.monotonic(), 0
        self.bodies[self] = None
        if not self.sweep:
            every = min(1.0, self.limits.body_timeout_s / 2)
            self.sweep.append(self.loop.call_later(every, self._sweep_bodies, every))

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        receiving = self in self.bodies
        self.bodies.pop(self, None)
        super().on_message_complete()
        cycle = self.cycle
        answered = cycle is not None and cycle.response_complete
        if receiving and answered and not self.pipeline and not self.transport.is_closing():
            self._await_head()  # answered before its body ended (a 401, a 413): now idle

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # a next request already parsed: no head to wait for
        super().on_response_complete()
        if not (pipelined or self in self.bodies or self.transport.is_closing()):
            self._await_head()  # keep-alive: the next request head has the same deadline

    def _await_head(self) -> None:
        self._head_done()
        self.waiting[self] = None
        self.head_since = time.monotonic()
        self.head_bytes, self.head_tail = 0, b""
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

    def _body_overdue_s(self, now: float) -> float:
        """How far past its deadline this connection's body is (negative: within it)."""
        allowed = self.limits.body_timeout_s + self.body_bytes / self.limits.body_min_bytes_per_s
        return now - self.body_since - allowed

    def _sweep_bodies(self, every: float) -> None:
        """Close the connections whose body is past its deadline (408 where no answer has
        started); a body the app leaves unread (reading paused) is not the client's time."""
        self.sweep.clear()
        now = time.monotonic()
        try:
            for connection in list(self.bodies):
                if connection._held_by_service():
                    connection.body_since += every
                elif connection._body_overdue_s(now) > 0:
                    connection._time_out_body()
        finally:
            if self.bodies:
                self.sweep.append(self.loop.call_later(every, self._sweep_bodies, every))

    def _held_by_service(self) -> bool:
        """The body waits on the service: reading paused, or 100 Continue not yet sent."""
        cycle = self.cycle
        return self.flow.read_paused or bool(cycle and cycle.waiting_for_100_continue)

    def _time_out_body(self) -> None:
        self.bodies.pop(self, None)
        if not self.transport.is_closing():
            cycle = self.cycle
            if cycle is None or not cycle.response_started:
                self.transport.write(TIMED_OUT)
            self.transport.close()

    def _evict_one(self) -> None:
        """Close the connection that has waited longest for a request head, other than this
        new one; else the slowest body under the minimum rate; else the answer stalled
        longest (a second at least); else the one with the most requests pipelined (PIPELINED
        at least); else this one (every other is busy with a request)."""
        now = time.monotonic()
        oldest = next(
            (c for c in self.waiting if c is not self and not c.transport.is_closing()), None
        )
        if oldest is not None:
            oldest._head_done()
            oldest.transport.close()
            return
        rate = self.limits.body_min_bytes_per_s
        slow = [  # under the minimum rate since its head, for a second at least
            c
            for c in self.bodies
            if now - c.body_since > 1
            and c.body_bytes < (now - c.body_since) * rate
            and not c._held_by_service()
            and not c.transport.is_closing()
        ]
        if slow:
            min(slow, key=lambda c: c.body_bytes / (now - c.body_since))._time_out_body()
            return
        stalled = next(iter(self.stalled.items()), None)  # paused longest, a second at least
        if stalled is not None and now - stalled[1] >= 1:
            stalled[0]._abort_stalled()
            return
        others = (
            c
            for c in self.connections
            if isinstance(c, GuardedHttpToolsProtocol)
            and c is not self
            and not c.transport.is_closing()
        )
        piped = max(others, key=lambda c: len(c.pipeline), default=None)
        if piped is not None and len(piped.pipeline) >= PIPELINED:
            piped._abort_stalled()  # its answers buffered and its queue dropped
            return
        self._head_done()
        self.transport.close()


def protocol_for(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """uvicorn builds its protocol from a class (`uvicorn.run(http=...)`): one per setting."""
    attributes = {
        "limits": limits,
        "waiting": OrderedDict(),
        "bodies": {},
        "sweep": [],
        "stalled": OrderedDict(),
        "send_sweep": [],
    }
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), attributes)
