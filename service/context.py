"""What one process of the service holds: settings, database, artifact store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.artifacts import ArtifactStore
from service.config import Settings
from service.database import create_db_engine, create_session_factory
from service.object_store import open_store
from service.tmpfiles import sweep


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
    extras: dict[str, Any] = field(default_factory=dict)

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
        )

    def sweep_abandoned_temp_files(self) -> list[Path]:
        """Temp files of writers killed mid-write (blobs, checkpoints, upload spools)."""
        return self.store.sweep_abandoned() + sweep(self.settings.data_dir / "tmp")

    def close(self) -> None:
        self.engine.dispose()
