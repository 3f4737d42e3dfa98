from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EncodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: list[list[float]] = Field(description="Rows in the dataset's units, (n, n_features).")
    sample: bool = Field(default=False, description="VAE only: draw codings instead of the mean.")


class EncodeResponse(BaseModel):
    model: str
    version: int
    codings: list[list[float]]
    log_var: list[list[float]] | None = None


class ReconstructRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: list[list[float]] = Field(description="Rows in the dataset's units, (n, n_features).")


class ReconstructResponse(BaseModel):
    model: str
    version: int
    reconstructions: list[list[float]]
    errors: list[float] = Field(description="Per-row MSE in the preprocessed space.")
