"""Settings: one object, read from the environment (prefix AESVC_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AESVC_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="SQLite file and artifacts.")
    database_url: str | None = Field(default=None, description="Overrides the SQLite file.")
    artifact_url: str | None = Field(default=None, description="Overrides <data_dir>/artifacts.")
    host: str = Field(
        default="127.0.0.1",
        description="Where `aesvc serve` listens (and the CLI connects when AESVC_URL is unset).",
    )
    port: int = Field(default=8000, ge=0, le=65535, description="The port, likewise.")
    workers: int = Field(default=1, ge=0, le=64, description="Local worker processes on CPU.")
    executor: Literal["local", "ray"] = Field(
        default="local", description="local worker processes, or a Ray cluster (RAY_ADDRESS)."
    )
    auth: Literal["disabled", "required"] = Field(
        default="disabled",
        description="required: every route but health and metrics needs an API key; disabled "
        "is refused off a loopback address.",
    )

    max_upload_bytes: int = Field(
        default=1 << 30, ge=1, description="A dataset upload (and what it decodes to); past it 413."
    )
    max_body_bytes: int = Field(
        default=64 << 20, ge=1, description="Any other request body; past it 413."
    )
    max_request_rows: int = Field(
        default=65536, ge=1, description="Rows in one inference request; past it 413."
    )
    request_timeout_s: float = Field(
        default=30.0, gt=0, description="An inference request unanswered by then gets 504."
    )

    heartbeat_interval_s: float = Field(
        default=2.0, gt=0, description="How often a running job's worker heartbeats."
    )
    lease_timeout_s: float = Field(default=30.0, gt=0, description="Stale heartbeat → requeue.")
    poll_interval_s: float = Field(
        default=0.5, gt=0, description="How often an idle worker looks for a queued job."
    )
    worker_restart_delay_s: float = Field(
        default=1.0, ge=0, description="Pause before a crashed worker process is restarted."
    )

    # inference (see DESIGN.md "Inference: batched, bounded, isolated")
    max_batch_rows: int = Field(default=4096, ge=1, description="Rows per batch, not requests.")
    max_wait_ms: float = Field(
        default=5.0, ge=0, description="While the device is busy, how long a batch stays open."
    )
    max_queue_rows: int = Field(
        default=262144, ge=1, description="Rows waiting in all queues; past it 503 + Retry-After."
    )
    model_cache_bytes: int = Field(
        default=1 << 30,
        ge=1,
        description="Loaded versions, least recently used out first: their weights, and on a "
        "GPU their host copies and CUDA graph pools.",
    )
    preload: str = Field(default="", description="name@ref,... loaded and warm before /readyz.")
    inference_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto: CUDA where present, else the CPU."
    )
    inference_parallel_rows: int = Field(
        default=1024,
        ge=1,
        description="CPU inference: batches of at least this many rows are split across the "
        "lanes (AESVC_INFERENCE_CPU_LANES) and use all of torch's threads; smaller ones use "
        "one, leaving the other cores to HTTP.",
    )
    inference_cpu_lanes: int = Field(
        default=0,
        ge=0,
        description="CPU inference threads: a batch of at least AESVC_INFERENCE_PARALLEL_ROWS "
        "rows runs as one slice of rows per lane, at once, torch's threads shared among the "
        "lanes. 1: one thread runs it on all of torch's threads (an OpenMP team); 0: 2 where "
        "torch has 2 threads or more (service.inference.device).",
    )
    inference_inline_rows: int = Field(
        default=64,
        ge=0,
        description="A batch of at most this many rows runs on the event loop (the hand-off "
        "to the device's inference thread costs more); 0: every batch on the thread.",
    )
    inference_flat_graphs: bool = Field(
        default=True,
        description="CPU inference: run each operation as its torch.fx graph, traced through "
        "the module calls (the same outputs, checked at load; a model FX cannot trace runs "
        "eagerly); false: always eagerly.",
    )
    inference_numpy_rows: int = Field(
        default=64,
        ge=0,
        le=4096,
        description="CPU inference: batches of at most this many rows of a dense model run "
        "as its flat graph rewritten into numpy ops (checked close to torch's at load): a "
        "small batch's time in torch is mostly its op dispatch; 0: every batch in torch.",
    )
    inference_cuda_graph_rows: int = Field(
        default=128,
        ge=0,
        le=4096,
        description="CUDA inference: batches of at most this many rows replay a CUDA graph "
        "captured at load for each power of two up to it (a batch is padded to the next; a "
        "small batch's time on a GPU is its kernel launches); 0: every batch eagerly.",
    )
    inference_cuda_host_rows: int = Field(
        default=64,
        ge=0,
        le=4096,
        description="CUDA inference: a version on a GPU keeps a host copy of its weights, and "
        "its batches of at most this many rows run on the host CPU where, measured when the "
        "version loads, the host was faster at that size (a small network's small batch "
        "costs a GPU more in launches and copies than in arithmetic); 0: every batch on the "
        "GPU, and no host copy.",
    )
    oip_shared_memory: bool = Field(
        default=False,
        description="The Open Inference Protocol's system shared memory extension (Triton's "
        "--allow-client-shm): clients register regions of POSIX shared memory objects in "
        "/dev/shm and pass tensors through them instead of the body. A client with the infer "
        "scope may then read and write any such object the service's user can open: turn it "
        "on only where the clients on this host are trusted.",
    )
    warmup_batch_rows: tuple[int, ...] = Field(
        default=(1, 32), description="Batch sizes run once at load (max_batch_rows is added)."
    )
    ref_cache_s: float = Field(
        default=1.0, ge=0, description="How long a resolved {ref} is reused (0: every request)."
    )
    max_generate: int = Field(default=10000, ge=1, description="generate: the most samples.")
    max_interpolate_steps: int = Field(
        default=1000, ge=2, description="interpolate: the most steps."
    )

    malloc_top_pad_bytes: int = Field(
        default=64 << 20,
        ge=0,
        description="aesvc serve on glibc: heap slack kept between requests, so that large "
        "bodies reuse memory instead of faulting it in anew (service.allocator); 0: glibc's "
        "defaults.",
    )

    builtin_datasets: bool = Field(
        default=True, description="Create digits, pca3d and breast_cancer at start."
    )
    log_level: str = Field(default="INFO", description="Python logging level name.")
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's own OpenTelemetry spans, metrics and logs for each request, "
        "where a provider is configured. Off, no request pays for looking one up.",
    )

    @field_validator("artifact_url")
    @classmethod
    def _artifact_url_is_a_path(cls, value: str | None) -> str | None:
        """A folder (a shared volume for many machines), as a path or a file:// URL; an
        object store URL must not quietly become a relative folder named after it."""
        if value and "://" in value and not value.startswith("file://"):
            scheme = value.split("://", 1)[0]
            raise ValueError(
                f"{scheme}:// is not supported: give a folder path or a file:// URL (mount an "
                "object store as a shared volume on every machine)"
            )
        return value

    @model_validator(mode="after")
    def _queue_holds_a_request(self) -> Settings:
        if self.max_queue_rows < self.max_request_rows:
            raise ValueError(
                f"max_queue_rows ({self.max_queue_rows}) must be at least max_request_rows "
                f"({self.max_request_rows}), or the largest request could never be queued"
            )
        return self

    @property
    def preload_refs(self) -> list[tuple[str, str]]:
        """AESVC_PRELOAD=name@ref,name@ref (a bare name means name@latest)."""
        refs = []
        for item in (part.strip() for part in self.preload.split(",")):
            if item:
                name, _, ref = item.partition("@")
                refs.append((name, ref or "latest"))
        return refs

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aesvc.db').resolve()}"

    @property
    def resolved_artifact_root(self) -> Path:
        if self.artifact_url:
            return Path(self.artifact_url.removeprefix("file://")).resolve()
        return (self.data_dir / "artifacts").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
