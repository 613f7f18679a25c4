"""Loading the reference data: ``create-user``, ``import-grids``, ``load-categories``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.cli.common import cli, ensure_schema, run, settings_or_exit
from app.geo.coords import CoordSystem


@cli.command("create-user")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(help="worker, unit_staff, dispatcher, supervisor or admin")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    unit_id: Annotated[int | None, typer.Option(help="unit staff: their unit's id")] = None,
    grid_code: Annotated[list[str] | None, typer.Option(help="workers: a cell they patrol (repeat)")] = None,
    display_name: str = "",
) -> None:
    """Create a user (e.g. the first admin)."""
    from sqlalchemy import select

    from app.grids.models import GridCell
    from app.users.schemas import UserCreate
    from app.users.service import create_user as create

    settings = settings_or_exit()
    ensure_schema(settings)

    async def work(session: AsyncSession) -> int:
        codes = list(grid_code or [])
        ids = dict(
            (await session.execute(select(GridCell.code, GridCell.id).where(GridCell.code.in_(codes)))).all()
        )
        missing = [c for c in codes if c not in ids]
        if missing:
            typer.echo(f"Unknown grid codes: {', '.join(missing)}", err=True)
            raise typer.Exit(1)
        user = await create(
            session,
            UserCreate(
                username=username,
                password=password,
                role=role,
                unit_id=unit_id,
                display_name=display_name,
                grid_ids=[ids[c] for c in codes],
            ),
        )
        return user.id

    try:
        user_id = run(settings, work)
    except ValueError as exc:  # pydantic: a bad username or a short password
        typer.echo(f"Refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"User {username} ({role.value}) created with id {user_id}.")


@cli.command("import-grids")
def import_grids(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    coord_system: Annotated[
        CoordSystem, typer.Option(help="datum of the file's coordinates")
    ] = CoordSystem.wgs84,
    skip_existing: Annotated[
        bool, typer.Option(help="keep cells whose code exists, import the rest")
    ] = False,
) -> None:
    """Import grid cells from a GeoJSON file (FeatureCollection or a bare array of Features)."""
    from app.grids.geojson import loads_strict
    from app.grids.service import import_features

    settings = settings_or_exit()
    ensure_schema(settings)
    try:
        doc = loads_strict(file.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"{file}: not valid JSON: {exc}", err=True)
        raise typer.Exit(1) from exc
    outcome = run(
        settings,
        lambda s: import_features(
            s,
            doc,
            coord_system,
            settings.grids.max_import_features,
            on_existing="skip" if skip_existing else "error",
        ),
    )
    created = outcome.created
    typer.echo(
        f"Imported {len(created)} grid cells: {', '.join(created[:10])}{' ...' if len(created) > 10 else ''}"
    )
    if outcome.skipped:
        typer.echo(f"  kept {len(outcome.skipped)} existing: {', '.join(outcome.skipped[:10])}")
    for note in outcome.repaired:
        typer.echo(f"  repaired feature {note['index']} ({note['code']}): {note['repaired']}")


@cli.command("load-categories")
def load_categories(file: Annotated[Path | None, typer.Argument(exists=True, dir_okay=False)] = None) -> None:
    """Load (insert or update) the category catalogue from FILE, or the one shipped with the service."""
    from app.categories.service import DEFAULT_CATALOGUE, CatalogueInvalid, load_catalogue

    settings = settings_or_exit()
    ensure_schema(settings)
    path = file or DEFAULT_CATALOGUE
    try:
        result = run(settings, lambda s: load_catalogue(s, path))
    except (CatalogueInvalid, json.JSONDecodeError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"Catalogue {path.name}: {result.majors} major classes, {result.created} categories created, "
        f"{result.updated} updated."
    )
