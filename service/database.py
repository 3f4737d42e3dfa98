"""Engine, sessions and the declarative Base shared by every domain's tables."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: how long opening a connection may take, and how long a request waits for a
# pooled one, before it is answered "database unavailable" instead of hanging.
PG_CONNECT_TIMEOUT_S = 3
POOL_TIMEOUT_S = 10.0
# SQLite raises OperationalError for bugs too ("no such table"); only these mean "not now".
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")
# admin_shutdown, crash_shutdown, cannot_connect_now (starting up), too_many_connections
PG_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
PG_REFUSED_FOR_GOOD = ("does not exist", "authentication failed", "no pg_hba.conf entry")
log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_db_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        # pre_ping replaces the pool's dead connections after a database restart; the
        # connect timeout bounds a request while the server is unreachable.
        connect_args: dict[str, Any] = {}
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            pool_timeout=POOL_TIMEOUT_S,
            connect_args=connect_args,
        )
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is turned off so that BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        # A write that must see a consistent snapshot (a job claim) asks for IMMEDIATE,
        # which takes the write lock at BEGIN instead of failing on upgrade later.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_database_unavailable(exc: BaseException) -> bool:
    """True for errors that say "the database cannot be reached now" rather than "this
    statement is wrong": a refused or dropped connection, a server shutting down or starting
    up, a pool with no connection to give, a locked SQLite file."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    if isinstance(exc.orig, sqlite3.Error):
        message = str(exc.orig).lower()
        return any(text in message for text in SQLITE_UNAVAILABLE)
    # PostgreSQL: with a SQLSTATE, only connection exceptions, shutdowns and "too many
    # connections" are transient. Without one, the connection failed: transient, unless the
    # server refused us for good (psycopg gives no SQLSTATE there, only the server's words).
    # A wrong password or a missing database is a configuration error: retrying won't help.
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate.startswith("08") or sqlstate in PG_TRANSIENT_SQLSTATES
    message = str(exc.orig).lower()
    return not any(text in message for text in PG_REFUSED_FOR_GOOD)


def first_line(exc: BaseException) -> str:
    """An error's first line: SQLAlchemy's messages run on with the statement and a URL."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def retry_while_unavailable(
    action: Callable[[], T],
    *,
    what: str,
    give_up_after_s: float = 300.0,
    stopping: threading.Event | None = None,
    first_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
) -> T:
    """Run `action`; while the database is unavailable, wait (backing off) and run it again.

    Only for actions that are safe to repeat (conditional updates, idempotent inserts).
    Any other error, or the last one after `give_up_after_s` or once `stopping` is set,
    is raised.
    """
    deadline = time.monotonic() + give_up_after_s
    delay_s = first_delay_s
    while True:
        try:
            return action()
        except Exception as exc:
            if not is_database_unavailable(exc) or time.monotonic() + delay_s > deadline:
                raise
            log.warning(
                "%s: database unavailable (%s); retrying in %.1f s", what, first_line(exc), delay_s
            )
        if stopping is not None and stopping.wait(delay_s):
            return action()  # one last try, so that a stopping worker still reports
        if stopping is None:
            time.sleep(delay_s)
        delay_s = min(delay_s * 2, max_delay_s)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(url), revision)


def migration_heads(url: str) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(_alembic_config(url)).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except Exception as exc:
            if is_database_unavailable(exc):
                raise
            return set()  # no alembic_version table: nothing migrated yet
    return {row[0] for row in rows}
