"""``grid-inspector``: the operators' command line (API.md "Command line")."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app import bootstrap
from app.auth.models import Role
from app.core.config import DEV_SECRET_KEY, Settings, get_settings
from app.core.db import Database, create_engine
from app.core.errors import AppError
from app.geo.coords import CoordSystem

cli = typer.Typer(help="Grid Inspector: grid-based urban management service (网格化管理).", no_args_is_help=True,
                  add_completion=False)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError: e.g. a default secret in production
        typer.echo(f"Configuration refused: {exc}", err=True)
        raise typer.Exit(2) from exc


async def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(settings.database.database_url)
    try:
        async with Database(engine).write_sessionmaker() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_in_transaction(settings, work))
    except AppError as exc:
        typer.echo(f"Refused ({exc.code}): {exc.detail}", err=True)
        for err in exc.extra.get("errors", [])[:20]:
            typer.echo(f"  - {'.'.join(map(str, err.get('loc', [])))}: {err.get('msg')}", err=True)
        raise typer.Exit(1) from exc


async def _seed_catalogue_if_empty(session: AsyncSession) -> bool:
    from app.categories.service import catalogue_is_empty, load_catalogue

    if await catalogue_is_empty(session):
        await load_catalogue(session)
        return True
    return False


def _ensure_schema(settings: Settings) -> None:
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
        typer.echo(f"The database is at revision {current}, the code needs {head}: run `grid-inspector migrate` "
                   "first.", err=True)
        raise typer.Exit(2)


async def _working_demo_logins(session: AsyncSession) -> list[str]:
    from sqlalchemy import select

    from app.auth.models import User
    from app.core.security import verify_password
    from app.demo.builder import DEMO_LOGINS

    names = [login.username for login in DEMO_LOGINS]
    users = {u.username: u for u in (await session.execute(select(User).where(User.username.in_(names)))).scalars()}
    return [login.username for login in DEMO_LOGINS if login.username in users and users[login.username].active
            and verify_password(login.password, users[login.username].password_hash)]


def _print_logins() -> None:
    from app.demo.builder import DEMO_LOGINS, DEMO_LOGINS_HINT

    typer.echo(DEMO_LOGINS_HINT)
    for login in DEMO_LOGINS:
        typer.echo(f"  {login.username:<11} {login.password:<22} {login.role.value:<10}  {login.note}")


def _load_demo(settings: Settings) -> None:
    from app.demo.builder import build_demo, demo_present

    async def work(session: AsyncSession) -> bool:
        await _seed_catalogue_if_empty(session)
        if await demo_present(session):
            return False
        await build_demo(session)
        return True

    built = _run(settings, work)
    typer.echo("Demo data loaded: 崆峒区, 3 街道, unit cells, partner units, users." if built
               else "Demo data already present.")
    _print_logins()


@cli.command()
def serve(host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port")] = 8000,
          workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
          demo: Annotated[bool, typer.Option("--demo", help="load the demo data set if it is not there")] = False,
          ) -> None:
    """Run the HTTP service (migrating the embedded SQLite database first)."""
    import uvicorn

    settings = _settings()
    if demo and settings.env == "production":
        typer.echo("Refusing --demo in production: the demo logins are public.", err=True)
        raise typer.Exit(2)
    if host not in ("127.0.0.1", "localhost", "::1") and settings.auth.secret_key == DEV_SECRET_KEY:
        typer.echo(f"Refusing to listen on {host} with the development secret key (it is public, so anyone could "
                   "sign an admin token): set GRID_SECRET_KEY, or listen on 127.0.0.1.", err=True)
        raise typer.Exit(2)
    _ensure_schema(settings)
    if settings.env == "production":
        exposed = _run(settings, _working_demo_logins)
        if exposed:
            typer.echo(f"Refusing to serve in production: demo logins still work ({', '.join(exposed)}); disable "
                       "those users or change their passwords.", err=True)
            raise typer.Exit(2)
    if demo:
        _load_demo(settings)
    elif _run(settings, _seed_catalogue_if_empty):
        typer.echo("Category catalogue loaded (first start).")
    typer.echo(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    from app.core.logs import configure_logging

    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # A scrape reaches one worker: they share their values through files (prometheus-client's
        # multiprocess mode), in a directory of this run's own, so no stale values are summed.
        metrics_dir = tempfile.mkdtemp(prefix="grid-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # JSON log lines carrying the request id; the access line is the app's own (no query strings).
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level="info", log_config=configure_logging(), access_log=False,
                # SIGTERM (docker stop, systemd): stop accepting, let requests in flight finish for up to 20 s.
                timeout_graceful_shutdown=20)
    if metrics_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply database migrations (SQLite or PostgreSQL, from GRID_DATABASE_URL)."""
    from alembic.util.exc import CommandError

    settings = _settings()
    try:
        bootstrap.upgrade(settings.database.database_url, revision)
    except CommandError as exc:
        typer.echo(f"Migration refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Database at {revision}.")


@cli.command()
def demo() -> None:
    """Load the demo data set (崆峒区 grid, units, users) and print the demo logins."""
    settings = _settings()
    if settings.env == "production":
        typer.echo("Refusing to load demo data in production: the demo logins are public.", err=True)
        raise typer.Exit(2)
    _ensure_schema(settings)
    _load_demo(settings)


@cli.command("create-user")
def create_user(username: str,
                role: Annotated[Role, typer.Option(help="worker, unit_staff, dispatcher, supervisor or admin")],
                password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
                unit_id: Annotated[int | None, typer.Option(help="unit staff: their unit's id")] = None,
                grid_code: Annotated[list[str] | None, typer.Option(help="workers: a cell they patrol (repeat)")] = None,
                display_name: str = "") -> None:
    """Create a user (e.g. the first admin)."""
    from sqlalchemy import select

    from app.auth.schemas import UserCreate
    from app.auth.service import create_user as create
    from app.grids.models import GridCell

    settings = _settings()
    _ensure_schema(settings)

    async def work(session: AsyncSession) -> int:
        codes = list(grid_code or [])
        ids = dict((await session.execute(select(GridCell.code, GridCell.id).where(GridCell.code.in_(codes)))).all())
        missing = [c for c in codes if c not in ids]
        if missing:
            typer.echo(f"Unknown grid codes: {', '.join(missing)}", err=True)
            raise typer.Exit(1)
        user = await create(session, UserCreate(username=username, password=password, role=role, unit_id=unit_id,
                                                display_name=display_name, grid_ids=[ids[c] for c in codes]))
        return user.id

    try:
        user_id = _run(settings, work)
    except ValueError as exc:  # pydantic: a bad username or a short password
        typer.echo(f"Refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"User {username} ({role.value}) created with id {user_id}.")


@cli.command("import-grids")
def import_grids(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
                 coord_system: Annotated[CoordSystem, typer.Option(help="datum of the file's coordinates")]
                 = CoordSystem.wgs84,
                 skip_existing: Annotated[bool, typer.Option(help="keep cells whose code exists, import the rest")]
                 = False) -> None:
    """Import grid cells from a GeoJSON file (FeatureCollection or a bare array of Features)."""
    from app.grids.geojson import loads_strict
    from app.grids.service import import_features

    settings = _settings()
    _ensure_schema(settings)
    try:
        doc = loads_strict(file.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"{file}: not valid JSON: {exc}", err=True)
        raise typer.Exit(1) from exc
    outcome = _run(settings, lambda s: import_features(s, doc, coord_system, settings.grids.max_import_features,
                                                       on_existing="skip" if skip_existing else "error"))
    created = outcome.created
    typer.echo(f"Imported {len(created)} grid cells: {', '.join(created[:10])}{' ...' if len(created) > 10 else ''}")
    if outcome.skipped:
        typer.echo(f"  kept {len(outcome.skipped)} existing: {', '.join(outcome.skipped[:10])}")
    for note in outcome.repaired:
        typer.echo(f"  repaired feature {note['index']} ({note['code']}): {note['repaired']}")


@cli.command("load-categories")
def load_categories(file: Annotated[Path | None, typer.Argument(exists=True, dir_okay=False)] = None) -> None:
    """Load (insert or update) the category catalogue from FILE, or the one shipped with the service."""
    from app.categories.service import DEFAULT_CATALOGUE, CatalogueInvalid, load_catalogue

    settings = _settings()
    _ensure_schema(settings)
    path = file or DEFAULT_CATALOGUE
    try:
        result = _run(settings, lambda s: load_catalogue(s, path))
    except (CatalogueInvalid, json.JSONDecodeError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Catalogue {path.name}: {result.majors} major classes, {result.created} categories created, "
               f"{result.updated} updated.")


@cli.command("sweep-orphans")
def sweep_orphans(older_than: Annotated[float, typer.Option(min=0, help="grace period in seconds: younger files may "
                                                            "belong to an upload in flight")] = 3600.0,
                  dry_run: Annotated[bool, typer.Option("--dry-run", help="count, delete nothing")] = False,
                  servers_stopped: Annotated[bool, typer.Option("--servers-stopped", help="every server is stopped: "
                                                                "allow a grace period under 10 minutes")] = False,
                  ) -> None:
    """Delete photo files that no photos row references (left by a process killed mid-upload) and stale
    .tmp-* files, when older than --older-than seconds. Exits 1 when photos rows lack their original."""
    from app.photos.service import make_storage
    from app.photos.sweeper import sweep_orphans as sweep

    if older_than < 600 and not servers_stopped and not dry_run:
        # A file written by an upload in flight has no row yet: a short grace period deletes it under the
        # case that is about to commit (seen under load with --older-than 0).
        typer.echo("Refusing a grace period under 600 s while servers may be uploading; stop every server and "
                   "add --servers-stopped, or use --dry-run.", err=True)
        raise typer.Exit(2)
    settings = _settings()
    _ensure_schema(settings)
    missing = 0

    async def work() -> list[str]:
        nonlocal missing
        engine = create_engine(settings.database.database_url)
        try:
            report = await sweep(make_storage(settings), Database(engine), older_than=older_than, dry_run=dry_run,
                                 progress=lambda msg: typer.echo(f"  ... {msg}", err=True))
        finally:
            await engine.dispose()
        missing = report.missing_originals
        return report.lines()

    for line in asyncio.run(work()):
        typer.echo(line)
    if missing:
        raise typer.Exit(1)  # rows whose photo is gone: an operator must look (restore from backup)


def main() -> None:
    cli(sys.argv[1:], prog_name="grid-inspector")


if __name__ == "__main__":
    main()
