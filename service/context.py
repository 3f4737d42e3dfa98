"""What one process of the service holds: settings, database, artifact store, and what the
lifespan starts (inference, workers), each a typed attribute."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore
from service.config import Settings
from service.database import create_db_engine, create_session_factory
from service.inference.oip.shared_memory import SharedMemoryRegistry
from service.json_answers import RenderedCache
from service.object_store import open_store
from service.registry.deletion import DeleteGuard
from service.tmpfiles import sweep
from service.training.service import refuse_while_training

if TYPE_CHECKING:  # typing only: these modules import this one
    from service.executors.local import WorkerPool
    from service.executors.ray_executor import RayDispatcher
    from service.health import DatabaseCheck
    from service.inference.runtime.cache import LoadedModel, ModelCache, Preloader
    from service.inference.runtime.engine import InferenceEngine
    from service.json_bodies import JsonBodyPool
    from service.rate_limits import RateLimiter
    from service.sweeps.background import SweepAdvancer
    from service.training.streams import JobStreams
    from service.ui.service import PlotCache

# Rendered full views of datasets kept per process: two or three of the widest (tens of MB
# each), or thousands of narrow ones
DATASET_ANSWER_BYTES = 64 << 20


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    store: ArtifactStore
    # Sessions for requests that write. On SQLite their transactions BEGIN IMMEDIATE (when
    # they first touch the database): a deferred one that reads, then writes after another
    # connection committed, fails with "database is locked" instead of waiting its turn.
    write_session_factory: sessionmaker[Session]
    shared_memory: SharedMemoryRegistry  # the OIP system shared memory regions
    # What the registry asks before deleting a model: training refuses while a job will
    # still add a version to it (the registry imports nothing of training).
    model_delete_guard: DeleteGuard = refuse_while_training
    # Started by the lifespan (None before it, and where this process starts none)
    inference_engine: InferenceEngine | None = None
    model_cache: ModelCache | None = None
    preloader: Preloader | None = None
    worker_pool: WorkerPool | RayDispatcher | None = None
    sweep_advancer: SweepAdvancer | None = None  # moves running sweeps on
    json_bodies: JsonBodyPool | None = None  # large JSON bodies parsed off the event loop
    job_streams: JobStreams | None = None  # the jobs' event streams, their caps and feeds
    rate_limiter: RateLimiter | None = None  # per-caller request rates (service.rate_limits)
    # Per-process state of the routes
    plot_cache: PlotCache | None = None  # the dashboard's rendered PNGs (service.ui)
    # The full views of recently read datasets, as JSON (service.json_answers)
    dataset_answers: RenderedCache = field(
        default_factory=lambda: RenderedCache(DATASET_ANSWER_BYTES)
    )
    ref_lookups: dict[tuple[str, str], asyncio.Future[LoadedModel]] = field(default_factory=dict)
    readiness_check: DatabaseCheck | None = None  # the database probe in flight, or the last
    migration_heads: set[str] | None = None  # of the code, read once

    def inference(self) -> tuple[InferenceEngine, ModelCache]:
        """The inference engine and model cache (started by the app's lifespan)."""
        if self.inference_engine is None or self.model_cache is None:
            raise RuntimeError("inference has not started: the app's lifespan starts it")
        return self.inference_engine, self.model_cache

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        store = open_store(settings)
        store.check()  # a missing bucket or refused credentials: refused now, not later
        engine = create_db_engine(settings.resolved_database_url)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            store=store,
            write_session_factory=create_session_factory(
                engine.execution_options(sqlite_begin="IMMEDIATE")
            ),
            shared_memory=SharedMemoryRegistry(
                enabled=settings.oip_shared_memory,
                prefix=settings.oip_shared_memory_prefix,
                regions_per_owner=settings.oip_shared_memory_regions_per_key,
                max_tensor_bytes=settings.oip_shared_memory_max_tensor_bytes,
            ),
        )

    def sweep_abandoned_temp_files(self) -> list[Path]:
        """Temp files of writers killed mid-write (blobs, checkpoints, upload spools)."""
        return self.store.sweep_abandoned() + sweep(self.settings.data_dir / "tmp")

    def close(self) -> None:
        self.engine.dispose()
