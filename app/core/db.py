"""Database plumbing: the declarative base, portable column types, engines and sessions.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) production. Everything
here behaves the same on both; where the engines differ (time zones, SQLite's transaction
handling) the difference is absorbed here, not in the domains.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names make migrations diff identically on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT for a city's years of rows.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware instant on every database.

    PostgreSQL keeps ``timestamptz``; SQLite keeps no offset at all, so values are normalised
    to UTC before writing and read back as UTC. A naive datetime is refused: an instant
    without an offset is ambiguous (docs/api.md: times carry an offset).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: give an offset")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over, as the
    # SQLAlchemy docs advise, and turn on what a service needs (FKs, WAL, waiting on locks).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads, then writes, cannot wait for another writer: SQLite
        # fails it at once with "database is locked". Requests that may write begin IMMEDIATE (take
        # the write lock first, waiting up to busy_timeout); reads stay deferred and concurrent.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    connect_timeout_s: float = 5.0,
    command_timeout_s: float | None = None,
) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``).

    On PostgreSQL, a connection attempt gives up after ``connect_timeout_s`` seconds (asyncpg waits 60 s
    by default, so a database dropped off the network held every request for a minute before its 503),
    and a statement after ``command_timeout_s`` seconds (None: never; the service sets it).
    """
    # Bound values never appear in error messages (and so in logs): they carry citizens' phone
    # numbers, descriptions and places.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    # Plan every statement with its values: asyncpg prepares statements, and after five runs PostgreSQL
    # may switch to a generic plan that guesses 0.5 % for every range filter; at a million cases that
    # turned a 3 ms supervisors' query into 300 ms (bench/bench_queries.py). Planning costs ~0.2 ms.
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout_s * 2,
        connect_args={
            "server_settings": {"plan_cache_mode": "force_custom_plan"},
            "timeout": connect_timeout_s,
            "command_timeout": command_timeout_s,
        },
    )


class Database:
    """An engine and the session factory bound to it (or to one connection, in tests)."""

    def __init__(self, engine: AsyncEngine, bind: AsyncEngine | AsyncConnection | None = None) -> None:
        self.engine = engine
        target = bind if bind is not None else engine
        extra: dict[str, Any] = {}
        if isinstance(target, AsyncConnection):
            # Tests run inside an outer transaction that is rolled back; each session's commit
            # becomes a savepoint release so the code under test still commits for real.
            extra["join_transaction_mode"] = "create_savepoint"
        self.sessionmaker = async_sessionmaker(target, expire_on_commit=False, **extra)
        # Sessions for requests that may write: on SQLite they take the write lock when they begin.
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if target is engine else target
        self.write_sessionmaker = async_sessionmaker(writer, expire_on_commit=False, **extra)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def session(self) -> AsyncIterator[AsyncSession]:
        """One session whose transaction the caller commits; rolled back if anything raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
