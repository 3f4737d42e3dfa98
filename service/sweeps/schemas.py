"""A sweep as the API takes and answers it (pure Pydantic)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.names import MODEL_NAME_PATTERN, model_name_problem
from service.training.schemas import JobStatus
from service.zoo.spec import Preprocessing

GridValue = str | int | float | bool | None
Metric = Literal["val_mse", "auroc"]
LabelInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
LabelStr = Annotated[str, Field(min_length=1, max_length=256)]


class SweepStatus(StrEnum):
    """running -> succeeded (a trial succeeded) | failed (every trial failed) | cancelled."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_SWEEP_STATES = (SweepStatus.SUCCEEDED, SweepStatus.FAILED, SweepStatus.CANCELLED)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SweepBase(_Strict):
    """What every trial shares: a job's spec, without what the search sets (each part
    takes a job's fields and defaults; the grid or the space fills in the rest)."""

    architecture: dict[str, Any] = Field(default_factory=dict)
    regularization: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    preprocessing: Preprocessing = "auto"


class ChoiceDimension(_Strict):
    type: Literal["choice"]
    choices: list[GridValue] = Field(min_length=1, max_length=256)


class IntDimension(_Strict):
    type: Literal["int"]
    low: int
    high: int
    log: bool = False


class FloatDimension(_Strict):
    type: Literal["float"]
    low: float
    high: float
    log: bool = False


Dimension = Annotated[ChoiceDimension | IntDimension | FloatDimension, Field(discriminator="type")]


class Search(_Strict):
    """A random or TPE search (Optuna, by ask and tell): each trial samples `space`."""

    space: dict[str, Dimension] = Field(
        description="Dotted spec paths to a dimension: choices, an int or a float range "
        "(`log` for a log scale).",
    )
    n_trials: int = Field(description="How many trials to run (1 to AESVC_MAX_SWEEP_TRIALS).")
    seed: int = Field(
        default=0,
        ge=0,
        le=2**31 - 1,
        description="The sampler's seed: the same seed, the same trials.",
    )


class SweepCreate(_Strict):
    """A sweep: train every combination of a grid, or the trials of a search, and say
    which is best and which code size is enough."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "model": "digits-sweep",
                    "dataset": "digits",
                    "base": {"training": {"epochs": 5}},
                    "grid": {
                        "architecture.code_size": [2, 4, 8, 16, 32],
                        "architecture.kind": ["dense", "vae"],
                    },
                    "promote": "best",
                }
            ]
        },
    )

    model: str = Field(pattern=MODEL_NAME_PATTERN, description="Model the trials add versions to.")
    dataset: str = Field(min_length=1, max_length=128, description="Dataset id or name.")
    base: SweepBase = Field(default_factory=SweepBase)
    grid: dict[str, list[GridValue]] | None = Field(
        default=None,
        description="Dotted spec paths to lists of values: one trial per combination.",
    )
    random: Search | None = None
    tpe: Search | None = None
    metric: Metric = Field(
        default="val_mse",
        description="val_mse: validation MSE in the data's units, lower is better. auroc: "
        "area under the ROC curve of the anomaly score on the validation rows, rows labelled "
        "normal_label as normal (needs a labelled dataset), higher is better.",
    )
    normal_label: LabelInt | LabelStr | None = Field(
        default=None, description="metric auroc: the label of the normal rows."
    )
    tolerance: float = Field(
        default=0.1,
        ge=0.0,
        le=10.0,
        description="`recommended` is the smallest code size whose metric is within this "
        "fraction of the best.",
    )
    max_parallel: int = Field(
        default=4, ge=1, le=256, description="The most trials queued or running at once."
    )
    promote: str | None = Field(
        default=None,
        description="An alias to point at the best trial's version when the sweep ends.",
    )
    priority: int = Field(default=0, ge=-1000, le=1000, description="The trials' job priority.")

    @field_validator("model")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        problem = model_name_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    @property
    def search_kind(self) -> str:
        return "grid" if self.grid is not None else "random" if self.random else "tpe"


class TrialPublic(BaseModel):
    number: int
    params: dict[str, Any]
    job_id: str | None = Field(description="Null until the trial is queued.")
    status: JobStatus | Literal["pending", "invalid", "skipped"] = Field(
        description="The job's status; pending before it is queued, invalid where the spec "
        "was refused, skipped where the sweep ended first."
    )
    model_version: int | None
    code_size: int | None
    kind: str | None
    value: float | None = Field(description="The sweep's metric for this trial.")
    metrics: dict[str, Any] = Field(
        description="val_mse and pca_val_mse (data units), train_time_s, epochs_run"
    )
    train_time_s: float | None
    error: str | None


class BaselinePoint(BaseModel):
    code_size: int
    value: float = Field(description="PCA's metric at this code size, on the trials' split.")


class SweepPublic(BaseModel):
    id: str
    model: str
    dataset_id: str | None
    search: Literal["grid", "random", "tpe"]
    status: SweepStatus
    metric: Metric
    higher_is_better: bool
    tolerance: float
    max_parallel: int
    promote: str | None
    promoted_version: int | None
    n_trials: int
    trials: list[TrialPublic]
    best: TrialPublic | None
    recommended: TrialPublic | None = Field(
        description="The smallest code size whose metric is within `tolerance` of the best."
    )
    pca_baseline: list[BaselinePoint]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    request: dict[str, Any]


class SweepSummary(BaseModel):
    """A sweep in a list: its state and counts, without its trials."""

    id: str
    model: str
    search: Literal["grid", "random", "tpe"]
    status: SweepStatus
    metric: Metric
    n_trials: int
    trials_done: int
    created_at: datetime
    finished_at: datetime | None


class SweepsPublic(BaseModel):
    data: list[SweepSummary]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )
