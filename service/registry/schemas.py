from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from service.zoo.spec import ModelSpec


class ModelVersionPublic(BaseModel):
    model: str
    version: int
    status: str = Field(description="ready, or archived once deleted")
    aliases: list[str]
    kind: str
    n_features: int
    code_size: int
    metrics: dict[str, Any]
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
