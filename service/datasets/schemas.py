from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.zoo.profile import DataProfile


class FeatureStats(BaseModel):
    mean: list[float]
    std: list[float]
    min: list[float]
    max: list[float]


class DatasetPublic(BaseModel):
    id: str
    name: str
    source_format: str
    n_rows: int
    n_features: int
    image_shape: list[int] | None
    feature_names: list[str]
    label_names: list[str] | None
    has_labels: bool
    sha256: str = Field(
        description="sha256 of the float32 matrix as one .npy file (np.save's bytes); the "
        "rows are stored in chunks of a few MB, each checked on read"
    )
    size_bytes: int = Field(description="Bytes stored (the chunks' .npy files)")
    stats: FeatureStats
    profile: DataProfile | None = Field(
        description="What the `auto` spec fields are decided from (taken at upload; null "
        "for datasets uploaded before profiles existed)."
    )
    builtin: bool
    created_at: datetime


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic]
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )
