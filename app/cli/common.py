"""What every command shares: the Typer app, settings, one transaction per command, the schema check."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import bootstrap
from app.core.config import Settings, get_settings
from app.core.db import Database, create_engine
from app.core.errors import AppError

cli = typer.Typer(
    help="Grid Inspector: grid-based urban management service (网格化管理).",
    no_args_is_help=True,
    add_completion=False,
)
T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError: e.g. a default secret in production
        typer.echo(f"Configuration refused: {exc}", err=True)
        raise typer.Exit(2) from exc


async def in_transaction(settings: Settings, work: Callable[[AsyncSession, Database], Awaitable[T]]) -> T:
    engine = create_engine(settings.database.database_url)
    try:
        database = Database(engine)
        async with database.write_sessionmaker() as session:
            result = await work(session, database)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return run_with_database(settings, lambda session, _database: work(session))


def run_with_database(settings: Settings, work: Callable[[AsyncSession, Database], Awaitable[T]]) -> T:
    try:
        return asyncio.run(in_transaction(settings, work))
    except AppError as exc:
        typer.echo(f"Refused ({exc.code}): {exc.detail}", err=True)
        for err in exc.extra.get("errors", [])[:20]:
            typer.echo(f"  - {'.'.join(map(str, err.get('loc', [])))}: {err.get('msg')}", err=True)
        raise typer.Exit(1) from exc


async def seed_catalogue_if_empty(session: AsyncSession) -> bool:
    from app.categories.service import catalogue_is_empty, load_catalogue

    if await catalogue_is_empty(session):
        await load_catalogue(session)
        return True
    return False


def ensure_schema(settings: Settings) -> None:
    """Migrate the embedded SQLite database; on PostgreSQL only check that it is at head."""
    url = settings.database.database_url
    if settings.database.is_sqlite:
        bootstrap.upgrade(url)
        return

    async def at() -> str | None:
        engine = create_engine(url)
        try:
            return await bootstrap.current_revision(engine)
        finally:
            await engine.dispose()

    current, head = asyncio.run(at()), bootstrap.head_revision(url)
    if current != head:
        typer.echo(
            f"The database is at revision {current}, the code needs {head}: run `grid-inspector migrate` "
            "first.",
            err=True,
        )
        raise typer.Exit(2)
