from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.zoo.spec import Architecture, ModelSpec, Preprocessing, Regularization, Training

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelling", "cancelled"]
TERMINAL_STATES = ("succeeded", "failed", "cancelled")
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


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
