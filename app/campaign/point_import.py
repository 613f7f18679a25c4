"""Importing inspection points from GeoJSON (docs/campaign.md "Points and duties"): a FeatureCollection, a
bare array of Features or one Feature, properties ``code``, ``name``, ``type``, ``tier``, ``address``,
``unit_id`` (and ``reported``), geometry Point, LineString, MultiLineString, Polygon or MultiPolygon in the
request's datum.

All or nothing: every feature is checked and placed in its cell before anything is written, and 422 lists
each bad feature by index (``loc: ["features", 4, "properties", "type"]``). A code that names a point
already there updates it; the answer (and a dry run, which writes nothing) says what is created and what
changes, field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign import geometry
from app.campaign.models import Point
from app.campaign.points import point_type_codes, set_place
from app.campaign.schemas import PointChange, PointImportOut
from app.core.db import utcnow
from app.core.errors import ValidationProblem
from app.core.schemas import text_problem
from app.geo.coords import CoordSystem
from app.grids.index import CellRef, GridIndexCache
from app.grids.service import grid_index
from app.units.book import units

CODE_CHARS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-")
MAX_ERRORS = 50


@dataclass
class _Spec:
    index: int
    code: str
    values: dict[str, Any]  # column -> value (without the place)
    placed: geometry.Placed
    cell: CellRef


def _features(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if (
        isinstance(doc, dict)
        and doc.get("type") == "FeatureCollection"
        and isinstance(doc.get("features"), list)
    ):
        return list(doc["features"])
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        return [doc]
    raise ValidationProblem(
        [
            {
                "loc": ["body"],
                "msg": "a FeatureCollection, an array of Features or a Feature",
                "type": "geojson_shape",
            }
        ]
    )


def _text(props: dict[str, Any], name: str, limit: int, required: bool) -> str | None:
    value = props.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit or text_problem(value):
        raise ValueError(f"{'a' if required else 'an optional'} text of 1-{limit} characters")
    return value.strip()


def _spec_values(props: dict[str, Any], types: set[str], unit_ids: set[int]) -> tuple[str, dict[str, Any]]:
    """(code, column values) of one feature's properties; ValueError(field, msg, type) on the first problem."""
    code = props.get("code")
    code = str(code) if isinstance(code, int) and not isinstance(code, bool) else code
    if (
        not isinstance(code, str)
        or not 1 <= len(code) <= 64
        or not set(code) <= CODE_CHARS
        or code[0] in "._-"
    ):
        raise ValueError("code", "1-64 letters, digits, '.', '_' or '-'", "code_invalid")
    values: dict[str, Any] = {}
    for name, limit, required, column in (("name", 128, True, "name"), ("address", 255, False, "address")):
        try:
            values[column] = _text(props, name, limit, required)
        except ValueError as exc:
            raise ValueError(name, str(exc), "text_invalid") from None
    kind = props.get("type")
    if kind not in types:
        raise ValueError(
            "type", f"a point type of the active edition: {', '.join(sorted(types))}", "unknown_point_type"
        )
    values["type_code"] = kind
    tier = props.get("tier", "ordinary")
    if tier not in ("key", "fixed", "ordinary"):
        raise ValueError("tier", "key, fixed or ordinary", "tier_invalid")
    values["tier"] = tier
    reported = props.get("reported", False)
    if not isinstance(reported, bool):
        raise ValueError("reported", "true or false", "bool_invalid")
    values["reported"] = reported
    unit_id = props.get("unit_id")
    if unit_id is not None and (isinstance(unit_id, bool) or unit_id not in unit_ids):
        raise ValueError("unit_id", "the id of a unit", "unknown_unit")
    values["unit_id"] = unit_id
    return code, values


async def _specs(
    session: AsyncSession, cache: GridIndexCache, doc: Any, coord_system: CoordSystem, most: int
) -> list[_Spec]:
    features = _features(doc)
    if not features or len(features) > most:
        raise ValidationProblem(
            [
                {
                    "loc": ["features"],
                    "msg": f"1 to {most} features",
                    "type": "empty" if not features else "too_many",
                }
            ]
        )
    types, unit_ids = await point_type_codes(session), set(await units(session))
    index = await grid_index(session, cache)
    specs: list[_Spec] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def fail(i: int, field: str, msg: str, type_: str) -> None:
        loc: list[Any] = ["features", i, *(["properties", field] if field != "geometry" else ["geometry"])]
        errors.append({"loc": loc, "index": i, "msg": msg, "type": type_})

    for i, feature in enumerate(features):
        if len(errors) >= MAX_ERRORS:
            break
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(
                {"loc": ["features", i], "index": i, "msg": "not a GeoJSON Feature", "type": "geojson_shape"}
            )
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            fail(i, "properties", "must be an object", "geojson_shape")
            continue
        try:
            code, values = _spec_values(props, types, unit_ids)
        except ValueError as exc:
            fail(i, *exc.args)
            continue
        if code in seen:
            fail(i, "code", f"duplicate code {code!r} (also feature {seen[code]})", "code_duplicate")
            continue
        seen[code] = i
        try:
            placed = geometry.parse(feature.get("geometry"), coord_system)
        except geometry.GeometryProblem as exc:
            fail(i, "geometry", exc.msg, exc.type)
            continue
        chain = index.locate(placed.lon, placed.lat)
        if not chain:
            fail(
                i,
                "geometry",
                f"({placed.lat:.6f}, {placed.lon:.6f}) is outside the service area",
                "outside_service_area",
            )
            continue
        specs.append(_Spec(i, code, values, placed, chain[0]))
    if errors:
        raise ValidationProblem(errors, detail=f"{len(errors)} feature problem(s); nothing was imported")
    return specs


def _changes(point: Point, spec: _Spec) -> list[str]:
    fields = [k for k, v in spec.values.items() if getattr(point, k) != v]
    if point.geometry != spec.placed.geojson:
        fields.append("geometry")
    return ["type" if f == "type_code" else f for f in fields]


async def import_points(
    session: AsyncSession,
    cache: GridIndexCache,
    doc: Any,
    coord_system: CoordSystem,
    dry_run: bool,
    most: int = 10_000,
) -> PointImportOut:
    """Create or update every feature's point, or none (module docstring); ``dry_run`` writes nothing."""
    specs = await _specs(session, cache, doc, coord_system, most)
    codes = [s.code for s in specs]
    existing: dict[str, Point] = {}
    for start in range(0, len(codes), 1000):
        rows = await session.execute(
            select(Point).where(Point.code.in_(codes[start : start + 1000]), Point.deleted_at.is_(None))
        )
        existing.update({p.code: p for p in rows.scalars()})
    created: list[str] = []
    changed: list[PointChange] = []
    unchanged = 0
    now = utcnow()
    for spec in specs:
        point = existing.get(spec.code)
        fields = _changes(point, spec) if point is not None else []
        if point is None:
            created.append(spec.code)
            if not dry_run:
                point = Point(code=spec.code, created_at=now, updated_at=now, **spec.values)
                set_place(point, spec.placed, spec.cell, coord_system)
                session.add(point)
            continue
        if not fields:
            unchanged += 1
            continue
        changed.append(PointChange(code=spec.code, fields=fields))
        if not dry_run:
            for column, value in spec.values.items():
                setattr(point, column, value)
            set_place(point, spec.placed, spec.cell, coord_system)
            point.updated_at = now
    if not dry_run:
        await session.flush()
    return PointImportOut(dry_run=dry_run, created=created, changed=changed, unchanged=unchanged)
