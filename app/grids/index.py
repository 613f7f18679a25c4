"""In-memory spatial index over every grid cell: the answer to "which cells contain this point".

Built from the database rows by :class:`GridIndexCache`, which tags it with the grid revision it
was read from and rebuilds in any process that sees another revision. The index itself is pure.

Rule for points on shared edges (documented, deterministic): cells *cover* their boundary, so a
point on an edge shared by two cells of the same parent is inside both; it is given to the cell
whose interior contains it if there is one, else to the cell with the smallest code. With codes
numbered west to east, north to south (docs/domain.md), that is the western / northern cell. The chain
is chosen top-down, so a point gets exactly one cell per level and every cell of its chain is the
parent of the next.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class CellRow:
    id: int
    parent_id: int | None
    code: str
    name: str
    level: int
    kind: str | None
    wkb: bytes
    path: str = ""


@dataclass(frozen=True)
class CellRef:
    id: int
    code: str
    name: str
    level: int
    kind: str | None
    parent_id: int | None
    path: str = ""  # the materialised chain of codes, as stored on the cell


class GridIndex:
    """An STRtree over all cells plus the tree links; ``locate`` is O(log n) per point."""

    def __init__(self, rows: Sequence[CellRow], revision: str) -> None:
        self.revision = revision
        self.cells = [CellRef(r.id, r.code, r.name, r.level, r.kind, r.parent_id, r.path) for r in rows]
        self._pos = {c.id: i for i, c in enumerate(self.cells)}
        self._parent_pos = np.array(
            [self._pos.get(c.parent_id, -1) if c.parent_id is not None else -1 for c in self.cells],
            dtype=np.int64,
        )
        self._geoms = shapely.from_wkb([r.wkb for r in rows]) if rows else np.empty(0, dtype=object)
        shapely.prepare(self._geoms)
        self._tree = STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self.cells)

    def locate(self, lon: float, lat: float) -> list[CellRef]:
        """The chain of cells containing (lon, lat) in WGS-84 degrees, deepest first; [] when outside."""
        point = shapely.Point(lon, lat)
        candidates = self._tree.query(point)
        if candidates.size == 0:
            return []
        covering = candidates[shapely.covers(self._geoms[candidates], point)]
        if covering.size == 0:
            return []
        chain: list[int] = []
        parent = -1
        remaining = set(covering.tolist())
        while True:
            level = [i for i in remaining if self._parent_pos[i] == parent]
            if not level:
                break
            chosen = self._pick(level, point)
            chain.append(chosen)
            remaining.discard(chosen)
            parent = chosen
        return [self.cells[i] for i in reversed(chain)]

    def _pick(self, positions: list[int], point: shapely.Point) -> int:
        if len(positions) == 1:
            return positions[0]
        inside = [i for i in positions if shapely.contains(self._geoms[i], point)]
        return min(inside or positions, key=lambda i: self.cells[i].code)

    def locate_linear(self, lon: float, lat: float) -> list[int]:
        """Ids of every cell covering the point by testing each one (the benchmark's baseline)."""
        point = shapely.Point(lon, lat)
        hits = np.flatnonzero(shapely.covers(self._geoms, point))
        return [self.cells[i].id for i in hits]


def polygon_area_m2(geom: shapely.geometry.base.BaseGeometry) -> float:
    """Area of a WGS-84 polygon in square metres (equirectangular at its centroid; < 0.1 % off for cells)."""
    if geom.is_empty:
        return 0.0
    lat0 = math.radians(geom.centroid.y)
    scale = (math.pi * EARTH_RADIUS_M / 180.0) ** 2 * math.cos(lat0)
    return float(geom.area * scale)


class GridIndexCache:
    """One process's index, rebuilt when the database's grid revision differs from the cached one."""

    def __init__(self) -> None:
        self._index: GridIndex | None = None
        self._lock = asyncio.Lock()

    @property
    def cached(self) -> GridIndex | None:
        return self._index

    async def get(self, revision: str, load_rows: Callable[[], Awaitable[list[CellRow]]]) -> GridIndex:
        """The index for ``revision``; ``load_rows()`` (async) is awaited only when a rebuild is needed."""
        index = self._index
        if index is not None and index.revision == revision:
            return index
        async with self._lock:
            index = self._index
            if index is not None and index.revision == revision:
                return index
            rows = await load_rows()
            # Building 100k polygons takes a while; keep the event loop free for other requests.
            index = await asyncio.to_thread(GridIndex, rows, revision)
            self._index = index
            return index
