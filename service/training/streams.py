"""Job event streams (SSE), bounded: per key and per process, one poll per job, revocable.

Each open stream used to poll the database on its own, four times a second, for as long as
its job ran: 500 streams from one key pushed /healthz past a second. Now:
- at most AESVC_MAX_STREAMS_PER_KEY streams per API key (or per anonymous caller while
  auth is disabled) and AESVC_MAX_STREAMS per process; past either, 429 + Retry-After;
- the streams of one job share one `JobFeed`: one poll per job, whatever the number of
  readers; a reader first reads its own backlog (resuming after Last-Event-ID), once;
- a stream whose key is revoked ends within AESVC_STREAM_KEY_CHECK_S;
- a backlog is read, and a feed polled, PAGE_EVENTS events at a time, and a feed keeps only
  the events some reader of it has not sent yet: a job's history can hold hundreds of
  thousands of events (10,000 epochs a stage, ten stages, every attempt's), and eight
  streams of one that nobody read held 1.9 GB of them.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service.database import is_database_unavailable
from service.errors import ServiceError
from service.training.schemas import TERMINAL_STATES
from service.training.tables import Job, JobEvent

ANONYMOUS = ""  # the one bucket of every caller while auth is disabled
MAX_POLL_BACKOFF_S = 5.0  # between a feed's polls while they fail
PAGE_EVENTS = 100  # events read at once (a few KB each as rows: a page holds a few hundred KB)
log = logging.getLogger(__name__)


class TooManyStreams(ServiceError):
    status, title, slug = 429, "Too Many Requests", "too-many-streams"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = str(retry_after_s)


@dataclass
class JobFeed:
    """The events of one job, polled once for all of its readers."""

    job_id: str
    last_id: int
    events: list[JobEvent] = field(default_factory=list)  # those after start_id
    start_id: int = field(init=False)
    positions: dict[int, int] = field(default_factory=dict)  # reader -> last event it sent
    finished: bool = False
    readers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.start_id = self.last_id

    def trim(self) -> None:
        """Drop the events every reader has sent (a later reader reads them from the
        database, as it reads those before the feed began)."""
        if not self.positions or not self.events:
            return
        sent = min(self.positions.values())
        keep = bisect.bisect_right([e.id for e in self.events], sent)
        if keep:
            self.start_id = max(self.start_id, self.events[keep - 1].id)
            del self.events[:keep]


def _events_after(
    factory: sessionmaker[Session], job_id: str, after_id: int
) -> tuple[list[JobEvent], str | None]:
    with factory() as session:
        # Status first: an event written after this read is still found by the next poll.
        status = session.scalar(select(Job.status).where(Job.id == job_id))
        query = (
            select(JobEvent)
            .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
            .order_by(JobEvent.id)
            .limit(PAGE_EVENTS)
        )
        events = list(session.scalars(query))
        session.expunge_all()
        return events, status


class JobStreams:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        max_per_key: int,
        max_total: int,
        key_check_s: float,
        key_is_active: Callable[[str], bool],
        poll_s: float = 0.25,
    ) -> None:
        self.factory = factory
        self.max_per_key = max_per_key
        self.max_total = max_total
        self.key_check_s = key_check_s
        self.key_is_active = key_is_active
        self.poll_s = poll_s
        self.open_by_key: Counter[str] = Counter()
        self.feeds: dict[str, JobFeed] = {}
        self._readers = itertools.count()

    def open(self, key_id: str | None) -> Callable[[], None]:
        """Take a stream slot (or 429); returns its release, safe to call twice."""
        key = key_id or ANONYMOUS
        total = sum(self.open_by_key.values())
        if total >= self.max_total:
            raise TooManyStreams(
                f"{total} event streams are open on this server (AESVC_MAX_STREAMS); retry "
                "later, or poll GET /v1/jobs/{id}",
                retry_after_s=5,
            )
        if self.open_by_key[key] >= self.max_per_key:
            raise TooManyStreams(
                f"this key has {self.open_by_key[key]} event streams open "
                "(AESVC_MAX_STREAMS_PER_KEY); close one first",
                retry_after_s=5,
            )
        self.open_by_key[key] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.open_by_key[key] -= 1
                if self.open_by_key[key] <= 0:
                    del self.open_by_key[key]

        return release

    async def follow(
        self, job_id: str, *, after_id: int, key_id: str | None
    ) -> AsyncIterator[JobEvent]:
        """Every event after `after_id`, in order, until the job's terminal state event
        (or until the key is revoked)."""
        last = after_id
        while True:  # the backlog, a page at a time: the status read before the last page
            page, status = await run_in_threadpool(_events_after, self.factory, job_id, last)
            for event in page:
                last = event.id
                yield event
            if len(page) < PAGE_EVENTS:
                break
        if status in TERMINAL_STATES or status is None:
            return
        feed = self._join(job_id, last)
        reader = next(self._readers)
        feed.positions[reader] = last
        checked_at = time.monotonic()
        try:
            # a feed another reader began after this one's backlog, or that has since
            # dropped what its readers sent: the rest from the database
            while last < feed.start_id:
                gap, _ = await run_in_threadpool(_events_after, self.factory, job_id, last)
                for event in gap:
                    if event.id > feed.start_id:
                        break
                    last = feed.positions[reader] = event.id
                    yield event
                else:
                    if len(gap) < PAGE_EVENTS:
                        break  # none left before the feed's (ids a rollback skipped)
                    continue
                break
            while True:
                changed = feed.changed  # taken before reading: a later poll sets this one
                for event in [e for e in feed.events if e.id > last]:
                    last = feed.positions[reader] = event.id
                    yield event
                if feed.finished:
                    return
                if key_id is not None and time.monotonic() - checked_at >= self.key_check_s:
                    checked_at = time.monotonic()
                    if not await run_in_threadpool(self.key_is_active, key_id):
                        return  # revoked: the stream ends, the client's retry gets a 401
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=self.key_check_s)
        finally:
            feed.positions.pop(reader, None)
            self._leave(feed)

    def _join(self, job_id: str, last_id: int) -> JobFeed:
        feed = self.feeds.get(job_id)
        if feed is None or feed.finished:
            feed = JobFeed(job_id=job_id, last_id=last_id)
            self.feeds[job_id] = feed
            feed.task = asyncio.create_task(self._poll(feed), name=f"job-feed-{job_id}")
        feed.readers += 1
        return feed

    def _leave(self, feed: JobFeed) -> None:
        feed.readers -= 1
        if feed.readers <= 0 and feed.task is not None:
            feed.task.cancel()
            if self.feeds.get(feed.job_id) is feed:
                del self.feeds[feed.job_id]

    async def _poll(self, feed: JobFeed) -> None:
        failures = 0
        while not feed.finished:
            try:
                batch, status = await run_in_threadpool(
                    _events_after, self.factory, feed.job_id, feed.last_id
                )
            except Exception as exc:  # an outage, a locked database: the readers wait on
                failures += 1
                down = is_database_unavailable(exc)
                log.warning("job %s: its event feed could not poll", feed.job_id, exc_info=not down)
                await asyncio.sleep(min(self.poll_s * 2**failures, MAX_POLL_BACKOFF_S))
                continue
            failures = 0
            if batch:
                feed.trim()
                feed.events.extend(batch)
                feed.last_id = batch[-1].id
            feed.finished = (status in TERMINAL_STATES or status is None) and not batch
            if batch or feed.finished:
                feed.changed.set()
                feed.changed = asyncio.Event()
            if not batch and not feed.finished:
                await asyncio.sleep(self.poll_s)

    def stats(self) -> dict[str, Any]:
        return {"streams": sum(self.open_by_key.values()), "feeds": len(self.feeds)}
