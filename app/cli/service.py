"""Running the service: ``serve``, ``migrate``, ``demo``."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import (
    cli,
    ensure_schema,
    run,
    run_with_database,
    seed_catalogue_if_empty,
    settings_or_exit,
)
from app.core import bootstrap
from app.core.config import DEV_SECRET_KEY, Settings
from app.core.db import Database


def _print_logins() -> None:
    from app.demo.credentials import login_table

    for line in login_table():
        typer.echo(line)


def _load_demo(settings: Settings, history: bool = True) -> None:
    from app.demo import campaign
    from app.demo.builder import build_demo, demo_present
    from app.demo.history import Loaded, load_history, summary

    async def work(
        session: AsyncSession, database: Database
    ) -> tuple[bool, Loaded | None, campaign.CampaignLoaded | None]:
        await seed_catalogue_if_empty(session)
        built = not await demo_present(session)
        if built:
            await build_demo(session)
        # The history first: it loads only into a database without cases, and the campaign's past opens some.
        loaded = await load_history(session, settings, database) if history else None
        past = await campaign.load_campaign(session, settings, database) if built else None
        return built, loaded, past

    built, loaded, past = run_with_database(settings, work)
    typer.echo(
        "Demo data loaded: 崆峒区, 3 街道, unit cells, partner units, users."
        if built
        else "Demo data already present."
    )
    if loaded is not None:
        typer.echo(summary(loaded))
    elif history:
        typer.echo("Demo history not loaded: the database has cases already.")
    if past is not None:
        typer.echo(campaign.summary(past))
    _print_logins()


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="load the demo data set and its history of cases if not there")
    ] = False,
) -> None:
    """Run the HTTP service (migrating the embedded SQLite database first)."""
    import uvicorn

    settings = settings_or_exit()
    if demo and settings.env == "production":
        typer.echo("Refusing --demo in production: the demo logins are public.", err=True)
        raise typer.Exit(2)
    if host not in ("127.0.0.1", "localhost", "::1") and settings.auth.secret_key == DEV_SECRET_KEY:
        typer.echo(
            f"Refusing to listen on {host} with the development secret key (it is public, so anyone could "
            "sign an admin token): set GRID_SECRET_KEY, or listen on 127.0.0.1.",
            err=True,
        )
        raise typer.Exit(2)
    ensure_schema(settings)
    if settings.env == "production":
        from app.demo.credentials import working_credentials

        exposed = run(settings, working_credentials)
        if exposed:
            typer.echo(
                f"Refusing to serve in production: demo logins still work ({', '.join(exposed)}); disable "
                "those users or change their passwords"
                + (
                    ", revoke the key (DELETE /api/v1/api-keys/{id})."
                    if "Open311 key" in exposed[-1]
                    else "."
                ),
                err=True,
            )
            raise typer.Exit(2)
    if demo:
        _load_demo(settings)
    elif run(settings, seed_catalogue_if_empty):
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
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        log_config=configure_logging(),
        access_log=False,
        # SIGTERM (docker stop, systemd): stop accepting, let requests in flight finish for up to 20 s.
        timeout_graceful_shutdown=20,
    )
    if metrics_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply database migrations (SQLite or PostgreSQL, from GRID_DATABASE_URL)."""
    from alembic.util.exc import CommandError

    settings = settings_or_exit()
    try:
        bootstrap.upgrade(settings.database.database_url, revision)
    except CommandError as exc:
        typer.echo(f"Migration refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Database at {revision}.")


@cli.command()
def demo(
    history: Annotated[
        bool, typer.Option(help="also load three months of cases (into a database that has none yet)")
    ] = True,
) -> None:
    """Load the demo data set (崆峒区 grid, units, users, and a history of cases) and print the demo logins."""
    settings = settings_or_exit()
    if settings.env == "production":
        typer.echo("Refusing to load demo data in production: the demo logins are public.", err=True)
        raise typer.Exit(2)
    ensure_schema(settings)
    _load_demo(settings, history)
