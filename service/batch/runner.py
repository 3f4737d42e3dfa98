"""A batch job in the worker: the model version over the dataset's chunks, a lane per core
(service.batch.pipeline).

Each output chunk is stored, then recorded (service.batch.tables), with the chunks stored
just before it, in the transaction that renews the lease and reports progress, so a worker
killed anywhere leaves every recorded chunk whole and nothing recorded out of order; the
next attempt goes on from the first unrecorded one. Only the lease holder can record a
chunk, and a position is recorded once (its primary key).
The rest of an attempt's life (heartbeats, cancel, retries, hand-back on SIGTERM) is the
training job's (JobRun); only the work and what success writes differ.
"""

from __future__ import annotations

import contextlib
import logging
import time
from functools import partial
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.artifacts import fast_checksum, retry_store
from service.batch import output
from service.batch.output import OutputSummary, Rate, feature_names, output_width
from service.batch.pipeline import ChunkPipeline
from service.database import utcnow
from service.datasets.chunks import ChunkedRows, npy_bytes
from service.datasets.service import drop_unreferenced, open_rows
from service.datasets.tables import Dataset
from service.inference.backends.base import Backend
from service.inference.runtime import engine
from service.inference.runtime.device import one_torch_thread
from service.inference.runtime.engine import BackendOptions, BackendSetting
from service.registry.tables import Model, ModelVersion
from service.training import lifecycle
from service.training.runner import JobRun
from service.training.schemas import JobStatus
from service.training.service import add_event
from service.training.tables import Job
from service.training.trainer import TrainingFailed, TrainingInterrupted
from service.zoo.serving import ServingModel, load_serving_model

log = logging.getLogger(__name__)
# Rows through the model at once: bounds the activations' memory; larger passes spill out of
# the core's cache and ran slower on one-thread lanes (docs/batch.md).
ROWS_PER_PASS = 4096
# Chunks stored are recorded together (one transaction, one progress event) at most every
# AESVC_BATCH_RECORD_EVERY_S, or once they hold this many bytes: a record per chunk cost a
# tenth of a chunk's work (docs/batch.md). A worker killed meanwhile leaves them stored and
# unrecorded: the next attempt computes them again (the same content, the same blobs).
RECORD_BYTES = 64 << 20


class _Inputs:
    """What an attempt reads before its first chunk."""

    def __init__(self, dataset: Dataset, rows: ChunkedRows, version: ModelVersion) -> None:
        self.dataset, self.rows, self.version = dataset, rows, version


class BatchRun(JobRun):
    """One attempt at one batch job (JobRun: its claim, heartbeats and endings)."""

    def __init__(
        self, *, record_every_s: float, backend: BackendSetting = "auto", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.record_every_s = record_every_s
        self.backend_setting: BackendSetting = backend
        # by the writer thread: the chunks stored and not yet recorded, their bytes, the
        # progress to record with them, and when the last record was
        self.stored: list[output.Written] = []
        self.stored_bytes = 0
        self.progress: dict[str, Any] = {}
        self.recorded_at = time.monotonic()

    def run(self) -> JobStatus | None:
        try:
            return super().run()
        finally:  # whatever became of the job: the next attempt computes these again
            self.drop_unrecorded()

    def train(self) -> Any:  # JobRun's name for "the attempt's work"
        params = self.job.batch or {}
        self.operation: str = params["operation"]
        inputs = self.reliably("read the job's inputs", self.read_inputs)
        model = self.load_model(inputs.version)
        with self.factory() as session:
            done = output.written_chunks(session, self.job.id)
        # the runtime that computed the chunks recorded computes the rest (ONNX Runtime and
        # torch differ in the last bits), whatever this worker's AESVC_INFERENCE_BACKEND says
        earlier = (self.job.progress or {}).get("runtime") if done else None
        setting = earlier if earlier in ("onnxruntime", "torch") else self.backend_setting
        backend = self.load_backend(model, inputs.version, setting)
        self.runtime = backend.name
        width = output_width(model, self.operation)
        rows = inputs.rows
        n_rows = inputs.dataset.n_rows  # what the chunks must add up to
        summary = OutputSummary(n_rows, width, self.output_image_shape(inputs.dataset))
        for position, chunk in enumerate(done):  # what earlier attempts wrote, in order
            if chunk.position != position:
                raise TrainingFailed(f"recorded output chunks skip position {position}")
            read = partial(self.store.get_bytes, chunk.sha256, xxh3=chunk.xxh3)
            data = retry_store(read, what="read a chunk")
            summary.add(output.npy_load(data), len(data))
        started = Rate(time.monotonic(), summary.rows_seen)

        def work(position: int) -> np.ndarray:  # on a lane
            block = retry_store(partial(rows.read_chunk, position, copy=False), what="read a chunk")
            return self.compute(backend, block, position, rows.chunks[position].first_row)

        positions = range(len(done), len(rows.chunks))
        lanes = _lanes(backend)
        with (
            # on the CPU: one torch thread a lane. Set once here, for the lanes' threads that
            # start after it, and restored once they have ended: lanes that each set and
            # restored it would restore each other's 1 (the count is partly global)
            one_torch_thread() if backend.device == "cpu" else contextlib.nullcontext(),
            ChunkPipeline(work, positions, lanes=lanes) as pipe,
        ):
            for position, result in pipe.results():
                if self.should_stop():
                    break
                self.one_chunk(pipe, rows, position, result, summary, started)
            pipe.write(self.record_stored)  # what is stored is recorded, stopping or not
            if not pipe.drain():
                self.beat.lease_lost.set()
            if self.should_stop():  # the chunks recorded so far stay for the next attempt
                raise TrainingInterrupted()
        if summary.rows_seen != n_rows:
            raise TrainingFailed(f"wrote {summary.rows_seen} rows of the dataset's {n_rows}")
        return summary, inputs

    def one_chunk(
        self,
        pipe: ChunkPipeline[np.ndarray],
        rows: ChunkedRows,
        position: int,
        result: np.ndarray,
        summary: OutputSummary,
        started: Rate,
    ) -> None:
        """Queue the chunk at `position`, computed, for its serialising, summary, storing
        and recording, in order, on the pipeline's writer thread."""
        ref = rows.chunks[position]
        rows_done = ref.first_row + len(result)  # the chunks are the input's, in order
        progress = {
            "chunks_done": position + 1,
            "chunks_total": len(rows.chunks),
            "rows_done": rows_done,
            "rows_total": rows.n_rows,
            "rows_per_s": started.rate(rows_done),
            "attempt": self.job.attempt,
            "runtime": self.runtime,
        }

        def store_and_record() -> bool:
            data = npy_bytes(result)
            summary.add(result, len(data))
            stored = retry_store(partial(self.store.put_bytes, data), what="store a chunk")
            self.stored.append(
                output.Written(
                    position, ref.first_row, len(result), stored.sha256, fast_checksum(data), data
                )
            )
            self.stored_bytes += len(data)
            self.progress = progress
            recent = time.monotonic() - self.recorded_at < self.record_every_s
            if recent and self.stored_bytes < RECORD_BYTES:
                return True
            return self.record_stored()

        if not pipe.write(store_and_record):  # an earlier chunk found the lease lost
            self.beat.lease_lost.set()
            raise TrainingInterrupted()

    def read_inputs(self) -> _Inputs:
        params = self.job.batch or {}
        with self.factory() as session:
            dataset = session.get(Dataset, self.job.dataset_id) if self.job.dataset_id else None
            if dataset is None:
                raise TrainingFailed("the job's dataset was deleted")
            version = session.scalars(
                select(ModelVersion)
                .join(Model, Model.id == ModelVersion.model_id)
                .where(Model.name == self.job.model_name, ModelVersion.version == params["version"])
            ).first()
            if version is None or version.status != "ready":
                raise TrainingFailed(
                    f"version {params['version']} of model {self.job.model_name!r} was "
                    "deleted or archived"
                )
            if version.n_features != dataset.n_features:
                raise TrainingFailed(
                    f"dataset: {dataset.n_features} features; the version takes "
                    f"{version.n_features}"
                )
            rows = open_rows(session=session, store=self.store, dataset=dataset)
            session.expunge_all()
        return _Inputs(dataset, rows, version)

    def load_model(self, version: ModelVersion) -> ServingModel:
        """The version's weights, checked (sha256 on read; tensors against the config)."""
        blob = retry_store(lambda: self.store.get_bytes(version.artifact_sha256), what="weights")
        try:
            model = load_serving_model(version.config, load_safetensors(blob))
        except (ValueError, KeyError, RuntimeError) as exc:
            raise TrainingFailed(f"version {version.version} cannot be loaded: {exc}") from exc
        return model.eval().to(torch.device(_device()))

    def load_backend(
        self, model: ServingModel, version: ModelVersion, setting: BackendSetting
    ) -> Backend:
        """The routes' choice (AESVC_INFERENCE_BACKEND; auto: ONNX Runtime on a CPU, torch
        on a GPU), for the job's one operation; on a CPU each pass on one thread (a lane
        per thread of the worker's: _lanes), where ONNX Runtime kept more of its one-thread
        rate across lanes than torch did (docs/batch.md)."""
        label = f"batch job {self.job.id} ({self.job.model_name} v{version.version})"
        options = BackendOptions(setting, threads=1, operations=(self.operation,))
        backend, plan = engine.load_backend(model, label=label, device=_device(), options=options)
        log.info("%s runs on %s (%s)", label, plan.backend, plan.device)
        return backend

    def output_image_shape(self, dataset: Dataset) -> list[int] | None:
        shape = dataset.image_shape
        return list(shape) if self.operation == "reconstruct" and shape else None

    def compute(
        self, backend: Backend, block: np.ndarray, position: int, first_row: int
    ) -> np.ndarray:
        """The operation's first output for the chunk's rows (the existing inference
        modules), as a (rows, width) float32 matrix with finite values."""
        parts = []
        for start in range(0, len(block), ROWS_PER_PASS):
            rows = block[start : start + ROWS_PER_PASS]
            if backend.name == "torch" and backend.device == "cpu":
                rows = rows.copy()  # from_numpy wants it writable (the chunk's is not)
            parts.append(backend.run(self.operation, rows)[0].reshape(len(rows), -1))
        result = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
        bad = ~np.isfinite(result)
        if bad.any():
            row = first_row + int(np.flatnonzero(bad.any(axis=1))[0])
            raise TrainingFailed(
                f"{self.operation} gave {int(bad.sum())} NaN or infinite values in chunk "
                f"{position}; the first in row {row}: no dataset can hold them"
            )
        return result

    def record_stored(self) -> bool:
        """The chunks stored since the last record, the latest progress and a lease renewal
        in one transaction; False (nothing written) when the lease is no longer ours."""
        if not self.stored:
            return True
        record = partial(
            output.record_leased, self.factory, self.store, job_id=self.job.id,
            owner=self.owner, chunks=self.stored, progress=self.progress,
        )  # fmt: skip
        recorded = self.reliably("record chunks", record)
        if recorded:  # else (an error, the lease lost) they stay unrecorded, to be dropped
            self.stored, self.stored_bytes = [], 0
        self.recorded_at = time.monotonic()
        return recorded

    def register(self, result: Any) -> JobStatus | None:
        """Make the output a dataset and the job succeeded, in one transaction."""
        summary, inputs = result
        params = dict(self.job.batch or {})
        names = feature_names(self.operation, inputs.dataset, summary.n_features)

        def complete() -> str | None:
            with lifecycle.immediate_session(self.factory) as session:
                output.check_complete(
                    session,
                    job_id=self.job.id,
                    model=self.job.model_name,
                    version=params["version"],
                    n_rows=summary.n_rows,
                )
                dataset = output.make_dataset(
                    session,
                    job_id=self.job.id,
                    name=params["output"],
                    summary=summary,
                    feature_names=names,
                    image_shape=summary.image_shape,
                    source=inputs.dataset,
                )
                params["output_dataset_id"] = dataset.id
                if not self.mark_done(session, params):
                    session.rollback()
                    return None
                event = {"status": JobStatus.SUCCEEDED, "output_dataset_id": dataset.id}
                add_event(session, self.job.id, "state", event)
                session.commit()
                return dataset.id

        try:
            made = self.reliably("create the output dataset", complete)
        except IntegrityError:
            return self.fail(f"output: a dataset named {params['output']!r} exists already")
        except output.Unfinishable as exc:  # fails the job only while it is still ours
            return self.fail(str(exc))
        if made is None:  # cancelled at the last moment, or the lease moved on
            if self.reliably("cancel", lambda: self.finish_row(JobStatus.CANCELLED)):
                self.drop_output()  # cancelled: no attempt will complete it
            return None
        log.info("batch job %s wrote dataset %s", self.job.id, made)
        return JobStatus.SUCCEEDED

    def mark_done(self, session: Session, params: dict[str, Any]) -> bool:
        """Succeeded, if the job is still running under this lease (not committed)."""
        done = session.execute(
            update(Job)
            .where(
                Job.id == self.job.id,
                Job.lease_owner == self.owner,
                Job.status == JobStatus.RUNNING,
            )
            .values(
                status=JobStatus.SUCCEEDED,
                batch=params,
                finished_at=utcnow(),
                lease_owner=None,
                worker_host=None,
                worker_pid=None,
            )
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def ended(self) -> None:
        super().ended()
        self.drop_output()

    def drop_output(self) -> None:
        """No attempt will complete the output: its chunks go, recorded or only stored
        (best effort; a leftover blob is garbage, never a wrong answer)."""
        unrecorded = [chunk.sha256 for chunk in self.stored]
        try:
            with self.factory() as session:
                output.drop_written(session, self.store, self.job.id, unrecorded=unrecorded)
            self.stored = []
        except Exception:
            log.exception("batch job %s: could not remove its chunks", self.job.id)

    def drop_unrecorded(self) -> None:
        """The blobs this attempt stored and did not record, where nothing refers to them
        (best effort). Safe whoever holds the job now: a worker recording the same bytes
        puts its blob back (output.record_leased)."""
        if not self.stored:
            return
        unrecorded: list[str | None] = [chunk.sha256 for chunk in self.stored]
        try:
            with self.factory() as session:
                drop_unreferenced(session, self.store, unrecorded)
            self.stored = []
        except Exception:
            log.exception("batch job %s: could not remove its unrecorded chunks", self.job.id)


def _lanes(backend: Backend) -> int:
    """Chunks in work at once: one per thread of the worker's share of the cores on a CPU
    (each pass on one thread); two on a GPU, so that one chunk is read while one runs."""
    return max(1, torch.get_num_threads()) if backend.device == "cpu" else 2


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
