"""Routing with the database: locate the point, gather the chain's assignments, apply the rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.models import Category
from app.categories.service import get_category
from app.grids import service as grids
from app.grids.index import CellRef, GridIndexCache
from app.routing.rules import Candidate, ChainCell, Decision, route
from app.units.models import Assignment, Unit


@dataclass(frozen=True)
class Routed:
    chain: list[CellRef]
    category: Category
    decision: Decision


async def candidates_on(session: AsyncSession, cell_ids: Sequence[int]) -> dict[int, list[Candidate]]:
    """Assignments of active units on the given cells, by cell id."""
    rows = await session.execute(
        select(Assignment.id, Assignment.unit_id, Unit.name, Assignment.grid_id, Assignment.category_code)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.grid_id.in_(list(cell_ids)), Unit.active.is_(True))
    )
    by_cell: dict[int, list[Candidate]] = defaultdict(list)
    for assignment_id, unit_id, unit_name, grid_id, category_code in rows:
        by_cell[grid_id].append(Candidate(assignment_id, unit_id, unit_name, grid_id, category_code))
    return by_cell


async def route_point(
    session: AsyncSession, cache: GridIndexCache, lon: float, lat: float, category_code: str
) -> Routed:
    """Who answers for ``category_code`` at (lon, lat) WGS-84 degrees, and why.

    Raises 422 ``unknown_category`` or ``outside_service_area``. Rules: app.routing.rules.
    """
    category = await get_category(session, category_code)
    chain = await grids.locate(session, cache, lon, lat)
    cells = [ChainCell(c.id, c.code, c.name, c.level) for c in chain]
    decision = route(cells, category.code, await candidates_on(session, [c.id for c in chain]))
    return Routed(chain=chain, category=category, decision=decision)
