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


class JobCreate(BaseModel):
    """A training job: which data, which autoencoder, how to train it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"model_name": "digits-ae", "dataset": "digits", "architecture": {"code_size": 8}}
            ]
        },
    )

    model_name: str = Field(pattern=MODEL_NAME_PATTERN, description="Model to add a version to.")
    dataset: str = Field(min_length=1, max_length=128, description="Dataset id or name.")
    architecture: Architecture
    regularization: Regularization = Field(default_factory=Regularization)
    training: Training = Field(default_factory=Training)
    preprocessing: Preprocessing = "auto"
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher runs first.")

    @field_validator("model_name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        problem = model_name_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    def to_spec(self) -> ModelSpec:
        return ModelSpec(
            architecture=self.architecture,
            regularization=self.regularization,
            training=self.training,
            preprocessing=self.preprocessing,
        )


class JobProgress(BaseModel):
    epoch: int
    epochs: int
    train_loss: float | None = None
    val_loss: float | None = None
    samples_per_s: float | None = None
    stage: str | None = None


class WorkerInfo(BaseModel):
    host: str
    pid: int


class JobPublic(BaseModel):
    id: str
    model_name: str
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
