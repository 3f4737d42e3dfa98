from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from service.zoo.profile import DataProfile

# A full listing's page holds at most this many features over its datasets, or one dataset:
# as many as the widest dataset may have (parsing.MAX_FEATURES), so that no page of the
# full view is bigger than one dataset's full answer can be.
FULL_PAGE_FEATURES = 1 << 18


class DatasetView(StrEnum):
    """How much of a dataset an answer carries (Google's AIP-157 partial views): `basic`
    leaves out what grows with the number of features (`feature_names`, `stats`: megabytes of
    JSON for a 512x512 image set, behind a request of a few dozen bytes); `full` is all of it."""

    BASIC = "basic"
    FULL = "full"


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
    feature_names: list[str] | None = Field(
        description="One name per feature, in column order; null in the basic view"
    )
    label_names: list[str] | None = Field(
        description="The labels' distinct values, one per class (not per feature: both "
        "views carry them); null without labels"
    )
    has_labels: bool
    sha256: str = Field(
        description="sha256 of the float32 matrix as one .npy file (np.save's bytes); the "
        "rows are stored in chunks of a few MB, each checked on read"
    )
    size_bytes: int = Field(description="Bytes stored (the chunks' .npy files)")
    stats: FeatureStats | None = Field(
        description="Per-feature mean, std, min and max (float64 moments of the float32 "
        "rows); null in the basic view"
    )
    profile: DataProfile | None = Field(
        description="What the `auto` spec fields are decided from (taken at upload; null "
        "for datasets uploaded before profiles existed)."
    )
    builtin: bool
    created_at: datetime


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic] = Field(
        description="This page's datasets. In the full view a page ends early where its "
        f"datasets would hold more than {FULL_PAGE_FEATURES:,} features together (a page "
        "holds one dataset at least)"
    )
    count: int
    next_page_token: str | None = Field(
        description="Send as page_token for the next page; null on the last page"
    )
