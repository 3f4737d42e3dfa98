"""Jobs as a worker sees them: claim, heartbeat, report, finish, and recover stale leases.

Every transition is a conditional UPDATE on (id, status, lease_owner), so a worker that
lost its lease can never overwrite what another worker or the reaper decided.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore
from service.database import utcnow
from service.training.schemas import LEASED_STATES, JobStatus
from service.training.service import add_event
from service.training.tables import Job


def immediate_session(factory: sessionmaker[Session]) -> Session:
    """A session whose transaction takes SQLite's write lock at BEGIN (no upgrade races)."""
    session = factory()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    return session


def claim_next_job(
    factory: sessionmaker[Session], *, owner: str, host: str, pid: int
) -> Job | None:
    """Atomically move the best queued job to running under this owner's lease."""
    with immediate_session(factory) as session:
        candidate = (
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED)
            .order_by(Job.priority.desc(), Job.created_at, Job.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        job_id = session.scalar(candidate)
        if job_id is None:
            session.rollback()
            return None
        now = utcnow()
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                attempt=Job.attempt + 1,
                lease_owner=owner,
                worker_host=host,
                worker_pid=pid,
                heartbeat_at=now,
                started_at=now,
                error=None,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return None
        job = session.get(Job, job_id, populate_existing=True)
        assert job is not None
        add_event(
            session,
            job_id,
            "state",
            {"status": JobStatus.RUNNING, "attempt": job.attempt, "worker": host, "pid": pid},
        )
        session.commit()
        return job


def heartbeat(factory: sessionmaker[Session], *, job_id: str, owner: str) -> JobStatus | None:
    """Renew the lease; returns the job's status, or None when the lease is no longer ours."""
    with factory() as session:
        result = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.lease_owner == owner,
                Job.status.in_(LEASED_STATES),
            )
            .values(heartbeat_at=utcnow())
        )
        renewed = bool(result.rowcount)  # type: ignore[attr-defined]
        status = session.scalar(select(Job.status).where(Job.id == job_id)) if renewed else None
        session.commit()
        return JobStatus(status) if status is not None else None


def record_progress(
    factory: sessionmaker[Session],
    *,
    job_id: str,
    owner: str,
    progress: dict[str, Any],
    checkpoint_uri: str | None,
    kind: str = "progress",
) -> bool:
    """The job's progress, and an event of this kind ("progress": an epoch's report;
    "epoch_progress": how far into an epoch); False where the lease is no longer ours."""
    with factory() as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner)
            .values(progress=progress, heartbeat_at=utcnow(), checkpoint_uri=checkpoint_uri)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return False
        add_event(session, job_id, kind, progress)
        session.commit()
        return True


def _release(
    session: Session, job_id: str, owner: str, *, running_only: bool = False, **values: Any
) -> bool:
    """Give up the lease, if it is still ours, with these new values; False if it is not."""
    states = (JobStatus.RUNNING,) if running_only else LEASED_STATES
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner, Job.status.in_(states))
        .values(lease_owner=None, worker_host=None, worker_pid=None, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_job(
    factory: sessionmaker[Session],
    *,
    job_id: str,
    owner: str,
    status: JobStatus,
    error: str | None = None,
) -> bool:
    """Terminal states other than succeeded (mark_succeeded: with its model version)."""
    with immediate_session(factory) as session:
        job = session.get(Job, job_id, with_for_update=True)  # PostgreSQL: locked to commit
        errors = list(job.attempt_errors or []) if job else []
        if error is not None and job is not None:
            errors.append({"attempt": job.attempt, "error": error})
        if not _release(
            session,
            job_id,
            owner,
            status=status,
            error=error,
            finished_at=utcnow(),
            attempt_errors=errors,
        ):
            session.rollback()
            return False
        add_event(
            session, job_id, "state", {"status": status, **({"error": error} if error else {})}
        )
        session.commit()
        return True


class LeaseLost(Exception):
    """The job is no longer this worker's: its result must not be registered."""


def mark_succeeded(session: Session, *, job_id: str, owner: str, model_version: int) -> None:
    """The job's success, in the transaction that adds its model version (not committed
    here: service.registry.service.register_version commits both or neither). Raises
    LeaseLost, and so writes neither, unless the job is still running under this lease."""
    if not _release(
        session,
        job_id,
        owner,
        status=JobStatus.SUCCEEDED,
        model_version=model_version,
        finished_at=utcnow(),
        running_only=True,
    ):
        raise LeaseLost(f"job {job_id} is no longer leased to {owner}")
    add_event(
        session, job_id, "state", {"status": JobStatus.SUCCEEDED, "model_version": model_version}
    )


def retry_or_fail(
    factory: sessionmaker[Session],
    *,
    job_id: str,
    owner: str,
    error: str,
    stale_before: datetime | None = None,
    store: ArtifactStore | None = None,
) -> JobStatus | None:
    """A failure that may be transient: back to the queue while attempts remain.

    `stale_before` (the reaper): only if the job's last heartbeat is still older than that,
    read in the same transaction; a heartbeat that landed since the reaper looked wins."""
    with immediate_session(factory) as session:
        job = session.get(Job, job_id, with_for_update=True)  # PostgreSQL: locked to commit
        if job is None:
            return None
        if stale_before is not None and (
            job.heartbeat_at is None or job.heartbeat_at >= stale_before
        ):
            return None
        errors = [*list(job.attempt_errors or []), {"attempt": job.attempt, "error": error}]
        values: dict[str, Any]
        new_status: JobStatus
        if job.status == JobStatus.CANCELLING:
            new_status, values = JobStatus.CANCELLED, {"finished_at": utcnow()}
        elif job.attempt >= job.max_attempts:
            new_status = JobStatus.FAILED
            values = {"finished_at": utcnow(), "error": _all_attempts(errors)}
        else:
            new_status, values = JobStatus.QUEUED, {}
        if not _release(session, job_id, owner, status=new_status, attempt_errors=errors, **values):
            session.rollback()
            return None
        add_event(session, job_id, "state", {"status": new_status, "error": error})
        checkpoint, kind = job.checkpoint_uri, job.kind
        session.commit()
    if new_status != JobStatus.QUEUED and checkpoint:
        # Nothing will resume from it, and the worker that would have removed it is gone.
        discard_checkpoint(job_id, checkpoint, store)
    if new_status != JobStatus.QUEUED and kind == "batch":
        discard_batch_output(factory, job_id, store)
    return new_status


def discard_batch_output(
    factory: sessionmaker[Session], job_id: str, store: ArtifactStore | None
) -> None:
    """A batch job that ended without its worker: the chunks it wrote go (best effort)."""
    if store is None:
        return
    from service.batch.output import drop_written

    with contextlib.suppress(Exception), factory() as session:
        drop_written(session, store, job_id)


def discard_checkpoint(job_id: str, uri: str, store: ArtifactStore | None) -> None:
    """Best effort: a checkpoint left behind is garbage, never a wrong answer."""
    if store is not None:
        store.checkpoint(job_id).delete()
    elif "://" not in uri:
        with contextlib.suppress(OSError):
            Path(uri).unlink(missing_ok=True)


def hand_back(factory: sessionmaker[Session], *, job_id: str, owner: str) -> JobStatus | None:
    """The worker is stopping (SIGTERM): requeue at once; the attempt does not count. A job
    being cancelled is cancelled instead. The status written; None where the job is no
    longer this worker's."""
    with immediate_session(factory) as session:
        job = session.get(Job, job_id, with_for_update=True)  # PostgreSQL: locked to commit
        if job is None:
            return None
        event: dict[str, str]
        if job.status == JobStatus.CANCELLING:
            status = JobStatus.CANCELLED
            ok = _release(session, job_id, owner, status=status, finished_at=utcnow())
            event = {"status": status}
        else:
            status = JobStatus.QUEUED
            ok = _release(session, job_id, owner, status=status, attempt=Job.attempt - 1)
            event = {"status": status, "reason": "worker stopping; handed back"}
        if not ok:
            session.rollback()
            return None
        add_event(session, job_id, "state", event)
        session.commit()
        return status


def _all_attempts(errors: list[dict[str, Any]]) -> str:
    lines = [f"attempt {e['attempt']}: {e['error']}" for e in errors]
    return f"failed after {len(errors)} attempt(s): " + "; ".join(lines)


def requeue_stale_jobs(
    engine: Engine,
    factory: sessionmaker[Session],
    *,
    lease_timeout_s: float,
    store: ArtifactStore | None = None,
) -> int:
    """Jobs whose worker stopped heartbeating go back to the queue (or fail, or cancel)."""
    cutoff = utcnow() - timedelta(seconds=lease_timeout_s)
    with factory() as session:
        stale = session.scalars(
            select(Job).where(Job.status.in_(LEASED_STATES), Job.heartbeat_at < cutoff)
        ).all()
        owners = [(job.id, job.lease_owner, job.worker_host, job.worker_pid) for job in stale]
    moved = 0
    for job_id, owner, host, pid in owners:
        if owner is None:
            continue
        reason = f"worker {host}:{pid} stopped heartbeating for over {lease_timeout_s:g} s"
        moved_on = retry_or_fail(
            factory, job_id=job_id, owner=owner, error=reason, stale_before=cutoff, store=store
        )
        if moved_on is not None:
            moved += 1
    return moved


def fail_jobs_of_oom_killed_worker(
    factory: sessionmaker[Session],
    *,
    host: str,
    pid: int,
    error: str,
    store: ArtifactStore | None = None,
) -> list[str]:
    """The kernel killed this worker for memory: its jobs fail now, on this attempt.

    The same spec would be killed the same way on every retry, so they are not requeued
    (a cancelling job ends cancelled). Returns the ids of the jobs that ended."""
    with factory() as session:
        held = session.execute(
            select(Job.id, Job.lease_owner, Job.status, Job.checkpoint_uri, Job.kind).where(
                Job.status.in_(LEASED_STATES),
                Job.worker_host == host,
                Job.worker_pid == pid,
            )
        ).all()
    ended = []
    for job_id, owner, status, checkpoint, kind in held:
        if owner is None:
            continue
        final = JobStatus.CANCELLED if status == JobStatus.CANCELLING else JobStatus.FAILED
        if finish_job(factory, job_id=job_id, owner=owner, status=final, error=error):
            ended.append(job_id)
            if checkpoint:
                discard_checkpoint(job_id, checkpoint, store)
            if kind == "batch":
                discard_batch_output(factory, job_id, store)
    return ended


def adopt_job(
    factory: sessionmaker[Session], *, job_id: str, owner: str, host: str, pid: int
) -> bool:
    """A remote runner (a Ray actor) takes over the lease a dispatcher claimed for it."""
    with factory() as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status == JobStatus.RUNNING)
            .values(worker_host=host, worker_pid=pid, heartbeat_at=utcnow())
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            session.rollback()
            return False
        event = {"status": JobStatus.RUNNING, "executor": "ray", "pid": pid}
        add_event(session, job_id, "state", event)
        session.commit()
        return True
