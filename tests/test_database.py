from __future__ import annotations

import json
import os

import pytest
from fastapi import Request
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from service.config import Settings
from service.context import AppContext
from service.database import (
    create_db_engine,
    current_revisions,
    downgrade,
    is_database_unavailable,
    migrate,
    migration_heads,
)
from service.datasets.tables import Dataset
from service.deps import get_session
from tests.live import free_port

TABLES = {"dataset", "alembic_version"}


def test_migrations_run_forward_back_and_forward(settings: Settings) -> None:
    url = settings.resolved_database_url
    heads = migration_heads(url)
    assert len(heads) == 1
    migrate(url)
    engine = create_db_engine(url)
    try:
        assert current_revisions(engine) == heads
        assert set(inspect(engine).get_table_names()) >= TABLES

        downgrade(url, "base")
        engine.dispose()  # fresh connections see the dropped tables
        assert current_revisions(engine) == set()
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate(url)
        engine.dispose()
        assert current_revisions(engine) == heads
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_sqlite_pragmas_are_on(settings: Settings) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite pragmas only")
    migrate(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        engine.dispose()


def test_sqlite_writes_commit_through_our_begin(settings: Settings) -> None:
    """pysqlite's own transactions are off; our BEGIN must still make writes durable."""
    if not settings.is_sqlite:
        pytest.skip("SQLite only")
    url = settings.resolved_database_url
    migrate(url)
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
        with engine.connect() as conn:
            conn.execute(text("INSERT INTO probe VALUES (2)"))
            conn.rollback()
        other = create_db_engine(url)
        try:
            with other.connect() as conn:
                assert conn.execute(text("SELECT x FROM probe")).scalars().all() == [1]
        finally:
            other.dispose()
    finally:
        engine.dispose()


def test_migrations_match_the_tables(settings) -> None:  # type: ignore[no-untyped-def]
    """A table change without its Alembic revision fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.all_tables import Base
    from service.database import create_db_engine, migrate

    migrate(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_a_write_session_reads_then_writes_while_another_writer_commits(settings) -> None:  # type: ignore[no-untyped-def]
    """The API's write sessions take the write lock when they begin: a read-then-write can
    never be refused with "database is locked" because another writer committed first."""
    import threading

    from sqlalchemy import func, select

    from service.context import AppContext
    from service.database import migrate
    from service.security import ApiKey

    migrate(settings.resolved_database_url)
    ctx = AppContext.from_settings(settings)
    try:
        first = ctx.write_session_factory()
        first.scalar(select(func.count()).select_from(ApiKey))  # a read opens the transaction

        def other_writer() -> None:
            with ctx.session_factory() as other:
                other.add(ApiKey(id="other", name="other", secret_sha256="0" * 64, scopes=["read"]))
                other.commit()

        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(timeout=0.5)  # on SQLite it waits for `first`; on PostgreSQL it is done
        first.add(ApiKey(id="first", name="first", secret_sha256="1" * 64, scopes=["read"]))
        first.commit()
        first.close()
        thread.join(timeout=30)
        assert not thread.is_alive()
        with ctx.session_factory() as check:
            assert set(check.scalars(select(ApiKey.id))) == {"first", "other"}
    finally:
        ctx.close()


def test_only_connection_errors_count_as_database_unavailable(settings: Settings) -> None:
    migrate(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with pytest.raises(DBAPIError) as bug, engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))
        assert not is_database_unavailable(bug.value)  # a bug stays a 500
    finally:
        engine.dispose()
    refused = create_db_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    try:
        with pytest.raises(OperationalError) as down:
            refused.connect()
        assert is_database_unavailable(down.value)
    finally:
        refused.dispose()


@pytest.mark.skipif(
    not os.environ.get("AESVC_TEST_DATABASE_URL"),
    reason="needs a PostgreSQL server (CI's PostgreSQL run provides one)",
)
def test_a_missing_postgresql_database_is_a_configuration_error_not_an_outage() -> None:
    admin = make_url(os.environ["AESVC_TEST_DATABASE_URL"])
    missing = create_db_engine(
        admin.set(database=f"no_such_db_{free_port()}").render_as_string(hide_password=False)
    )
    try:
        with pytest.raises(OperationalError) as wrong:
            missing.connect()
        assert not is_database_unavailable(wrong.value)  # a 500 and a loud log, not 503s
    finally:
        missing.dispose()


@pytest.mark.skipif(
    not os.environ.get("AESVC_TEST_DATABASE_URL"),
    reason="needs a PostgreSQL server (CI's PostgreSQL run provides one)",
)
def test_a_request_session_whose_connection_died_ends_without_raising(settings: Settings) -> None:
    """PostgreSQL stopping between a request's queries and its session's cleanup: the
    cleanup drops the dead connection instead of raising after the answer went out."""
    ctx = AppContext.from_settings(settings)
    try:
        request = Request({"type": "http", "method": "GET", "headers": [], "app": None})
        sessions = get_session(ctx, request)
        session = next(sessions)
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with ctx.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(StopIteration):
            next(sessions)  # the cleanup: it raised OperationalError before
        with ctx.session_factory() as fresh:  # the pool serves a live connection again
            assert fresh.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        ctx.close()


def test_the_profile_moves_out_of_stats_into_its_own_column(settings: Settings) -> None:
    """Migration 0012: a basic listing read each profile out of `stats` by a JSON path, and
    the database parsed the whole of `stats` (megabytes for a wide dataset) to find it."""
    url = settings.resolved_database_url
    migrate(url)
    downgrade(url, "0011")  # the fixture's database may be at head already
    engine = create_db_engine(url)
    profile = {"n_rows": 3, "n_features": 2, "min": -1.5, "image": False}
    insert = text(
        "insert into dataset (id,name,source_format,n_rows,n_features,feature_names,sha256,"
        "size_bytes,stats,builtin,created_at) values (:id,:id,'npy',3,2,'[]','a',1,:stats,"
        ":builtin,'2026-01-01 00:00:00')"
    )
    try:
        with engine.begin() as conn:
            stats = {"mean": [0.0, 1.0], "profile": profile}
            conn.execute(insert, {"id": "new", "stats": json.dumps(stats), "builtin": False})
            conn.execute(insert, {"id": "old", "stats": '{"mean": [0.0]}', "builtin": False})
        migrate(url)
        with Session(engine) as session:
            rows = {d.id: d for d in session.scalars(select(Dataset))}
        assert rows["new"].profile == profile and rows["new"].stats == stats
        assert rows["old"].profile is None
    finally:
        engine.dispose()


def test_the_coding_covariance_moves_out_of_metrics_into_its_own_column(
    settings: Settings,
) -> None:
    """Migration 0013: a version's coding_cov (code_size² numbers) was in `metrics`, which
    every read of the version parsed."""
    from service.registry.tables import Model, ModelVersion

    url = settings.resolved_database_url
    migrate(url)
    downgrade(url, "0012")
    engine = create_db_engine(url)
    insert = text(
        "insert into model_version (model_id,version,status,spec,config,metrics,history,"
        "artifact_sha256,size_bytes,n_features,code_size,kind,service_version,torch_version,"
        "created_at) values (1,:version,'ready','{}','{}',:metrics,'[]','a',1,3,2,'dense','x',"
        "'x','2026-01-01 00:00:00')"
    )
    with_cov = {"val_mse": 0.5, "coding_cov": [[1.0, 0.0], [0.0, 1.0]]}
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "insert into model (id,name,description,tags,last_version,created_at,"
                    "updated_at) values (1,'m','','{}',2,'2026-01-01 00:00:00',"
                    "'2026-01-01 00:00:00')"
                )
            )
            conn.execute(insert, {"version": 1, "metrics": json.dumps(with_cov)})
            conn.execute(insert, {"version": 2, "metrics": '{"val_mse": 0.25}'})
        migrate(url)
        with Session(engine) as session:
            rows = {v.version: v for v in session.scalars(select(ModelVersion))}
            assert rows[1].metrics == {"val_mse": 0.5}
            assert rows[1].serving_metrics() == with_cov
            assert rows[2].coding_cov is None and rows[2].serving_metrics() == {"val_mse": 0.25}
            assert session.get(Model, 1) is not None
        downgrade(url, "0012")
        with engine.connect() as conn:
            back = conn.execute(text("select metrics from model_version order by version"))
            assert [json.loads(m) if isinstance(m, str) else m for (m,) in back] == [
                with_cov,
                {"val_mse": 0.25},
            ]
        migrate(url)
    finally:
        engine.dispose()
