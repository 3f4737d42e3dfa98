"""Settings: one object, read from the environment (prefix AESVC_).

The fields are grouped (server, security, storage, jobs, inference) by a marker on each,
not by nested models: the variable names (AESVC_PORT, not AESVC_SERVER__PORT) are what
deployments set, and they stay. docs/configuration.md has a section per group.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.store_providers import KNOWN_FORMS, names_a_bucket, provider_for

SettingGroup = Literal["server", "security", "storage", "jobs", "inference"]
# the order and the headings of docs/configuration.md's sections
SETTING_GROUPS: dict[SettingGroup, str] = {
    "server": "Server: the HTTP side of `aesvc serve`, its limits and its logs",
    "security": "Security: who may call, and from where",
    "storage": "Storage: the database and the artifacts",
    "jobs": "Jobs: the workers that train, and what a job may ask for",
    "inference": "Inference: batching, queues, the model cache and the backends",
}


def setting(group: SettingGroup, **field: Any) -> Any:
    """A pydantic Field marked with its group (json_schema_extra["group"])."""
    return Field(json_schema_extra={"group": group}, **field)


def group_of(name: str) -> SettingGroup | None:
    extra = Settings.model_fields[name].json_schema_extra
    group = extra.get("group") if isinstance(extra, dict) else None
    return group if group in SETTING_GROUPS else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AESVC_", extra="ignore")

    # server: the HTTP side of `aesvc serve` and its limits
    host: str = setting(
        "server",
        default="127.0.0.1",
        description="Where `aesvc serve` listens (and the CLI connects when AESVC_URL is unset).",
    )
    port: int = setting("server", default=8000, ge=0, le=65535, description="The port, likewise.")
    max_connections: int = setting(
        "server",
        default=1000,
        ge=1,
        description="Open connections per API process; one past it closes the connection "
        "that has waited longest for a request head, else the slowest request body "
        "(service.server). Keep it well under the process's descriptor limit (ulimit -n).",
    )
    header_timeout_s: float = setting(
        "server",
        default=10.0,
        gt=0,
        description="A connection must send a whole request head this soon after it opens "
        "or after its previous response, or it is closed (slowloris).",
    )
    max_header_bytes: int = setting(
        "server", default=64 << 10, ge=1024, description="A request head past this is a 431."
    )
    trusted_proxies: str = setting(
        "server",
        default="",
        description="Comma-separated addresses (or *) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto `aesvc serve` believes; empty: none, and "
        "the client's address is the connection's (what per-address rate limits key on).",
    )
    body_timeout_s: float = setting(
        "server",
        default=30.0,
        gt=0,
        description="A request body must arrive this soon after its head, plus one second per "
        "AESVC_BODY_MIN_BYTES_PER_S bytes received (the time the service leaves it unread "
        "not counted), or it is answered 408 and its connection closed (slow bodies).",
    )
    body_min_bytes_per_s: int = setting(
        "server",
        default=4 << 10,
        ge=1,
        description="The rate a request body earns its time at (AESVC_BODY_TIMEOUT_S); a "
        "body slower than it is the first closed when AESVC_MAX_CONNECTIONS is reached.",
    )
    send_timeout_s: float = setting(
        "server",
        default=60.0,
        gt=0,
        description="An answer whose client reads none of it for this long (its writes "
        "paused by a full socket buffer) has its connection closed (nginx's send_timeout): "
        "a client that never reads holds neither a connection nor what its request holds. "
        "Stalled for a second or more, it is also the first closed at AESVC_MAX_CONNECTIONS "
        "after the idle ones and the slow bodies.",
    )
    send_buffer_bytes: int = setting(
        "server",
        default=1 << 20,
        ge=0,
        description="Each connection's kernel send buffer (SO_SNDBUF; Linux doubles it), "
        "0 for the kernel's own sizing. Autotuned, it grows to net.ipv4.tcp_wmem's maximum "
        "(4 MiB): a client that pipelines cheap requests and reads nothing then has the "
        "server answer 4 MiB of them before its writes pause (AESVC_SEND_TIMEOUT_S counts "
        "from there), and 50 such clients kept /healthz waiting for 5 s on 2 cores. 1 MiB "
        "still carries 20 MB/s at a 100 ms round trip.",
    )
    max_upload_bytes: int = setting(
        "server",
        default=50 << 30,
        ge=1,
        description="A dataset upload (and what it decodes to); past it 413. Every format "
        "(.npy, .npz, csv, parquet) is stored chunk by chunk, so memory does not grow with "
        "this (a parquet file is read a row group at a time: write it in row groups of tens "
        "of MB, not one).",
    )
    max_body_bytes: int = setting(
        "server",
        default=64 << 20,
        ge=1,
        description="A body of rows (v1 inference, v2 infer); past it 413. A model import "
        "may be as large as AESVC_MAX_MODEL_PARAMETERS in float64, and this more.",
    )
    max_control_body_bytes: int = setting(
        "server",
        default=256 << 10,
        ge=1,
        description="Any other request body (a job, a sweep, a batch job, tags, an alias, the "
        "v2 extensions' bodies: a few KB); past it 413. These are parsed on the event loop, "
        "where a body of many keys costs its parse and validation a key each.",
    )
    json_off_loop_bytes: int = setting(
        "server",
        default=1 << 20,
        ge=0,
        description="An inference JSON body of rows (v1), or a v2 infer request's JSON, this "
        "large or larger is parsed in a separate process (service.json_bodies), not on the "
        "event loop.",
    )
    json_parse_processes: int = setting(
        "server", default=2, ge=1, le=64, description="Processes that parse large JSON bodies."
    )
    max_streams: int = setting(
        "server",
        default=256,
        ge=1,
        description="Open job event streams (SSE) per API process; past it 429 + Retry-After.",
    )
    idempotency_ttl_s: float = setting(
        "server",
        default=86400.0,
        gt=0,
        description="How long an Idempotency-Key (per API key) replays its first answer.",
    )
    idempotency_pending_s: float = setting(
        "server",
        default=600.0,
        gt=0,
        description="An Idempotency-Key whose first request has not answered after this long "
        "(its process died) may be run again.",
    )
    max_streams_per_key: int = setting(
        "server",
        default=8,
        ge=1,
        description="Open job event streams per API key (all anonymous "
        "callers share one count while auth is disabled); past it 429 + Retry-After.",
    )
    malloc_top_pad_bytes: int = setting(
        "server",
        default=64 << 20,
        ge=0,
        description="aesvc serve on glibc: heap slack kept between requests, so that large "
        "bodies reuse memory instead of faulting it in anew (service.allocator); 0: glibc's "
        "defaults.",
    )
    log_level: str = setting("server", default="INFO", description="Python logging level name.")
    opentelemetry: bool = setting(
        "server",
        default=False,
        description="FastAPI's own OpenTelemetry spans, metrics and logs for each request, "
        "where a provider is configured. Off, no request pays for looking one up.",
    )

    # security: who may call, from where
    rate_limit_per_s: float | None = setting(
        "security",
        default=None,
        ge=0,
        description="Requests per second per API key (per client address with auth "
        "disabled), past a burst of AESVC_RATE_LIMIT_BURST: 429 with RateLimit-* headers. "
        "Unset: off with auth disabled (a loopback bind), 50 with auth required; 0: off.",
    )
    rate_limit_burst: int = setting(
        "security",
        default=100,
        ge=1,
        description="Requests a caller may send at once before the rate applies.",
    )
    quota_active_jobs: int | None = setting(
        "security",
        default=None,
        ge=0,
        description="Queued and running jobs one API key may have at once; a submission past "
        "it is 429 quota_exceeded with Retry-After. Unset: off with auth disabled, 100 with "
        "auth required; 0: off.",
    )
    auth: Literal["disabled", "required"] = setting(
        "security",
        default="disabled",
        description="required: every route but health and metrics needs an API key; disabled "
        "is refused off a loopback address.",
    )
    allowed_hosts: str = setting(
        "security",
        default="localhost,127.0.0.1,[::1]",
        description="Host header values (names, without the port) this service answers to, "
        "comma-separated; *.example.com matches its subdomains, * any host. Anything else "
        "is a 400: a web page that rebinds its DNS name to this address is refused.",
    )
    public_docs: bool | None = setting(
        "security",
        default=None,
        description="/docs, /redoc and /openapi.json without a key. Unset: public while "
        "AESVC_AUTH=disabled; with auth required, /openapi.json needs a read key and the "
        "two pages are not served.",
    )
    stream_key_check_s: float = setting(
        "security",
        default=5.0,
        gt=0,
        description="How often an open event stream checks that its key "
        "is not revoked; a revoked key's streams end.",
    )

    # storage: the database and the artifacts
    data_dir: Path = setting(
        "storage", default=Path("./var"), description="SQLite file and artifacts."
    )
    database_url: str | None = setting(
        "storage", default=None, description="Overrides the SQLite file."
    )
    artifact_url: str | None = setting(
        "storage",
        default=None,
        description="Overrides <data_dir>/artifacts: a folder, file://, or an object store "
        "(s3://bucket/prefix, gs://bucket/prefix, az://container/prefix) with the usual "
        "credential variables (AWS_*, GOOGLE_*, AZURE_*; see docs/deployment.md).",
    )
    artifact_cache_bytes: int = setting(
        "storage",
        default=1 << 30,
        ge=0,
        description="Object store only: blobs read from it are kept under "
        "<data_dir>/artifact-cache up to this many bytes, least recently read out first "
        "(0: none).",
    )
    builtin_datasets: bool = setting(
        "storage", default=True, description="Create digits, pca3d and breast_cancer at start."
    )

    # jobs: the workers that train (see DESIGN.md "Jobs: nothing lost")
    workers: int = setting(
        "jobs", default=1, ge=0, le=64, description="Local worker processes on CPU."
    )
    executor: Literal["local", "ray"] = setting(
        "jobs",
        default="local",
        description="local worker processes, or a Ray cluster (RAY_ADDRESS).",
    )
    ray_connect_timeout_s: float = setting(
        "jobs",
        default=60.0,
        gt=0,
        le=86_400,
        description="AESVC_EXECUTOR=ray: how long `aesvc serve` waits for the cluster at "
        "RAY_ADDRESS to answer before it gives up and exits 2 (ray.init alone waits for "
        "minutes on an address where nothing listens).",
    )
    ray_job_resources: dict[str, float] = setting(
        "jobs",
        default_factory=dict,
        description="AESVC_EXECUTOR=ray: custom Ray resources every job actor asks for, as "
        'JSON (e.g. {"trainer": 1}): jobs run only on the nodes started with them.',
    )
    heartbeat_interval_s: float = setting(
        "jobs", default=2.0, gt=0, description="How often a running job's worker heartbeats."
    )
    lease_timeout_s: float = setting(
        "jobs",
        default=30.0,
        gt=0,
        description="Stale heartbeat → requeue. An upload that stored no chunk for ten "
        "times this long is taken for dead and its chunks are removed.",
    )
    checkpoint_every_s: float = setting(
        "jobs",
        default=60.0,
        gt=0,
        description="Within a training epoch, a checkpoint is written at most this often (an "
        "epoch shorter than this has only its own, at its end): a worker killed mid-epoch "
        "loses at most this much of it. Each writes the model and the optimizer's state: "
        "raise it for a model of hundreds of millions of weights.",
    )
    batch_record_every_s: float = setting(
        "jobs",
        default=0.5,
        ge=0,
        description="A batch job records the output chunks it has stored (one transaction, "
        "one progress event) at most this often, or past 64 MB of them: a worker killed "
        "meanwhile leaves them for the next attempt to compute again. 0: every chunk.",
    )
    poll_interval_s: float = setting(
        "jobs", default=0.5, gt=0, description="How often an idle worker looks for a queued job."
    )
    max_sweep_trials: int = setting(
        "jobs",
        default=256,
        ge=1,
        le=100_000,
        description="The most trials one sweep may ask for: a grid's combinations, or "
        "n_trials of a random or TPE search.",
    )
    sweep_advance_s: float = setting(
        "jobs",
        default=1.0,
        gt=0,
        description="How often the API looks at running sweeps: queues their next trials, "
        "records finished ones, ends them (workers also do it as each trial ends).",
    )
    worker_restart_delay_s: float = setting(
        "jobs", default=1.0, ge=0, description="Pause before a crashed worker process is restarted."
    )
    max_model_parameters: int | None = setting(
        "jobs",
        default=None,
        ge=1,
        description="The most parameters (and buffers) a network may have, imported or "
        "submitted for training; checked on the meta device before anything is allocated. "
        "Unset: as many float32 values as fill 1/16 of the memory (the cgroup's limit "
        "where set).",
    )
    max_training_bytes: int | None = setting(
        "jobs",
        default=None,
        ge=1,
        description="The most memory one training job may need (weights, gradients, Adam's "
        "moments, one batch's activations), estimated at submission. Unset: half the memory.",
    )
    worker_memory_bytes: int | None = setting(
        "jobs",
        default=None,
        ge=1,
        description="Local workers: run each worker process in a memory cgroup of its own "
        "capped at this size, so the kernel kills a worker that outgrows it, never the API "
        "(needs a writable cgroup). Either way a worker the kernel kills for memory fails "
        "its job at once instead of retrying it.",
    )

    # inference (see DESIGN.md "Inference: batched, bounded, isolated")
    max_request_rows: int = setting(
        "inference", default=65536, ge=1, description="Rows in one inference request; past it 413."
    )
    request_timeout_s: float = setting(
        "inference",
        default=30.0,
        gt=0,
        description="An inference request unanswered by then gets 504.",
    )
    max_batch_rows: int = setting(
        "inference", default=4096, ge=1, description="Rows per batch, not requests."
    )
    max_wait_ms: float = setting(
        "inference",
        default=5.0,
        ge=0,
        description="While the device is busy, how long a batch stays open.",
    )
    max_queue_rows: int = setting(
        "inference",
        default=262144,
        ge=1,
        description="Rows waiting in all queues; past it 503 + Retry-After.",
    )
    model_cache_bytes: int = setting(
        "inference",
        default=1 << 30,
        ge=1,
        description="Loaded versions, least recently used out first: their weights, and what "
        "their backends hold beside (ONNX Runtime sessions, CUDA graph pools).",
    )
    preload: str = setting(
        "inference", default="", description="name@ref,... loaded and warm before /readyz."
    )
    inference_device: Literal["auto", "cpu", "cuda"] = setting(
        "inference", default="auto", description="auto: CUDA where present, else the CPU."
    )
    inference_backend: Literal["auto", "onnxruntime", "torch"] = setting(
        "inference",
        default="auto",
        description="What runs the inference routes' batches and batch jobs' chunks: auto is "
        "ONNX Runtime on a CPU and torch on a GPU. A version ONNX Runtime cannot run (or that "
        "answers differently from torch on a probe batch at load) runs on torch, with a log "
        "line saying why.",
    )
    inference_parallel_rows: int = setting(
        "inference",
        default=1024,
        ge=1,
        description="Torch on a CPU: batches of at least this many rows use all of torch's "
        "threads; smaller ones use one, leaving the other cores to HTTP.",
    )
    inference_inline_rows: int = setting(
        "inference",
        default=64,
        ge=0,
        description="A batch of at most this many rows runs on the event loop (the hand-off "
        "to the device's inference thread costs more); 0: every batch on the thread.",
    )
    inference_fast_path: bool = setting(
        "inference",
        default=True,
        description="The v1 inference routes skip the generic middleware stack and do its "
        "work (request id, body limit, metrics, auth) in one place (service.inference.api."
        "fastpath); false: they go through the stack like every other route.",
    )
    inference_cuda_graph_rows: int = setting(
        "inference",
        default=128,
        ge=0,
        le=4096,
        description="CUDA inference: batches of at most this many rows replay a CUDA graph "
        "captured at load for each power of two up to it (a batch is padded to the next; a "
        "small batch's time on a GPU is its kernel launches); 0: every batch eagerly.",
    )
    oip_shared_memory: bool = setting(
        "inference",
        default=False,
        description="The Open Inference Protocol's system shared memory extension (Triton's "
        "--allow-client-shm): clients register regions of POSIX shared memory objects in "
        "/dev/shm and pass tensors through them instead of the body. A client with the infer "
        "scope may then read and write the service user's objects named with "
        "AESVC_OIP_SHARED_MEMORY_PREFIX: turn it on only where the clients on this host are "
        "trusted.",
    )
    oip_shared_memory_prefix: str = setting(
        "inference",
        default="aesvc-",
        min_length=1,
        description="Only shared memory objects whose names start with this (and that the "
        "service's user owns) may be registered.",
    )
    oip_shared_memory_regions_per_key: int = setting(
        "inference",
        default=32,
        ge=1,
        le=256,
        description="Regions one API key may hold at once, of the 256 the service holds.",
    )
    oip_shared_memory_max_tensor_bytes: int = setting(
        "inference",
        default=1 << 30,
        ge=1,
        description="The most bytes one input or output tensor in a shared memory region may "
        "hold; past it 400. The rows a request may hold times a wide model's width could ask "
        "for tens of GB, and a region's object may be sparse (it costs its client nothing).",
    )
    warmup_batch_rows: tuple[int, ...] = setting(
        "inference",
        default=(1, 32),
        description="Batch sizes run once at load (max_batch_rows is added).",
    )
    ref_cache_s: float = setting(
        "inference",
        default=1.0,
        ge=0,
        description="How long a resolved {ref} is reused (0: every request).",
    )
    max_generate: int = setting(
        "inference", default=10000, ge=1, description="generate: the most samples."
    )
    max_interpolate_steps: int = setting(
        "inference", default=1000, ge=2, description="interpolate: the most steps."
    )

    @field_validator("artifact_url")
    @classmethod
    def _artifact_url_is_known(cls, value: str | None) -> str | None:
        """A folder, a file:// URL, or an object store obstore speaks; any other URL must
        not quietly become a relative folder named after it."""
        if value and "://" in value and not value.startswith("file://"):
            scheme = value.split("://", 1)[0]
            if provider_for(value) is None:
                raise ValueError(
                    f"AESVC_ARTIFACT_URL: {scheme}:// is not a known store here; give {KNOWN_FORMS}"
                )
            if not names_a_bucket(value):
                raise ValueError(f"AESVC_ARTIFACT_URL: {value} names no bucket or container")
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
    def allowed_host_names(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip())

    @property
    def resolved_rate_limit_per_s(self) -> float | None:
        if self.rate_limit_per_s is None:
            return None if self.auth == "disabled" else 50.0
        return self.rate_limit_per_s or None

    @property
    def resolved_quota_active_jobs(self) -> int | None:
        if self.quota_active_jobs is None:
            return None if self.auth == "disabled" else 100
        return self.quota_active_jobs or None

    @property
    def docs_are_public(self) -> bool:
        return self.auth == "disabled" if self.public_docs is None else self.public_docs

    @property
    def resolved_max_model_parameters(self) -> int:
        return self.max_model_parameters or machine_memory_bytes() // 16 // 4

    @property
    def resolved_max_import_bytes(self) -> int:
        """A model import's body: the largest network the service takes, every value a
        float64, and max_body_bytes for its header (config, metrics) and the form."""
        return self.resolved_max_model_parameters * 8 + self.max_body_bytes

    @property
    def resolved_max_training_bytes(self) -> int:
        return self.max_training_bytes or machine_memory_bytes() // 2

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aesvc.db').resolve()}"

    @property
    def artifact_in_object_store(self) -> bool:
        return bool(self.artifact_url) and provider_for(str(self.artifact_url)) is not None

    @property
    def resolved_artifact_root(self) -> Path:
        if self.artifact_url:
            return Path(self.artifact_url.removeprefix("file://")).resolve()
        return (self.data_dir / "artifacts").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def machine_memory_bytes() -> int:
    """This process's memory: the cgroup's limit where one is set, else the machine's."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            return min(physical, int(text))
    return physical
