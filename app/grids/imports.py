"""Importing grid cells from GeoJSON: every cell of a document, parents before children, or none of them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.errors import ValidationProblem
from app.core.i18n import Text
from app.geo.coords import CoordSystem
from app.grids.geojson import FeatureSpec, ImportErrors, parse_features
from app.grids.models import GridCell
from app.grids.store import CHUNK, bump_revision, existing_cells, geometry_columns, lock_grid, siblings
from app.grids.topology import Shape, outside_parent, sibling_overlaps

MAX_PATH = 512  # grid_cells.path


def _refused(errors: list[dict[str, Any]]) -> ValidationProblem:
    return ValidationProblem(
        errors[:50],
        detail=Text(
            f"{len(errors)} 处要素有问题，未导入任何网格",
            f"{len(errors)} feature problem(s); nothing was imported",
        ),
    )


def _err(spec: FeatureSpec, field: str, msg: str, type_: str) -> dict[str, Any]:
    return {
        "loc": ["features", spec.index, *field.split(".")],
        "index": spec.index,
        "msg": msg,
        "type": type_,
    }


@dataclass
class ImportOutcome:
    created: list[str]  # codes, in insertion order
    repaired: list[dict[str, Any]]  # [{index, code, repaired: reason}]
    skipped: list[str]  # codes that existed already (on_existing="skip")


async def import_features(
    session: AsyncSession,
    doc: Any,
    coord_system: CoordSystem,
    max_features: int,
    repair: bool = True,
    on_existing: str = "error",
) -> ImportOutcome:
    """Create every cell of a GeoJSON document, parents before children, or none of them.

    ``on_existing="skip"`` leaves cells whose code exists as they are (children in the file still
    hang under them) and lists them in the outcome; the default refuses the whole import.
    Geometry that is invalid only in ways that repairing cannot change on the ground (parts sharing
    an edge) is repaired when ``repair`` and reported in the outcome. Raises :class:`ValidationProblem` (422) listing
    each bad feature by index: invalid geometry, duplicate or existing codes, unknown
    ``parent_code``, parent cycles, a level not below its parent's.
    """
    try:
        # CPU-bound (shapely, datum shifts): off the event loop, so a large import stalls no one.
        specs = await asyncio.to_thread(parse_features, doc, coord_system, max_features, repair)
    except ImportErrors as exc:
        raise _refused(exc.errors) from exc
    await lock_grid(session)  # every read below is of the grid as the writers before us left it
    by_code = {s.code: s for s in specs}
    wanted = (
        set(by_code)
        | {s.parent_code for s in specs if s.parent_code}
        | {s.soft_parent_code for s in specs if s.soft_parent_code}
    )
    existing = await existing_cells(session, sorted(wanted))
    skipped = [s.code for s in specs if s.code in existing]
    if on_existing == "skip":
        specs = [s for s in specs if s.code not in existing]
        by_code = {s.code: s for s in specs}
        errors = []
    else:
        errors = [
            _err(
                s,
                "properties.code",
                f"a grid cell with code {s.code!r} already exists "
                "(import with on_existing=skip to keep it and add the rest)",
                "code_exists",
            )
            for s in specs
            if s.code in existing
        ]
        skipped = []

    parent_of: dict[str, str | None] = {}
    for s in specs:
        if s.parent_code is not None:
            if s.parent_code not in by_code and s.parent_code not in existing:
                errors.append(
                    _err(s, "properties.parent_code", f"unknown parent {s.parent_code!r}", "parent_unknown")
                )
            parent_of[s.code] = s.parent_code
        elif s.soft_parent_code in by_code or s.soft_parent_code in existing:
            parent_of[s.code] = s.soft_parent_code
        else:
            parent_of[s.code] = None
    if errors:
        raise _refused(errors)

    # Depth inside the file, detecting cycles; cells whose parent exists already start at depth 0.
    depth: dict[str, int] = {}
    for s in specs:
        trail: list[str] = []
        code: str | None = s.code
        while code is not None and code in by_code and code not in depth:
            if code in trail:
                raise _refused(
                    [_err(s, "properties.parent_code", "parent codes form a cycle", "parent_cycle")]
                )
            trail.append(code)
            code = parent_of[code]
        base = depth[code] + 1 if code is not None and code in depth else 0
        for i, c in enumerate(reversed(trail)):
            depth[c] = base + i

    # Levels and paths for every cell before anything is written.
    level_of = {c.code: c.level for c in existing.values()}
    path_of = {c.code: c.path for c in existing.values()}
    ordered = sorted(specs, key=lambda spec: depth[spec.code])
    for s in ordered:
        parent = parent_of[s.code]
        parent_level = level_of[parent] if parent else 0
        level = s.level if s.level is not None else parent_level + 1
        if level <= parent_level:
            errors.append(
                _err(
                    s,
                    "properties.level",
                    f"level {level} is not below its parent's ({parent_level})",
                    "level_invalid",
                )
            )
        level_of[s.code] = max(level, parent_level + 1)
        path_of[s.code] = (path_of[parent] if parent else "/") + s.code + "/"
        if len(path_of[s.code]) > MAX_PATH:
            errors.append(
                _err(
                    s,
                    "properties.parent_code",
                    f"the chain of codes above this cell is longer than {MAX_PATH} characters",
                    "tree_too_deep",
                )
            )
    if errors:
        raise _refused(errors)
    errors = await _topology_errors(session, specs, parent_of, existing)
    if errors:
        raise _refused(errors)

    id_of = {c.code: c.id for c in existing.values()}
    created: list[str] = []
    now = utcnow()
    for layer in sorted(set(depth.values())):
        rows = [
            {
                "code": s.code,
                "name": s.name,
                "level": level_of[s.code],
                "kind": s.kind,
                "parent_id": id_of[parent] if (parent := parent_of[s.code]) else None,
                "path": path_of[s.code],
                "created_at": now,
                "updated_at": now,
                **geometry_columns(s.geometry),
            }
            for s in ordered
            if depth[s.code] == layer
        ]
        for start in range(0, len(rows), CHUNK):
            result = await session.execute(
                cast(Table, GridCell.__table__)
                .insert()
                .returning(GridCell.id, GridCell.code, sort_by_parameter_order=True),
                rows[start : start + CHUNK],
            )
            for cell_id, code in result:
                id_of[code] = cell_id
                created.append(code)
    if created:
        await bump_revision(session)
    return ImportOutcome(
        created=created,
        skipped=skipped,
        repaired=[{"index": s.index, "code": s.code, "repaired": s.repaired} for s in specs if s.repaired],
    )


def _check_group(
    siblings: list[Shape], new: list[Shape], parent: BaseGeometry | None
) -> tuple[list[tuple[str, str, float]], list[tuple[str, float]]]:
    return sibling_overlaps(siblings), outside_parent(parent, new) if parent is not None else []


async def _topology_errors(
    session: AsyncSession,
    specs: Sequence[FeatureSpec],
    parent_of: dict[str, str | None],
    existing: dict[str, GridCell],
) -> list[dict[str, Any]]:
    """Overlaps between siblings and children outside their parent (app.grids.topology), by feature."""
    by_code = {s.code: s for s in specs}
    groups: dict[str | None, list[FeatureSpec]] = {}
    for s in specs:
        groups.setdefault(parent_of[s.code], []).append(s)
    errors: list[dict[str, Any]] = []
    for parent, members in groups.items():
        new = [Shape(m.code, m.geometry, True) for m in members]
        old: list[Shape] = []
        if parent is None or parent in existing:
            old = await siblings(session, existing[parent].id if parent else None)
        parent_geom = None
        if parent in existing:
            parent_geom = shapely.from_wkb(existing[parent].geometry)
        elif parent in by_code:
            parent_geom = by_code[parent].geometry
        overlaps, outside = await asyncio.to_thread(_check_group, old + new, new, parent_geom)
        for code, other, share in overlaps:
            errors.append(
                _err(
                    by_code[code],
                    "geometry",
                    f"overlaps sibling cell {other!r} over {share:.1%} of the smaller cell's area",
                    "cell_overlap",
                )
            )
        for code, share in outside:
            errors.append(
                _err(
                    by_code[code],
                    "geometry",
                    f"{share:.1%} of the cell lies outside its parent {parent!r}",
                    "outside_parent",
                )
            )
    return errors
