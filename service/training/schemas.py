from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.names import MODEL_NAME_PATTERN, model_name_problem
from service.zoo.spec import Architecture, ModelSpec, Preprocessing, Regularization, Training


class JobStatus(StrEnum):
    """A job's state: queued -> running -> succeeded | failed. A cancel moves a running job
    to cancelling, then cancelled; a queued one straight to cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
LEASED_STATES = (JobStatus.RUNNING, JobStatus.CANCELLING)  # a worker holds the job
ACTIVE_STATES = (JobStatus.QUEUED, *LEASED_STATES)  # will still add a version


_DEPRECATED: dict[str, Any] = {"deprecated": True}


class JobCreate(BaseModel):
    """A training job: which model, which data, and the version's spec (the same shape as a
    job's `spec` and a version's `spec`, so a spec read back can be sent again).

    0.x bodies (`model_name`, and `architecture` / `regularization` / `training` /
    `preprocessing` at the top level) are still accepted and marked deprecated in the
    schema; a body mixes neither shape with the other.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "digits-ae",
                    "dataset": "digits",
                    "spec": {"architecture": {"kind": "dense", "code_size": 8}},
                }
            ]
        },
    )

    model: str | None = Field(
        default=None, pattern=MODEL_NAME_PATTERN, description="Model to add a version to."
    )
    dataset: str = Field(min_length=1, max_length=128, description="Dataset id or name.")
    spec: ModelSpec | None = Field(
        default=None, description="The version's spec (required unless a 0.x body)."
    )
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher runs first.")
    model_name: str | None = Field(
        default=None,
        pattern=MODEL_NAME_PATTERN,
        description="0.x name of `model`.",
        json_schema_extra=_DEPRECATED,
    )
    architecture: Architecture | None = Field(
        default=None, description="0.x place of `spec.architecture`.", json_schema_extra=_DEPRECATED
    )
    regularization: Regularization | None = Field(
        default=None,
        description="0.x place of `spec.regularization`.",
        json_schema_extra=_DEPRECATED,
    )
    training: Training | None = Field(
        default=None, description="0.x place of `spec.training`.", json_schema_extra=_DEPRECATED
    )
    preprocessing: Preprocessing | None = Field(
        default=None,
        description="0.x place of `spec.preprocessing`.",
        json_schema_extra=_DEPRECATED,
    )

    @field_validator("model", "model_name")
    @classmethod
    def _not_reserved(cls, name: str | None) -> str | None:
        problem = model_name_problem(name) if name is not None else None
        if problem:
            raise ValueError(problem)
        return name

    @property
    def legacy(self) -> bool:
        """A 0.x body: the spec's parts at the top level."""
        return self.spec is None and self.architecture is not None

    def shape_problem(self) -> tuple[str, str] | None:
        """(field, message) where the body names its model or spec twice or not at all."""
        if self.model is not None and self.model_name is not None:
            return "model_name", "send model only (model_name is its deprecated 0.x name)"
        if self.model is None and self.model_name is None:
            return "model", "Field required"
        flat = [
            name
            for name in ("architecture", "regularization", "training", "preprocessing")
            if getattr(self, name) is not None
        ]
        if self.spec is not None and flat:
            return flat[0], f"send it inside spec ({flat[0]} at the top level is the 0.x shape)"
        if self.spec is None and self.architecture is None:
            return "spec", "Field required"
        return None

    @property
    def model_ref(self) -> str:
        name = self.model or self.model_name
        assert name is not None, "shape_problem() is checked first"
        return name

    def to_spec(self) -> ModelSpec:
        if self.spec is not None:
            return self.spec
        assert self.architecture is not None, "shape_problem() is checked first"
        return ModelSpec(
            architecture=self.architecture,
            regularization=self.regularization or Regularization(),
            training=self.training or Training(),
            preprocessing=self.preprocessing or "auto",
        )


class JobProgress(BaseModel):
    """The last epoch's report; while the next epoch runs, `batch` and `batches` say how far
    into it the job is (renewed every few seconds; a shorter epoch shows neither)."""

    epoch: int = Field(description="Epochs done (0 until the first ends).")
    epochs: int
    train_loss: float | None = None
    val_loss: float | None = None
    samples_per_s: float | None = None
    stage: str | None = None
    batch: int | None = Field(
        default=None, description="Batches done of the epoch under way (epoch + 1)."
    )
    batches: int | None = Field(default=None, description="Batches in the epoch under way.")


class WorkerInfo(BaseModel):
    host: str
    pid: int


class JobPublic(BaseModel):
    id: str
    model: str
    model_name: str = Field(description="0.x name of `model`.", json_schema_extra=_DEPRECATED)
    dataset_id: str | None
    status: JobStatus
    attempt: int
    max_attempts: int
    priority: int
    progress: JobProgress | None
    worker: WorkerInfo | None = Field(description="Set while the job runs.")
    error: str | None
    attempt_errors: list[dict[str, Any]]
    model_version: int | None
    sweep_id: str | None = Field(default=None, description="The sweep this job is a trial of.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    spec: ModelSpec


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )


class JobEventPublic(BaseModel):
    id: int
    kind: str
    data: dict[str, Any]
    created_at: datetime


class JobHistory(BaseModel):
    job_id: str
    epochs: list[dict[str, Any]]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )
