"""The CLI's HTTP transport: every answer it reads is bounded in bytes and, where the request
has a read timeout, in time. Whatever answers at the URL (a wrong port, a proxy, a hostile
server) cannot fill the memory with an endless body or hold `aesvc` with one trickled a byte
at a time (httpx's timeouts are per read: each byte restarts them)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

# The service's largest answers (a dataset of 262,144 features: 23 MB) fit many times over.
MAX_ANSWER_BYTES = 256 << 20
# A body must arrive whole this soon after its head (an event stream, sent without a read
# timeout, has no such bound: it lasts as long as its job).
ANSWER_DEADLINE_S = 300.0


class AnswerRefused(Exception):
    """An answer past the bounds; shown as one line, the command exits 1."""


class _BoundedStream(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, what: str, deadline: float | None) -> None:
        self._stream, self._what, self._deadline = stream, what, deadline

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._stream:
            received += len(chunk)
            if received > MAX_ANSWER_BYTES:
                raise AnswerRefused(f"{self._what}: the answer runs past {MAX_ANSWER_BYTES} bytes")
            if self._deadline is not None and time.monotonic() > self._deadline:
                raise AnswerRefused(
                    f"{self._what}: the answer was not whole after {ANSWER_DEADLINE_S:.0f} s"
                )
            yield chunk

    def close(self) -> None:
        self._stream.close()


class BoundedTransport(httpx.HTTPTransport):
    """Answers read through it are bounded; one sent compressed (the client asks for
    `identity`, as the service never compresses) is refused: its size says nothing."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        what = f"{request.method} {request.url.path}"
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding != "identity":
            response.close()
            raise AnswerRefused(f"{what}: the answer is {encoding[:40]!r}-encoded; expected none")
        read_s = request.extensions.get("timeout", {}).get("read")
        deadline = None if read_s is None else time.monotonic() + ANSWER_DEADLINE_S
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _BoundedStream(response.stream, what, deadline)
        return response
