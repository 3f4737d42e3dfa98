"""Run one claimed job: load its data, train with heartbeats and checkpoints, register."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import (
    ArtifactCorrupted,
    ArtifactMissing,
    ArtifactStore,
    StorageFull,
    retry_store,
)
from service.database import is_database_unavailable, retry_while_unavailable
from service.datasets.service import open_rows
from service.datasets.tables import Dataset
from service.registry.service import register_version
from service.training import lifecycle
from service.training.data import is_streamed
from service.training.schemas import JobStatus
from service.training.tables import Job
from service.training.trainer import (
    BatchReport,
    EpochReport,
    TrainingFailed,
    TrainingInterrupted,
    TrainResult,
    train,
)
from service.zoo.spec import ModelSpec, SpecError

log = logging.getLogger(__name__)
T = TypeVar("T")


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
            elif status == JobStatus.CANCELLING:
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
    batch_record_every_s: float,
    stopping: threading.Event,
    checkpoint_every_s: float | None = None,
    inference_backend: Literal["auto", "onnxruntime", "torch"] = "auto",
) -> JobStatus | None:
    """Run one claimed job (JobRun); its status as this worker left it, None where the
    job is no longer this worker's (the row says what became of it). A batch job (kind
    "batch") runs as service.batch.runner.BatchRun, the same life with other work."""
    common: dict[str, Any] = {
        "factory": factory,
        "store": store,
        "job": job,
        "owner": owner,
        "heartbeat_interval_s": heartbeat_interval_s,
        "stopping": stopping,
    }
    if job.kind == "batch":
        from service.batch.runner import BatchRun

        return BatchRun(
            record_every_s=batch_record_every_s, backend=inference_backend, **common
        ).run()
    return JobRun(checkpoint_every_s=checkpoint_every_s, **common).run()


class JobRun:
    """One attempt at one job, from its claim to a status the job row keeps.

    While the database is unreachable the job goes on: progress reports are skipped, and
    every transition (finish, retry, register) waits for the database to come back.
    """

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        store: ArtifactStore,
        job: Job,
        owner: str,
        heartbeat_interval_s: float,
        stopping: threading.Event,
        checkpoint_every_s: float | None = None,
    ) -> None:
        self.factory, self.store, self.job, self.owner = factory, store, job, owner
        self.checkpoint_every_s = checkpoint_every_s  # None: the trainer's default
        self.stopping = stopping
        self.ckpt = store.checkpoint(job.id)
        self.beat = JobHeartbeat(factory, job.id, owner, heartbeat_interval_s)
        # the last epoch's report, which a report within the next epoch repeats
        self.reported: dict[str, Any] = {
            k: v for k, v in (job.progress or {}).items() if k not in WITHIN_EPOCH
        }

    def run(self) -> JobStatus | None:
        job = self.job
        with self.beat:
            try:
                result = self.train()
            except TrainingInterrupted:
                return self.interrupted()
            except (TrainingFailed, SpecError, _UnusableData) as exc:
                return self.fail(str(exc))
            except (ArtifactCorrupted, ArtifactMissing) as exc:  # the same on every attempt
                log.error("job %s attempt %s: %s", job.id, job.attempt, exc)
                return self.fail(f"the dataset cannot be read: {exc}")
            except StorageFull as exc:  # a full disk is told as such, without a stack trace
                log.error("job %s attempt %s: %s", job.id, job.attempt, exc)
                return self.retry_or_fail(str(exc))
            except Exception as exc:
                if is_out_of_memory(exc):  # the same spec would die the same way every time
                    log.error("job %s attempt %s ran out of memory: %s", job.id, job.attempt, exc)
                    return self.fail(f"out of memory: {exc}")
                log.exception("job %s attempt %s crashed", job.id, job.attempt)
                return self.retry_or_fail(f"{type(exc).__name__}: {exc}")
            if self.beat.cancelled.is_set():
                return self.finish(JobStatus.CANCELLED)
            # Inside the heartbeat: writing the blob and the version row may outlast the
            # lease (a slow disk, a locked database), and a reaper must not take a finished
            # job back.
            return self.register(result)

    def train(self) -> TrainResult:
        spec = ModelSpec.stored(self.job.spec)
        X, image_shape = self.reliably("load data", self.load_data)
        return train(
            spec=spec,
            X=X,
            image_shape=image_shape,
            checkpoint_path=self.ckpt,
            on_epoch=self.on_epoch,
            on_batch=self.on_batch,
            should_stop=self.should_stop,
            checkpoint_every_s=self.checkpoint_every_s,
        )

    def register(self, result: TrainResult) -> JobStatus | None:
        """The version row and the job's success commit together, or neither does."""
        try:
            register_version(
                self.factory,
                self.store,
                model_name=self.job.model_name,
                source_job_id=self.job.id,
                dataset_id=self.job.dataset_id,
                state_dict=result.model.state_dict(),
                config=result.config,
                metrics=result.metrics,
                history=result.history,
                stopping=self.stopping,
                in_same_transaction=self.mark_succeeded,
            )
        except lifecycle.LeaseLost:
            # Cancelled at the last moment, or the lease moved on: the row says which.
            if self.reliably("cancel", lambda: self.finish_row(JobStatus.CANCELLED)):
                self.ended()
            return None
        except StorageFull as exc:  # the weights did not fit: no blob, no version row
            log.error("job %s attempt %s: %s", self.job.id, self.job.attempt, exc)
            return self.retry_or_fail(str(exc))
        self.ckpt.delete()
        return JobStatus.SUCCEEDED

    def mark_succeeded(self, session: Session, version: int) -> None:
        lifecycle.mark_succeeded(
            session, job_id=self.job.id, owner=self.owner, model_version=version
        )

    def fail(self, error: str) -> JobStatus:
        """A failure that every attempt would meet again: no retry."""
        return self.finish(JobStatus.FAILED, error)

    def finish(self, status: JobStatus, error: str | None = None) -> JobStatus:
        if self.reliably(f"mark it {status}", lambda: self.finish_row(status, error)):
            self.ended()
        return status

    def ended(self) -> None:
        """This attempt ended the job (failed or cancelled it): no attempt will resume from
        what it left. Not called where the job had moved on to another worker: what it left
        is that worker's now."""
        self.ckpt.delete()

    def finish_row(self, status: JobStatus, error: str | None = None) -> bool:
        return lifecycle.finish_job(
            self.factory, job_id=self.job.id, owner=self.owner, status=status, error=error
        )

    def retry_or_fail(self, error: str) -> JobStatus | None:
        """A failure that may be transient: queued again while attempts remain."""
        status = self.reliably(
            "retry or fail",
            lambda: lifecycle.retry_or_fail(
                self.factory, job_id=self.job.id, owner=self.owner, error=error
            ),
        )
        if status in (JobStatus.FAILED, JobStatus.CANCELLED):
            self.ended()
        return status

    def interrupted(self) -> JobStatus | None:
        """Training stopped early: cancelled, the worker stopping, or the lease lost."""
        if self.beat.cancelled.is_set():
            return self.finish(JobStatus.CANCELLED)
        if self.stopping.is_set():
            status = self.reliably(
                "hand back",
                lambda: lifecycle.hand_back(self.factory, job_id=self.job.id, owner=self.owner),
            )
            if status == JobStatus.CANCELLED:  # cancelled before the heartbeat told us
                self.ended()
            return status
        return None

    def should_stop(self) -> bool:
        beat = self.beat
        return self.stopping.is_set() or beat.cancelled.is_set() or beat.lease_lost.is_set()

    def on_epoch(self, report: EpochReport) -> None:
        progress = {
            "epoch": report.epoch,
            "epochs": report.epochs,
            "train_loss": report.train_loss,
            "val_loss": report.val_loss,
            "samples_per_s": report.samples_per_s,
            "stage": report.stage,
            "attempt": self.job.attempt,
        }
        self.reported = progress
        self.record(progress, "progress")

    def on_batch(self, report: BatchReport) -> None:
        """How far into an epoch the job is (at most every trainer.BATCH_REPORT_EVERY_S): the
        last epoch's report with `batch` and `batches` of the epoch under way, an event of
        its own kind ("epoch_progress"), so that the job's history stays one row an epoch."""
        last = self.reported
        if last.get("epoch") != report.epoch - 1:  # none yet, or one the checkpoint passed
            last = {"epoch": report.epoch - 1, "epochs": report.epochs, "stage": report.stage}
        progress = {
            **last,
            "batch": report.batch,
            "batches": report.batches,
            "attempt": self.job.attempt,
        }
        self.record(progress, "epoch_progress")

    def record(self, progress: dict[str, Any], kind: str) -> None:
        try:
            kept = lifecycle.record_progress(
                self.factory,
                job_id=self.job.id,
                owner=self.owner,
                progress=progress,
                checkpoint_uri=self.ckpt.uri,
                kind=kind,
            )
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            # The checkpoint is on disk; the next report (or the heartbeat) catches up.
            log.warning("job %s: progress not recorded, database unavailable", self.job.id)
            return
        if not kept:
            self.beat.lease_lost.set()

    def reliably(self, what: str, action: Callable[[], T]) -> T:
        return retry_while_unavailable(
            action, what=f"job {self.job.id}: {what}", stopping=self.stopping
        )

    def load_data(self) -> tuple[Any, tuple[int, int, int] | None]:
        """The rows in memory for a small dataset; else the dataset's chunks, which the
        trainer streams (service.training.data.is_streamed)."""
        job = self.job
        with self.factory() as session:
            dataset = session.get(Dataset, job.dataset_id) if job.dataset_id else None
            if dataset is None:
                raise _UnusableData("the job's dataset was deleted")
            rows = open_rows(session=session, store=self.store, dataset=dataset)
            shape = dataset.image_shape
        image_shape = tuple(shape) if shape else None
        if is_streamed(rows):
            return rows, image_shape
        X = retry_store(rows.read_all, what=f"job {job.id}: read its dataset")
        return X, image_shape


WITHIN_EPOCH = ("batch", "batches")  # keys of a report within an epoch (JobRun.on_batch)


class _UnusableData(Exception):
    pass
