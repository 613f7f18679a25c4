"""Keeping a running service in order: ``sweep-orphans``, ``notify``, ``sweep-deadlines``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from app.cli.common import cli, ensure_schema, settings_or_exit
from app.core.db import Database, create_engine


@cli.command("sweep-orphans")
def sweep_orphans(
    older_than: Annotated[
        float,
        typer.Option(min=0, help="grace period in seconds: younger files may belong to an upload in flight"),
    ] = 3600.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count, delete nothing")] = False,
    servers_stopped: Annotated[
        bool,
        typer.Option(
            "--servers-stopped", help="every server is stopped: allow a grace period under 10 minutes"
        ),
    ] = False,
) -> None:
    """Delete photo files that no photos row references (left by a process killed mid-upload) and stale
    .tmp-* files, when older than --older-than seconds. Exits 1 when photos rows lack their original."""
    from app.photos.service import make_storage
    from app.photos.sweeper import sweep_orphans as sweep

    if older_than < 600 and not servers_stopped and not dry_run:
        # A file written by an upload in flight has no row yet: a short grace period deletes it under the
        # case that is about to commit (seen under load with --older-than 0).
        typer.echo(
            "Refusing a grace period under 600 s while servers may be uploading; stop every server and "
            "add --servers-stopped, or use --dry-run.",
            err=True,
        )
        raise typer.Exit(2)
    settings = settings_or_exit()
    ensure_schema(settings)
    missing = 0

    async def work() -> list[str]:
        nonlocal missing
        engine = create_engine(settings.database.database_url)
        try:
            report = await sweep(
                make_storage(settings),
                Database(engine),
                older_than=older_than,
                dry_run=dry_run,
                progress=lambda msg: typer.echo(f"  ... {msg}", err=True),
            )
        finally:
            await engine.dispose()
        missing = report.missing_originals
        return report.lines()

    for line in asyncio.run(work()):
        typer.echo(line)
    if missing:
        raise typer.Exit(1)  # rows whose photo is gone: an operator must look (restore from backup)


@cli.command("notify")
def notify(
    once: Annotated[
        bool, typer.Option("--once", help="one delivery round and one deadline sweep, then stop")
    ] = False,
) -> None:
    """Deliver notifications and sweep deadlines without serving HTTP (``serve`` does it too, by default).
    Any number of these and of ``serve`` processes share the work through the database."""
    import signal

    from app.notifications import deadlines, worker

    settings = settings_or_exit()
    ensure_schema(settings)

    async def work() -> None:
        engine = create_engine(settings.database.database_url)
        db = Database(engine)
        try:
            if once:
                swept = await deadlines.sweep(db, settings)
                async with worker.http_client(settings) as client:
                    sent = await worker.deliver_once(db, settings, client, worker.worker_id())
                typer.echo(f"Deadline notices emitted: {swept}; deliveries attempted: {sent}.")
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            typer.echo("Delivering notifications and sweeping deadlines; SIGTERM stops.")
            await asyncio.gather(worker.run(db, settings, stop), deadlines.run(db, settings, stop))
        finally:
            await engine.dispose()

    asyncio.run(work())


@cli.command("sweep-deadlines")
def sweep_deadlines() -> None:
    """Emit the deadline warnings and overdue notices due now (once); ``serve`` and ``notify`` sweep by themselves."""
    from app.notifications import deadlines

    settings = settings_or_exit()
    ensure_schema(settings)

    async def work() -> int:
        engine = create_engine(settings.database.database_url)
        try:
            return await deadlines.sweep(Database(engine), settings)
        finally:
            await engine.dispose()

    typer.echo(f"Deadline notices emitted: {asyncio.run(work())}.")
