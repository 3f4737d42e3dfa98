"""Alembic environment: the URL comes from the caller's config (service.database.migrate)."""

from __future__ import annotations

from alembic import context

from service.all_tables import Base
from service.database import create_db_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_db_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (copy, DROP, rename); with foreign keys on,
            # the DROP fires the ON DELETE actions of the tables that refer to it (a job's
            # events deleted, a trial's sweep_id nulled). The pragma is a no-op inside a
            # transaction: set on the driver's connection before SQLAlchemy begins one.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            migrations = context.get_context()
            before = migrations.get_current_heads()
            context.run_migrations()
            # what the rebuilds left must still hold together (checked where one ran: the
            # check reads every row)
            if sqlite and migrations.get_current_heads() != before:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
