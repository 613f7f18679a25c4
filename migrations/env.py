"""Alembic environment: async engines, batch mode on SQLite, URL from the app's settings.

A caller may pass an open connection in ``config.attributes["connection"]`` (the CLI and the
tests do) so that migrations run on it instead of opening their own.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from app.core.config import DatabaseSettings
from app.core.db import create_engine
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or DatabaseSettings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )


def _pragma(connection: Connection, sql: str) -> None:
    # Straight to the driver: through SQLAlchemy the statement would begin a transaction first, and SQLite
    # ignores foreign_keys inside one.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(sql)
    cursor.close()


def _run_sync(connection: Connection) -> None:
    # Batch mode copies a table, drops the old one and renames the copy; with foreign keys on, dropping a
    # table that other rows reference fails (a units table with unit staff, cases with history). SQLite's
    # documented procedure: keys off for the migration, then a foreign_key_check before it commits.
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        _pragma(connection, "PRAGMA foreign_keys=OFF")
    _configure(connection)
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"the migration left rows whose foreign keys point nowhere: {broken[:10]}"
                    )
    finally:
        if sqlite:
            _pragma(connection, "PRAGMA foreign_keys=ON")


async def _run_async() -> None:
    engine = create_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
