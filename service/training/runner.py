"""Run one claimed job: load its data, train with heartbeats and checkpoints, register."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore, StorageFull, retry_store
from service.database import is_database_unavailable, retry_while_unavailable
from service.datasets.service import open_rows
from service.datasets.tables import Dataset
from service.registry.service import LeaseLost, register_version
from service.training import lifecycle
from service.training.data import is_streamed
from service.training.tables import Job
from service.zoo.spec import ModelSpec, SpecError

log = logging.getLogger(__name__)


class JobHeartbeat:
    """Renews the lease in the background and notices cancellation or a lost lease."""

    def __init__(
        self, factory: sessionmaker[Session], job_id: str, owner: str, interval_s: float
    ) -> None:
        self.factory, self.job_id, self.owner, self.interval_s = factory, job_id, owner, interval_s
        self.cancelled = threading.Event()
        self.lease_lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{job_id[:8]}", daemon=True
        )

    def __enter__(self) -> JobHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                status = lifecycle.heartbeat(self.factory, job_id=self.job_id, owner=self.owner)
            except Exception as exc:  # a database hiccup: the lease timeout absorbs misses
                down = is_database_unavailable(exc)  # expected in an outage: no stack trace
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=not down)
                continue
            if status is None:
                self.lease_lost.set()
            elif status == "cancelling":
                self.cancelled.set()


def is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, torch's OutOfMemoryError (CUDA), or its CPU allocator's refusal (a
    RuntimeError "DefaultCPUAllocator: can't allocate memory")."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text
    )


def run_job(
    *,
    factory: sessionmaker[Session],
    store: ArtifactStore,
    job: Job,
    owner: str,
    heartbeat_interval_s: float,
    stopping: threading.Event,
) -> str:
    """Returns the job's final status as this worker left it.

    While the database is unreachable the job goes on: progress reports are skipped, and
    every transition (finish, retry, register) waits for the database to come back.
    """
    from service.training.trainer import TrainingFailed, TrainingInterrupted, train

    ckpt = store.checkpoint(job.id)

    def reliably(what: str, action: Any) -> Any:
        return retry_while_unavailable(action, what=f"job {job.id}: {what}", stopping=stopping)

    def fail_or_retry(exc: BaseException) -> str:
        error = str(exc) if isinstance(exc, StorageFull) else f"{type(exc).__name__}: {exc}"
        retried = reliably(
            "retry or fail",
            lambda: lifecycle.retry_or_fail(factory, job_id=job.id, owner=owner, error=error),
        )
        if retried in ("failed", "cancelled"):
            ckpt.delete()  # no attempt will resume from it
        return retried or "lost"

    with JobHeartbeat(factory, job.id, owner, heartbeat_interval_s) as beat:

        def should_stop() -> bool:
            return stopping.is_set() or beat.cancelled.is_set() or beat.lease_lost.is_set()

        def on_epoch(report: Any) -> None:
            progress = {
                "epoch": report.epoch,
                "epochs": report.epochs,
                "train_loss": report.train_loss,
                "val_loss": report.val_loss,
                "samples_per_s": report.samples_per_s,
                "stage": report.stage,
                "attempt": job.attempt,
            }
            try:
                kept = lifecycle.record_progress(
                    factory, job_id=job.id, owner=owner, progress=progress, checkpoint_uri=ckpt.uri
                )
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                # The checkpoint is on disk; the next report (or the heartbeat) catches up.
                log.warning("job %s: progress not recorded, database unavailable", job.id)
                return
            if not kept:
                beat.lease_lost.set()

        try:
            spec = ModelSpec.model_validate(job.spec)
            X, image_shape = reliably("load data", lambda: _load_data(factory, store, job))
            result = train(
                spec=spec,
                X=X,
                image_shape=image_shape,
                checkpoint_path=ckpt,
                on_epoch=on_epoch,
                should_stop=should_stop,
            )
        except TrainingInterrupted:
            status = reliably("stop", lambda: _interrupted(factory, job, owner, beat, stopping))
            if status == "cancelled":
                ckpt.delete()
            return str(status)
        except (TrainingFailed, SpecError, _UnusableData) as exc:
            ckpt.delete()
            error = str(exc)
            reliably(
                "fail",
                lambda: lifecycle.finish_job(
                    factory, job_id=job.id, owner=owner, status="failed", error=error
                ),
            )
            return "failed"
        except StorageFull as exc:  # a full disk is told as such, without a stack trace
            log.error("job %s attempt %s: %s", job.id, job.attempt, exc)
            return fail_or_retry(exc)
        except Exception as exc:
            if is_out_of_memory(exc):  # the same spec would die the same way on every attempt
                ckpt.delete()
                log.error("job %s attempt %s ran out of memory: %s", job.id, job.attempt, exc)
                error = f"out of memory: {exc}"
                reliably(
                    "fail",
                    lambda: lifecycle.finish_job(
                        factory, job_id=job.id, owner=owner, status="failed", error=error
                    ),
                )
                return "failed"
            log.exception("job %s attempt %s crashed", job.id, job.attempt)
            return fail_or_retry(exc)
        if beat.cancelled.is_set():
            reliably(
                "cancel",
                lambda: lifecycle.finish_job(
                    factory, job_id=job.id, owner=owner, status="cancelled"
                ),
            )
            ckpt.delete()
            return "cancelled"
        # Inside the heartbeat: writing the blob and the version row may outlast the lease
        # (a slow disk, a locked database), and a reaper must not take a finished job back.
        try:
            register_version(
                factory,
                store,
                job_id=job.id,
                owner=owner,
                state_dict=result.model.state_dict(),
                config=result.config,
                metrics=result.metrics,
                history=result.history,
                stopping=stopping,
            )
        except LeaseLost:
            # Cancelled at the last moment, or the lease moved on: the row says which.
            reliably(
                "cancel",
                lambda: lifecycle.finish_job(
                    factory, job_id=job.id, owner=owner, status="cancelled"
                ),
            )
            return "lost"
        except StorageFull as exc:  # the weights did not fit: no blob, no version row
            log.error("job %s attempt %s: %s", job.id, job.attempt, exc)
            return fail_or_retry(exc)
    ckpt.delete()
    return "succeeded"


class _UnusableData(Exception):
    pass


def _load_data(
    factory: sessionmaker[Session], store: ArtifactStore, job: Job
) -> tuple[Any, tuple[int, int, int] | None]:
    """The rows in memory for a small dataset; else the dataset's chunks, which the
    trainer streams (service.training.data.is_streamed)."""
    with factory() as session:
        dataset = session.get(Dataset, job.dataset_id) if job.dataset_id else None
        if dataset is None:
            raise _UnusableData("the job's dataset was deleted")
        rows, shape = open_rows(session=session, store=store, dataset=dataset), dataset.image_shape
    if is_streamed(rows):
        return rows, (tuple(shape) if shape else None)
    X = retry_store(rows.read_all, what=f"job {job.id}: read its dataset")
    return X, (tuple(shape) if shape else None)


def _interrupted(
    factory: sessionmaker[Session],
    job: Job,
    owner: str,
    beat: JobHeartbeat,
    stopping: threading.Event,
) -> str:
    if beat.cancelled.is_set():
        lifecycle.finish_job(factory, job_id=job.id, owner=owner, status="cancelled")
        return "cancelled"
    if stopping.is_set():
        lifecycle.hand_back(factory, job_id=job.id, owner=owner)
        return "queued"
    return "lost"
