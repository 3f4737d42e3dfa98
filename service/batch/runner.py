"""A batch job in the worker: the model version over the dataset's chunks, one at a time.

Each output chunk is stored, then recorded (service.batch.tables) in the transaction that
renews the lease and reports progress, so a worker killed anywhere leaves every finished
chunk recorded and nothing else; the next attempt goes on from the first missing one. Only
the lease holder can record a chunk, and a position is recorded once (its primary key).
The rest of an attempt's life (heartbeats, cancel, retries, hand-back on SIGTERM) is the
training job's (JobRun); only the work and what success writes differ.
"""

from __future__ import annotations

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

from service.artifacts import retry_store
from service.batch import output
from service.batch.backend import load_backend
from service.batch.output import OutputSummary, Rate, feature_names, output_width
from service.batch.pipeline import ChunkPipeline
from service.database import utcnow
from service.datasets.chunks import ChunkedRows, npy_bytes
from service.datasets.service import open_rows
from service.datasets.tables import Dataset
from service.inference.backends.base import Backend
from service.inference.runtime.device import one_torch_thread
from service.registry.tables import Model, ModelVersion
from service.training import lifecycle
from service.training.runner import JobRun
from service.training.schemas import JobStatus
from service.training.service import add_event
from service.training.tables import Job
from service.training.trainer import TrainingFailed, TrainingInterrupted
from service.zoo import ServingModel, load_serving_model

log = logging.getLogger(__name__)
ROWS_PER_PASS = 8192  # rows through the model at once: bounds the activations' memory
# Smaller passes run on one torch thread on a CPU, as the inference batches do
# (AESVC_INFERENCE_PARALLEL_ROWS's default): seen here, 512 rows took 80 ms on two
# threads of a busy 2-core machine and 1 ms on one.
PARALLEL_ROWS = 1024


class _Inputs:
    """What an attempt reads before its first chunk."""

    def __init__(self, dataset: Dataset, rows: ChunkedRows, version: ModelVersion) -> None:
        self.dataset, self.rows, self.version = dataset, rows, version


class BatchRun(JobRun):
    """One attempt at one batch job (JobRun: its claim, heartbeats and endings)."""

    def train(self) -> Any:  # JobRun's name for "the attempt's work"
        params = self.job.batch or {}
        self.operation: str = params["operation"]
        inputs = self.reliably("read the job's inputs", self.read_inputs)
        model = self.load_model(inputs.version)
        backend = self.load_backend(model, inputs.version)
        width = output_width(model, self.operation)
        rows = inputs.rows
        n_rows = inputs.dataset.n_rows  # what the chunks must add up to
        summary = OutputSummary(n_rows, width, self.output_image_shape(inputs.dataset))
        with self.factory() as session:
            done = output.written_chunks(session, self.job.id)
        for position, chunk in enumerate(done):  # what earlier attempts wrote, in order
            if chunk.position != position:
                raise TrainingFailed(f"recorded output chunks skip position {position}")
            data = retry_store(partial(self.store.get_bytes, chunk.sha256), what="read a chunk")
            summary.add(output.npy_load(data), len(data))
        started = Rate(time.monotonic(), summary.rows_seen)

        def read(position: int) -> np.ndarray:
            return retry_store(partial(rows.read_chunk, position), what="read a chunk")

        with ChunkPipeline(read, len(rows.chunks)) as pipe:
            for position in range(len(done), len(rows.chunks)):
                if self.should_stop():
                    break
                self.one_chunk(pipe, backend, rows, position, summary, started)
            if not pipe.drain():
                self.beat.lease_lost.set()
            if self.should_stop():  # the chunks recorded so far stay for the next attempt
                raise TrainingInterrupted()
        if summary.rows_seen != n_rows:
            raise TrainingFailed(f"wrote {summary.rows_seen} rows of the dataset's {n_rows}")
        return summary, inputs

    def one_chunk(
        self,
        pipe: ChunkPipeline,
        backend: Backend,
        rows: ChunkedRows,
        position: int,
        summary: OutputSummary,
        started: Rate,
    ) -> None:
        """Compute the chunk at `position` (read ahead by the pipeline); its serialising,
        summary, storing and recording go on, in order, on the pipeline's writer thread
        while the next one is computed."""
        ref = rows.chunks[position]
        result = self.compute(backend, pipe.read(position), position, ref.first_row)
        rows_done = ref.first_row + len(result)  # the chunks are the input's, in order
        progress = {
            "chunks_done": position + 1,
            "chunks_total": len(rows.chunks),
            "rows_done": rows_done,
            "rows_total": rows.n_rows,
            "rows_per_s": started.rate(rows_done),
            "attempt": self.job.attempt,
        }

        def store_and_record() -> bool:
            data = npy_bytes(result)
            summary.add(result, len(data))
            stored = retry_store(partial(self.store.put_bytes, data), what="store a chunk")
            record = partial(
                self.record, position, ref.first_row, data, stored.sha256, len(result), progress
            )
            return self.reliably("record a chunk", record)

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

    def load_backend(self, model: ServingModel, version: ModelVersion) -> Backend:
        """The runtime the inference routes would pick for the version here (ONNX Runtime
        on a CPU, torch on a GPU; torch where ONNX Runtime cannot run it), with the
        worker's threads."""
        label = f"batch job {self.job.id} ({self.job.model_name} v{version.version})"
        backend = load_backend(model, self.operation, device=_device(), label=label)
        log.info("%s runs on %s (%s)", label, backend.name, backend.device)
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
            rows = np.ascontiguousarray(block[start : start + ROWS_PER_PASS])
            if len(rows) < PARALLEL_ROWS and backend.device == "cpu" and backend.name == "torch":
                with one_torch_thread():  # a team of threads costs more than it saves
                    first = backend.run(self.operation, rows)[0]
            else:
                first = backend.run(self.operation, rows)[0]
            parts.append(first.reshape(len(rows), -1))
        result = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
        bad = ~np.isfinite(result)
        if bad.any():
            row = first_row + int(np.flatnonzero(bad.any(axis=1))[0])
            raise TrainingFailed(
                f"{self.operation} gave {int(bad.sum())} NaN or infinite values in chunk "
                f"{position}; the first in row {row}: no dataset can hold them"
            )
        return result

    def record(
        self,
        position: int,
        first_row: int,
        data: bytes,
        sha256: str,
        n_rows: int,
        progress: dict[str, Any],
    ) -> bool:
        """The chunk's record, the progress and a lease renewal in one transaction; False
        (nothing written) when the lease is no longer ours."""
        chunk = output.Written(position, first_row, n_rows, sha256, data)
        return output.record_leased(
            self.factory, self.store, job_id=self.job.id, owner=self.owner, chunk=chunk,
            progress=progress,
        )  # fmt: skip

    def register(self, result: Any) -> JobStatus | None:
        """Make the output a dataset and the job succeeded, in one transaction."""
        summary, inputs = result
        params = dict(self.job.batch or {})
        names = feature_names(self.operation, inputs.dataset, summary.n_features)

        def complete() -> str | None:
            with lifecycle.immediate_session(self.factory) as session:
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

    def finish(self, status: JobStatus, error: str | None = None) -> JobStatus:
        ended = super().finish(status, error)
        self.drop_output()
        return ended

    def retry_or_fail(self, error: str) -> JobStatus | None:
        status = super().retry_or_fail(error)
        if status in (JobStatus.FAILED, JobStatus.CANCELLED):
            self.drop_output()
        return status

    def drop_output(self) -> None:
        """No attempt will complete the output: its chunks go (best effort; a leftover
        blob is garbage, never a wrong answer)."""
        try:
            with self.factory() as session:
                output.drop_written(session, self.store, self.job.id)
        except Exception:
            log.exception("batch job %s: could not remove its chunks", self.job.id)


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
