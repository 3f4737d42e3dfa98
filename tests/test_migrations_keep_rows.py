"""Upgrading (and downgrading) a SQLite database that holds rows keeps them: a batch-mode
table rebuild (copy, DROP, rename) with foreign keys on fired the ON DELETE actions of the
tables that refer to it (a job's events and batch chunks deleted, trials' sweep_id nulled)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from service.config import Settings
from service.database import create_db_engine, downgrade, migrate

NOW = "2026-01-01 00:00:00"


def _seed_job(conn: Connection, *, kind: bool = False, sweep: bool = False) -> None:
    conn.execute(
        text(
            "insert into dataset (id,name,source_format,n_rows,n_features,feature_names,sha256,"
            "size_bytes,stats,builtin,created_at) values ('d1','ds','npy',1,1,'[]','a',1,'{}',0,:n)"
        ),
        {"n": NOW},
    )
    if sweep:
        conn.execute(
            text(
                "insert into sweep (id,model_name,request,search,status,trials,baseline,created_at)"
                " values ('s1','m','{}','grid','running','[]','{}',:n)"
            ),
            {"n": NOW},
        )
    cols = (
        "id,model_name,dataset_id,spec,status,priority,attempt,max_attempts,attempt_errors,"
        "created_at"
    )
    vals = "'j1','m','d1','{}','running',0,1,3,'[]',:n"
    if sweep:
        cols, vals = cols + ",sweep_id", vals + ",'s1'"
    conn.execute(text(f"insert into job ({cols}) values ({vals})"), {"n": NOW})
    conn.execute(
        text("insert into job_event (job_id,kind,data,created_at) values ('j1','state','{}',:n)"),
        {"n": NOW},
    )
    if kind:
        conn.execute(
            text(
                "insert into batch_chunk (job_id,position,first_row,n_rows,sha256)"
                " values ('j1',0,0,1,'a')"
            )
        )


@pytest.mark.parametrize("revision", ["0005", "0006", "0007"])
def test_upgrading_sqlite_to_head_keeps_job_events_and_batch_chunks(
    tmp_path: Path, revision: str
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"  # a database last migrated to `revision`
    migrate(url, revision)
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            _seed_job(conn, kind=revision >= "0007")
        engine.dispose()
        migrate(url)
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from job")).scalar() == 1
            # 0008's create_foreign_key rebuilds `job`; DROP TABLE job cascades
            assert conn.execute(text("select count(*) from job_event")).scalar() == 1
            if revision >= "0007":
                assert conn.execute(text("select count(*) from batch_chunk")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.unseeded
def test_downgrading_0010_keeps_the_trials_attached_to_their_sweep(settings: Settings) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite batch mode")
    url = settings.resolved_database_url
    migrate(url)
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            _seed_job(conn, sweep=True)
        engine.dispose()
        downgrade(url, "0009")  # drop sweep.api_key_id: rebuilds `sweep`
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("select sweep_id from job")).scalar() == "s1"
    finally:
        engine.dispose()
