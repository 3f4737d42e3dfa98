"""A job's shared event feed against readers that join late and polls that fail: a reader
joining a feed another reader began after its own backlog still gets every event, in
order, once; and a poll that fails (an outage, a locked database) does not leave the
feed's readers waiting past the job's end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from service.context import AppContext
from service.training import streams as streams_module
from service.training.service import add_event
from service.training.streams import JobStreams
from service.training.tables import Job, JobEvent
from tests.factories import job_body


def _event(
    ctx: AppContext, job_id: str, kind: str, data: dict[str, Any], status: str | None = None
) -> None:
    with ctx.session_factory() as session:
        if status is not None:
            session.execute(update(Job).where(Job.id == job_id).values(status=status))
        add_event(session, job_id, kind, data)
        session.commit()


def test_a_reader_joining_a_feed_begun_after_its_backlog_gets_every_event(
    client: TestClient, ctx: AppContext
) -> None:
    job_id = client.post("/v1/jobs", json=job_body()).json()["id"]
    _event(ctx, job_id, "state", {"status": "running"}, status="running")
    streams = _streams(ctx)

    async def scenario() -> list[str]:
        reader_b = streams.follow(job_id, after_id=0, key_id=None)
        got_b = [await reader_b.__anext__(), await reader_b.__anext__()]  # B's backlog read
        # an epoch ends while B is still sending its backlog to its client
        _event(ctx, job_id, "progress", {"epoch": 1})
        reader_a = streams.follow(job_id, after_id=0, key_id=None)
        got_a = [await reader_a.__anext__() for _ in range(3)]  # A's backlog: all three
        a_next = asyncio.ensure_future(reader_a.__anext__())  # A joins: creates the feed
        await asyncio.sleep(0.2)
        b_rest = asyncio.ensure_future(_drain(reader_b))  # B joins the feed A made
        await asyncio.sleep(0.2)
        _event(ctx, job_id, "state", {"status": "succeeded"}, status="succeeded")
        rest_b = await asyncio.wait_for(b_rest, 10)
        await asyncio.wait_for(a_next, 10)
        await _drain(reader_a)
        assert [e.kind for e in got_a] == ["state", "state", "progress"]
        return [e.kind for e in got_b + rest_b]

    kinds = asyncio.run(scenario())
    assert kinds == ["state", "state", "progress", "state"], kinds


def _streams(ctx: AppContext) -> JobStreams:
    """A job's feeds polling every 20 ms, every key active."""
    return JobStreams(
        ctx.session_factory,
        max_per_key=10,
        max_total=10,
        key_check_s=0.2,
        key_is_active=lambda _k: True,
        poll_s=0.02,
    )


async def _drain(gen: AsyncIterator[JobEvent]) -> list[JobEvent]:
    return [e async for e in gen]


def test_a_failed_poll_does_not_leave_the_stream_open_forever(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One database error in the shared feed's poll (an outage, a lock timeout) kills the
    poll task for good: its readers then wait forever, past the job's end."""
    job_id = client.post("/v1/jobs", json=job_body(model_name="sse-hiccup")).json()["id"]
    _event(ctx, job_id, "state", {"status": "running"}, status="running")
    streams = _streams(ctx)
    real = streams_module._events_after
    calls = {"n": 0}

    def flaky(factory: Any, jid: str, after_id: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the first poll of the shared feed (call 1 is the backlog)
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return real(factory, jid, after_id)

    monkeypatch.setattr(streams_module, "_events_after", flaky)

    async def scenario() -> list[str]:
        reader = streams.follow(job_id, after_id=0, key_id=None)
        task = asyncio.ensure_future(_drain(reader))
        await asyncio.sleep(0.3)  # the hiccup has happened; the database is back
        _event(ctx, job_id, "state", {"status": "succeeded"}, status="succeeded")
        try:
            return [e.kind for e in await asyncio.wait_for(task, 5)]
        except TimeoutError:
            return ["<still open 5 s after the job ended>"]

    kinds = asyncio.run(scenario())
    assert kinds == ["state", "state", "state"], kinds


def test_a_feed_keeps_only_what_its_readers_have_not_sent(
    client: TestClient, ctx: AppContext
) -> None:
    """A running job's feed kept every event since it began, for as long as the job ran;
    now it drops those every reader has sent, and a reader joining later reads them from
    the database, in order, once."""
    job_id = client.post("/v1/jobs", json=job_body(model_name="sse-trim")).json()["id"]
    _event(ctx, job_id, "state", {"status": "running"}, status="running")
    streams = _streams(ctx)

    async def scenario() -> tuple[int, list[int]]:
        reader_a = streams.follow(job_id, after_id=0, key_id=None)
        got = [await reader_a.__anext__(), await reader_a.__anext__()]  # its backlog
        a_next = asyncio.ensure_future(reader_a.__anext__())  # A makes the feed
        for epoch in range(1, 41):
            _event(ctx, job_id, "progress", {"epoch": epoch})
            await asyncio.sleep(0.03)
        await asyncio.sleep(0.2)
        got.append(await a_next)
        got.extend([await reader_a.__anext__() for _ in range(39)])  # A sent them all
        _event(ctx, job_id, "progress", {"epoch": 41})
        await asyncio.sleep(0.2)  # the next poll drops what A sent
        held = len(streams.feeds[job_id].events)
        reader_b = streams.follow(job_id, after_id=0, key_id=None)
        b_task = asyncio.ensure_future(_drain(reader_b))
        await asyncio.sleep(0.3)
        _event(ctx, job_id, "state", {"status": "succeeded"}, status="succeeded")
        got_b = await asyncio.wait_for(b_task, 10)
        await asyncio.wait_for(_drain(reader_a), 10)
        assert [e.id for e in got] == sorted({e.id for e in got})
        return held, [e.id for e in got_b]

    held, ids_b = asyncio.run(scenario())
    assert held <= 2, f"the feed held {held} events its one reader had sent"
    assert len(ids_b) == 44 and ids_b == sorted(set(ids_b)), ids_b
