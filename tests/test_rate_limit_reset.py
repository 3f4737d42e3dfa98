"""RateLimit-Reset on a 200 counts the token the request itself took: a bucket one token
short is not "full again now", and the last answer before a 429 states the whole wait."""

from __future__ import annotations

import math

from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app


def test_ratelimit_reset_counts_the_token_this_request_took(settings: Settings) -> None:
    per_s, burst = 0.01, 3  # one token per 100 s: nothing refills during the test
    limited = settings.model_copy(update={"rate_limit_per_s": per_s, "rate_limit_burst": burst})
    with TestClient(create_app(limited, start_workers=False)) as client:
        for taken in range(1, burst + 1):
            response = client.get("/v1/jobs")
            assert response.status_code == 200
            remaining = int(response.headers["RateLimit-Remaining"])
            reset = int(response.headers["RateLimit-Reset"])
            assert remaining == burst - taken
            # seconds until the bucket is full again: `taken` tokens at per_s each
            expected = math.ceil(taken / per_s)
            assert abs(reset - expected) <= 1, (taken, remaining, reset, expected)
