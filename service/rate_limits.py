"""Per-key request rate limits: a token bucket per caller, 429 with RateLimit-* past it.

The caller is the API key (the client's address while auth is disabled). Each bucket holds
`AESVC_RATE_LIMIT_BURST` requests and refills at `AESVC_RATE_LIMIT_PER_S`; an empty bucket
answers 429 with `Retry-After` and `RateLimit-Limit` / `-Remaining` / `-Reset` (the IETF
httpapi draft's fields), which every answer under a limit carries too. Off by default on a
loopback bind with auth disabled (one user, one machine); on with auth required. The buckets
live in the API process: N replicas allow N times the rate, which a proxy in front can cap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from starlette.requests import Request

from service.errors import ServiceError

MAX_BUCKETS = 100_000  # callers by address (auth disabled) are many: forget the oldest
# The most of a caller a bucket is keyed by (an IPv6 address with its zone fits): behind
# AESVC_TRUSTED_PROXIES=*, the address is X-Forwarded-For's, up to the 64 KiB of a head.
MAX_CALLER_CHARS = 64


class RateLimited(ServiceError):
    status, title, slug = 429, "Too Many Requests", "rate-limited"


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Runs on the event loop only (the `authorize` dependency): no lock needed."""

    def __init__(self, per_s: float, burst: int) -> None:
        self.per_s, self.burst = per_s, burst
        self._buckets: dict[str, _Bucket] = {}

    def take(self, request: Request, caller: str) -> None:
        caller = caller[:MAX_CALLER_CHARS]
        now = time.monotonic()
        bucket = self._buckets.get(caller)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets.pop(next(iter(self._buckets)))
            bucket = self._buckets[caller] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_s)
        bucket.at = now
        full_in = math.ceil((self.burst - bucket.tokens) / self.per_s)
        if bucket.tokens < 1.0:
            wait = max(1, math.ceil((1.0 - bucket.tokens) / self.per_s))
            refused = RateLimited(
                f"over the rate limit of {self.per_s:g} requests/s (burst {self.burst}) for "
                f"this caller; retry in {wait} s",
            )
            refused.headers.update(self._headers(0, max(full_in, wait)))
            refused.headers["Retry-After"] = str(wait)
            raise refused
        bucket.tokens -= 1.0
        full_in = math.ceil((self.burst - bucket.tokens) / self.per_s)  # this request's too
        request.state.rate_limit = self._headers(int(bucket.tokens), full_in)

    def _headers(self, remaining: int, reset_s: int) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.burst),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset_s),
        }
