"""The Open Inference Protocol's inference bodies, and their parse off the event loop: this
module imports only pydantic and numpy, as the processes of service.json_bodies do."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError


# Lists stop at their first wrong item (fail_fast): a body of a million wrong items is one
# error, not a million built, sent back from the parse pool and dropped. A dimension is a
# JSON integer (strict): not a numeric string, a boolean or a float.
class InferInput(BaseModel):
    name: str
    shape: list[StrictInt] = Field(fail_fast=True)
    datatype: str
    parameters: dict[str, Any] | None = None
    data: Any = None


class RequestedOutput(BaseModel):
    name: str
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[InferInput] = Field(min_length=1, fail_fast=True)
    outputs: list[RequestedOutput] | None = Field(default=None, fail_fast=True)


# The protocol's tensor types; this service answers FP32 (and reads FP32 inputs).
Datatype = Literal[
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
    "FP16", "FP32", "FP64", "BYTES",
]  # fmt: skip


class InferOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: Datatype
    parameters: dict[str, Any] | None = None
    data: list[float] | None = None


class InferResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[InferOutput]


def _numbers(data: Any) -> bool:
    """Whether `data` is JSON numbers, alone or in (nested) lists: not a string or a boolean,
    which float32 conversion would read as numbers too."""
    if type(data) is not list:
        return type(data) in (int, float)
    kinds = set(map(type, data))
    if kinds == {list}:
        return all(map(_numbers, data))
    return kinds <= {int, float}


def flat_fp32(data: Any) -> np.ndarray | None:
    """A tensor's `data` (flat or nested) as flat float32 values; None where not numbers.
    An array is the parse pool's, checked there."""
    if not isinstance(data, np.ndarray) and not _numbers(data):
        return None
    try:
        with np.errstate(over="ignore"):  # 1e39 becomes inf, refused as non-finite later
            return np.asarray(data, dtype=np.float32).reshape(-1)
    except (ValueError, TypeError, OverflowError):  # an integer past float64's range too
        return None


def parse_infer_request(head: bytes) -> InferRequest | list[Any]:
    """In the pool: the request, each input's data a flat float32 array, or the validation
    errors. Only arrays go back: a large list would cost the loop its unpickling."""
    try:
        infer = InferRequest.model_validate_json(head)
    except ValidationError as exc:  # the first error is the one answered
        return exc.errors(include_url=False, include_input=False)[:1]
    for spec in infer.inputs:
        if spec.data is not None:
            flat = flat_fp32(spec.data)  # not numbers: the loop's check says so, as it would
            spec.data = ["not a number"] if flat is None else flat
    return infer


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class TensorMetadata(BaseModel):
    name: str
    datatype: Datatype
    shape: list[int] = Field(description="-1: any number of rows")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str] = Field(description="Every ready version, oldest first")
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


PAGE = 1000  # versions a page of the repository index or statistics holds at most


class RepositoryIndexRequest(BaseModel):
    ready: bool = False
    limit: int = Field(default=PAGE, ge=1, le=PAGE, description="Entries per page.")
    page_token: str | None = Field(
        default=None, description="The Next-Page-Token header of the previous page."
    )


class RepositoryModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = {}


class RepositoryIndexEntry(BaseModel):
    name: str
    version: str
    state: Literal["READY", "UNAVAILABLE"]
    reason: str


class DurationStat(BaseModel):
    count: int
    ns: int


class InferenceStats(BaseModel):
    success: DurationStat
    fail: DurationStat
    queue: DurationStat
    compute_input: DurationStat
    compute_infer: DurationStat
    compute_output: DurationStat
    cache_hit: DurationStat


class BatchStat(BaseModel):
    batch_size: int
    compute_input: DurationStat
    compute_infer: DurationStat
    compute_output: DurationStat


class ModelStat(BaseModel):
    name: str
    version: str
    last_inference: int
    inference_count: int
    execution_count: int
    inference_stats: InferenceStats
    batch_stats: list[BatchStat]


class StatisticsResponse(BaseModel):
    model_stats: list[ModelStat]
    next_page_token: str | None = Field(
        default=None, description="Send as page_token for the next page; null on the last one."
    )


class SystemSharedMemoryRegister(BaseModel):
    key: str = Field(description="The POSIX shared memory object, as shm_open names it: '/name'.")
    offset: int = Field(
        default=0, ge=0, description="Bytes into the object where the region starts."
    )
    byte_size: int = Field(ge=1, description="The region's size in bytes.")


class SystemSharedMemoryStatus(BaseModel):
    name: str
    key: str
    offset: int
    byte_size: int
