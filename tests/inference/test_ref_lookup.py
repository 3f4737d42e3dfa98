"""served_version: concurrent misses on one {ref} share one lookup; a caller that leaves
does not cancel it for the others; its error reaches every waiter and is not kept.

The lookup is held on a gate (a threading.Event) until every caller is waiting on it, so
what shares a lookup is decided by the order of events, never by timing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.context import AppContext
from service.errors import NotFound
from service.inference.api import service
from service.inference.runtime.cache import LoadedModel, ModelCache
from service.main import create_app
from tests.inference.conftest import settings_for

CALLERS = 20
NAME, REF = "digits-ae", "1"


class Spy:
    """Wraps the real `_resolve_and_load`: counts the lookups and holds each on `gate`."""

    def __init__(self) -> None:
        self.real = service._resolve_and_load
        self.calls = 0
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __call__(self, ctx: AppContext, name: str, ref: str) -> LoadedModel:
        self.calls += 1
        self.entered.set()
        self.gate.wait(30)
        return self.real(ctx, name, ref)

    async def until_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)


@pytest.fixture
def ctx(data_dir: Path) -> Iterator[AppContext]:
    """A started app's context on a copy of the trained data dir (SQLite); a resolved
    {ref} is reused for a minute, so only `expire` makes the next call a miss."""
    app = create_app(settings_for(data_dir, ref_cache_s=60.0), start_workers=False)
    with TestClient(app):
        yield app.state.ctx


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    monkeypatch.setattr(service, "_resolve_and_load", spy)
    return spy


def expire(ctx: AppContext) -> ModelCache:
    """The cached {ref}s of NAME are dropped, as when they outlive AESVC_REF_CACHE_S."""
    _, cache = ctx.inference()
    cache.forget_refs(NAME)
    return cache


def callers(ctx: AppContext, name: str = NAME) -> list[asyncio.Task[Any]]:
    return [
        asyncio.ensure_future(service.served_version(ctx, name=name, ref=REF))
        for _ in range(CALLERS)
    ]


def test_concurrent_misses_share_one_lookup(ctx: AppContext, spy: Spy) -> None:
    async def scenario() -> None:
        spy.gate.set()
        first = await service.served_version(ctx, name=NAME, ref=REF)  # loads the version
        assert await service.served_version(ctx, name=NAME, ref=REF) is first  # a cache hit
        assert spy.calls == 1
        expire(ctx)
        spy.gate.clear()
        spy.entered.clear()
        waiting = callers(ctx)
        await spy.until_entered()
        spy.gate.set()
        results = await asyncio.gather(*waiting)
        assert spy.calls == 2  # one lookup for all CALLERS after the expiry
        assert all(result is first for result in results)

    asyncio.run(scenario())


def test_a_cancelled_caller_does_not_cancel_the_lookup_for_the_others(
    ctx: AppContext, spy: Spy
) -> None:
    async def scenario() -> None:
        cache = expire(ctx)
        waiting = callers(ctx)
        await spy.until_entered()
        leaving = (waiting[0], waiting[7])  # the caller that started the lookup, and another
        for task in leaving:
            task.cancel()
        await asyncio.sleep(0)  # the cancellations are delivered while the lookup runs
        spy.gate.set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        stayed = [r for task, r in zip(waiting, results, strict=True) if task not in leaving]
        assert all(task.cancelled() for task in leaving)
        assert all(isinstance(r, LoadedModel) and r.version == 1 for r in stayed), stayed
        assert len({id(r) for r in stayed}) == 1
        assert spy.calls == 1
        assert cache.lookup_ref(NAME, REF, 60.0) is stayed[0]  # the lookup finished and stored

    asyncio.run(scenario())


def test_a_failed_lookup_reaches_every_waiter_and_the_next_call_looks_again(
    ctx: AppContext, spy: Spy
) -> None:
    async def scenario() -> None:
        waiting = callers(ctx, name="no-such-model")
        await spy.until_entered()
        spy.gate.set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(r, NotFound) and r.status == 404 for r in results), results
        assert spy.calls == 1
        with pytest.raises(NotFound, match="no-such-model"):
            await service.served_version(ctx, name="no-such-model", ref=REF)
        assert spy.calls == 2  # a fresh lookup: the failed one is not kept

    asyncio.run(scenario())
