"""Batch inference jobs (#28): run one model version over a stored dataset, chunk by chunk,
into a new dataset."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.names import MODEL_NAME_PATTERN
from service.training.schemas import JobStatus, WorkerInfo

# a version number or an alias (`latest` among them): what resolve_version can name
REF = r"^([0-9]{1,20}|[A-Za-z][A-Za-z0-9_-]{0,63})$"


class BatchOperation(StrEnum):
    """What each row of the output holds: `encode` its codings (a VAE: their means),
    `reconstruct` its reconstruction in the data's units, `score` its anomaly score."""

    ENCODE = "encode"
    RECONSTRUCT = "reconstruct"
    SCORE = "score"


class BatchJobCreate(BaseModel):
    """Run a model version over a dataset; the outputs become a new dataset."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "digits-ae",
                    "version": "prod",
                    "dataset": "digits",
                    "operation": "encode",
                }
            ]
        },
    )

    model: str = Field(pattern=MODEL_NAME_PATTERN, description="The model's name.")
    version: Annotated[int, Field(strict=True, ge=0)] | Annotated[str, Field(pattern=REF)] = Field(
        default="latest",
        description="A version number, an alias, or `latest` (as the {ref} of "
        "/v1/models/{name}/versions/{ref}); resolved when the job is submitted, so an alias "
        "moved later does not change the job.",
    )
    dataset: str = Field(min_length=1, max_length=128, description="Dataset id or name.")
    operation: BatchOperation
    output: str | None = Field(
        default=None,
        max_length=128,
        description="Name of the dataset to create; default `<dataset>-<operation>-<8 hex>`.",
    )
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher runs first.")

    @property
    def ref(self) -> str:
        return str(self.version)


class BatchProgress(BaseModel):
    chunks_done: int
    chunks_total: int
    rows_done: int
    rows_total: int
    rows_per_s: float | None = Field(default=None, description="This attempt's rate")
    attempt: int | None = None
    runtime: Literal["onnxruntime", "torch"] | None = Field(
        default=None,
        description="What computes the chunks (AESVC_INFERENCE_BACKEND; a resumed job keeps "
        "the runtime that computed the chunks recorded before it)",
    )


class BatchJobPublic(BaseModel):
    id: str
    model: str
    version: int = Field(description="The version that runs (the ref resolved at submission)")
    dataset_id: str | None
    operation: BatchOperation
    output: str = Field(description="Name of the dataset the job creates")
    output_dataset_id: str | None = Field(description="Set when the job has succeeded")
    status: JobStatus
    attempt: int
    max_attempts: int
    priority: int
    progress: BatchProgress | None
    worker: WorkerInfo | None = Field(description="Set while the job runs.")
    error: str | None
    attempt_errors: list[dict[str, Any]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BatchJobsPublic(BaseModel):
    data: list[BatchJobPublic]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )
