"""What every grid write reads and takes first: the grid's revision and write lock, the columns a geometry is
stored in, existing cells by code and a cell's siblings. Used by imports (app.grids.imports) and edits
(app.grids.service)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import revisions
from app.grids.index import polygon_area_m2
from app.grids.models import GridCell
from app.grids.topology import Shape

CHUNK = 2000  # bound parameters per IN (...) stay far below SQLite's and asyncpg's limits

GRID = revisions.register("grid")


async def current_revision(session: AsyncSession) -> str:
    return (await revisions.tokens(session))[GRID]


async def lock_grid(session: AsyncSession) -> None:
    """Hold the grid's write lock until the request's transaction ends; call it before reading what a
    change must be checked against (siblings, parents, children, existing codes).

    The checks that keep the grid a partition compare new shapes with committed cells; two writers
    checking at once each miss the other's uncommitted cells, and both pass (two overlapping top-level
    imports both succeeded, 8 rounds of 8). The lock is the grid's row in ``revisions``
    (``SELECT ... FOR UPDATE``), which every grid change updates anyway: writers queue on it, and under
    READ COMMITTED each one's reads after it see what the writer before it committed. Readers take no
    lock and do not wait. On SQLite writers are serialised already (BEGIN IMMEDIATE) and the clause is
    not rendered.
    """
    await session.execute(
        select(revisions.Revision.name).where(revisions.Revision.name == GRID).with_for_update()
    )


async def bump_revision(session: AsyncSession) -> str:
    """Mark the grid as changed so every process rebuilds its index and cell directory on next use."""
    return await revisions.bump(session, GRID)


def geometry_columns(geom: BaseGeometry) -> dict[str, Any]:
    """The columns of grid_cells a WGS-84 geometry is stored in: its WKB, bounding box (degrees) and area (m²)."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {
        "geometry": shapely.to_wkb(geom),
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "area_m2": polygon_area_m2(geom),
    }


async def existing_cells(session: AsyncSession, codes: Sequence[str]) -> dict[str, GridCell]:
    """The cells among ``codes`` that exist, by code (one statement per ``CHUNK`` codes)."""
    found: dict[str, GridCell] = {}
    codes = list(codes)
    for start in range(0, len(codes), CHUNK):
        rows = await session.execute(select(GridCell).where(GridCell.code.in_(codes[start : start + CHUNK])))
        found.update({c.code: c for c in rows.scalars()})
    return found


async def siblings(session: AsyncSession, parent_id: int | None, exclude: int | None = None) -> list[Shape]:
    """The children of ``parent_id`` (None: the top-level cells) but ``exclude``, as committed shapes."""
    query = select(GridCell.id, GridCell.code, GridCell.geometry).where(
        GridCell.parent_id.is_(None) if parent_id is None else GridCell.parent_id == parent_id
    )
    rows = (await session.execute(query)).all()
    return [Shape(code, shapely.from_wkb(wkb), False) for cid, code, wkb in rows if cid != exclude]
