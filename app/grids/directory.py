"""Every grid cell's name and place in the tree, without geometry: what cases, lists and users show of a
cell, and the patrol paths that visibility reads. A per-process copy, refreshed when the grid changes
(app.core.revisions, name ``grid``); the spatial index (app.grids.index) is the geometry's counterpart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.revisions import Cached
from app.grids.models import GridCell


@dataclass(frozen=True)
class Cell:
    id: int
    code: str
    name: str
    level: int
    kind: str | None
    parent_id: int | None
    path: str  # the materialised chain of codes from the root, "/620802/620802002/"


@dataclass(frozen=True)
class Directory:
    by_id: dict[int, Cell]
    by_code: dict[str, Cell]
    parent_ids: frozenset[int]  # cells that have children

    def paths(self, cell_ids: Iterable[int]) -> list[str]:
        """The paths of the cells among ``cell_ids`` that exist."""
        return [self.by_id[i].path for i in cell_ids if i in self.by_id]

    def has_children(self, cell_id: int) -> bool:
        return cell_id in self.parent_ids


async def _load(session: AsyncSession) -> Directory:
    rows = await session.execute(
        select(
            GridCell.id,
            GridCell.code,
            GridCell.name,
            GridCell.level,
            GridCell.kind,
            GridCell.parent_id,
            GridCell.path,
        )
    )
    cells = [Cell(*r) for r in rows]
    parents = frozenset(c.parent_id for c in cells if c.parent_id is not None)
    return Directory(by_id={c.id: c for c in cells}, by_code={c.code: c for c in cells}, parent_ids=parents)


CELLS = Cached("grid", _load)


async def directory(session: AsyncSession) -> Directory:
    """The cell directory as of the grid revision ``session`` sees (no statement when it is current)."""
    return await CELLS.get(session)
