from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.zoo.spec import ModelSpec

TagValue = Annotated[str, Field(max_length=1024)]


class QualityWarning(BaseModel):
    """This version is worse than a baseline: PCA at its code size, or an alias's version."""

    against: str = Field(description='"pca", or "alias:NAME" for the version an alias names')
    alias: str | None = None
    version: int | None = Field(default=None, description="The alias's version.")
    metric: str = Field(description="The metric compared (lower is better).")
    value: float = Field(description="This version's figure.")
    baseline_value: float
    message: str


class ModelVersionPublic(BaseModel):
    model: str
    version: int
    status: str = Field(description="ready, or archived once deleted")
    aliases: list[str]
    kind: str
    n_features: int
    code_size: int
    metrics: dict[str, Any]
    worse_than: list[QualityWarning] = Field(
        default_factory=list,
        description="Baselines this version is worse than (more than 1% higher error): PCA "
        "at the same code size, and the versions other aliases point at (same dataset). "
        "`latest` moves to the newest version even so.",
    )
    spec: ModelSpec
    source_job_id: str | None
    dataset_id: str | None
    dataset_sha256: str | None
    artifact_sha256: str
    size_bytes: int
    service_version: str
    torch_version: str
    created_at: datetime


class ModelVersionsPublic(BaseModel):
    data: list[ModelVersionPublic]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )


class ModelPublic(BaseModel):
    name: str
    description: str
    tags: dict[str, Any]
    latest_version: int | None
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )


ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"  # starts with a letter: never a version number
ExportFormat = Literal["safetensors", "onnx", "torchscript"]
ExportPart = Literal["full", "encoder", "decoder"]


class ModelUpdate(BaseModel):
    """PATCH body: description replaces; tags merge (RFC 7396: a null value removes the tag)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"description": "digits, 8-d codes", "tags": {"team": "vision"}}]
        },
    )
    description: str | None = Field(default=None, max_length=10_000)
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], TagValue | None] | None = Field(
        default=None, max_length=64
    )


class AliasUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 2}]})
    version: int = Field(ge=1, le=2**31 - 1, description="A ready version of this model.")


class AliasPublic(BaseModel):
    model: str
    alias: str
    version: int
    updated_at: datetime | None = Field(description="null for the computed alias 'latest'")


class AliasEventPublic(BaseModel):
    alias: str
    from_version: int | None = Field(description="null when the alias was created")
    to_version: int | None = Field(description="null when the alias was deleted")
    actor: str | None = Field(
        description="The API key (by name) that moved it; null while auth is disabled"
    )
    created_at: datetime


class AliasEventsPublic(BaseModel):
    data: list[AliasEventPublic]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )
