"""Request and response bodies of the v1 inference operations (they document the OpenAPI
schema; responses are written with orjson)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Rows = list[list[float]]
# Request bodies take numbers only as JSON numbers, booleans only as true and false (strict):
# lax mode read a numeric string or true as a number, and "yes" as true. A JSON integer is
# still a float where one is expected.
STRICT = ConfigDict(extra="forbid", strict=True)


class ReconstructRequest(BaseModel):
    model_config = STRICT
    inputs: Rows = Field(description="Rows in the dataset's units, (n, n_features).")


class EncodeRequest(ReconstructRequest):
    sample: bool = Field(default=False, description="VAE only: draw codings instead of the mean.")
    seed: int | None = Field(
        default=None,
        ge=0,
        description="With sample: the same seed draws the same codings for the same request "
        "(the draw is the request's: row i takes its i-th noise vector); none draws fresh ones.",
    )


class Served(BaseModel):
    model: str = Field(description="The model name.")
    version: int = Field(description="The version that answered ({ref} resolved).")


class EncodeResponse(Served):
    codings: Rows = Field(description="(n, code_size); a VAE: the mean, or a draw with sample.")
    log_var: Rows | None = Field(default=None, description="VAE only: (n, code_size).")


class DecodeRequest(BaseModel):
    model_config = STRICT
    codings: Rows = Field(description="(n, code_size) codings.")


class DecodeResponse(Served):
    outputs: Rows = Field(description="(n, n_features) in the dataset's units.")


class ReconstructResponse(Served):
    reconstructions: Rows
    errors: list[float | None] = Field(
        description="Per-row mean squared error between the row and its reconstruction, in "
        "the dataset's units."
    )


class ScoreRequest(ReconstructRequest):
    contamination: float | None = Field(
        default=None,
        gt=0.0,
        lt=0.5,
        description="Flag this share of the rows the version was fitted on instead of its "
        "own contamination (the threshold becomes that quantile of their scores).",
    )
    threshold: float | None = Field(
        default=None, allow_inf_nan=False, description="Flag scores above this instead."
    )


class ScoreResponse(Served):
    scores: list[float | None] = Field(
        description="Per-row anomaly score: the reconstruction error plus the codings' "
        "squared Mahalanobis distance, each in units of its typical value on the rows the "
        "version was fitted on (about 2 for a typical one of those rows; see docs/models.md)."
    )
    threshold: float = Field(
        description="The threshold used: the request's, or the fitted rows' scores' quantile "
        "at 1 - contamination."
    )
    is_anomaly: list[bool] = Field(description="score > threshold, per row.")


class GenerateRequest(BaseModel):
    model_config = STRICT
    n: int = Field(default=16, description="How many samples, 1 <= n <= AESVC_MAX_GENERATE.")
    seed: int | None = Field(default=None, ge=0, description="Same seed, same samples.")


class GenerateResponse(Served):
    samples: Rows = Field(description="(n, n_features) in the dataset's units.")
    method: Literal["prior", "fitted_gaussian"] = Field(
        description="prior: a VAE's N(0, I); fitted_gaussian: N(mean, cov) of training codings."
    )


class InterpolateRequest(BaseModel):
    model_config = STRICT
    start: list[float] = Field(description="One row in the dataset's units, (n_features,).")
    end: list[float] = Field(description="One row in the dataset's units, (n_features,).")
    steps: int = Field(default=8, description="Points from start to end inclusive, >= 2.")


class InterpolateResponse(Served):
    outputs: Rows = Field(description="(steps, n_features): decoded points of the latent line.")
