"""Parse and check a GeoJSON grid import (RFC 7946) before anything is written.

Accepts a FeatureCollection, a bare JSON array of Features (what DataV/AMap exports look like),
or a single Feature. Properties ``code``, ``name``, ``level``, ``parent_code``; exports of Chinese
map platforms (``adcode``, ``name``, ``level`` as a word such as ``"district"``, ``parent``
``{"adcode": ...}``) import as they are. Every problem is reported with its feature's index, and
the whole import is refused if there is any.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from app.core.schemas import text_problem
from app.geo.coords import CoordSystem, to_wgs84_array

CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$")
MAX_ERRORS = 50
REPAIR_AREA_TOLERANCE = 1e-4


@dataclass
class FeatureSpec:
    """One cell to create, geometry already in WGS-84."""

    index: int
    code: str
    name: str
    level: int | None  # None: one below the parent (1 at the top)
    kind: str | None
    parent_code: str | None  # explicit ``parent_code``: must exist
    soft_parent_code: str | None  # a map platform's ``parent.adcode``: used only if that cell exists
    geometry: BaseGeometry
    repaired: str | None = None  # what was wrong with the geometry as given, when it was repaired


class ImportErrors(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(raw: bytes | str) -> Any:
    """``json.loads`` that refuses NaN/Infinity (not JSON, though Python accepts them).

    Raises ValueError for anything that is not JSON, including nesting too deep for the parser.
    """
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def _err(index: int | None, field: str, msg: str, type_: str) -> dict[str, Any]:
    loc: list[Any] = ["features", index, *field.split(".")] if index is not None else field.split(".")
    out: dict[str, Any] = {"loc": loc, "msg": msg, "type": type_}
    if index is not None:
        out["index"] = index
    return out


def _features(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
            return doc["features"]
        if doc.get("type") == "Feature":
            return [doc]
    raise ImportErrors(
        [
            _err(
                None,
                "body",
                "expected a FeatureCollection, an array of Features or a Feature",
                "geojson_shape",
            )
        ]
    )


def _code(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _geometry(
    index: int, raw: Any, coord_system: CoordSystem, repair: bool = True
) -> tuple[BaseGeometry | None, list[dict[str, Any]]]:
    """The feature's geometry in WGS-84 and a list with one problem, or with one repair note."""
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        got = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        return None, [
            _err(index, "geometry", f"must be a Polygon or MultiPolygon, got {got!r}", "geometry_type")
        ]
    try:
        geom = shapely.from_geojson(json.dumps({"type": raw["type"], "coordinates": raw.get("coordinates")}))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        return None, [_err(index, "geometry", f"malformed coordinates: {exc}", "geometry_malformed")]
    if geom is None or geom.is_empty:
        return None, [_err(index, "geometry", "empty geometry", "geometry_empty")]
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return None, [_err(index, "geometry", "coordinates must be finite numbers", "geometry_malformed")]
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        return None, [
            _err(
                index,
                "geometry",
                "coordinates out of range: GeoJSON is [lon, lat] in degrees",
                "geometry_out_of_range",
            )
        ]
    if coord_system is not CoordSystem.wgs84:
        geom = shapely.transform(geom, lambda xy: to_wgs84_array(xy, coord_system))
    if not geom.is_valid:
        reason = explain_validity(geom)
        repaired = _repair(geom) if repair else None
        if repaired is None:
            return None, [_err(index, "geometry", f"invalid geometry: {reason}", "geometry_invalid")]
        return _wound(repaired), [{"index": index, "repaired": reason}]
    return _wound(geom), []


def _wound(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` with its rings wound as RFC 7946 section 3.1.6 says (exteriors counter-clockwise, holes
    clockwise), so cells are stored as they must be served. Not a repair: the ground is the same, and
    section 3.1.6 tells parsers not to refuse the other winding."""
    return shapely.orient_polygons(geom)


def _repair(geom: BaseGeometry) -> BaseGeometry | None:
    """A valid polygonal equivalent of ``geom`` when repairing changes its area by < 0.01 %, else None.

    Real map exports carry defects such as two parts of a MultiPolygon sharing an edge (the DataV
    boundary of 崆峒区 does): merging them changes nothing on the ground. A bow-tie or a polygon
    drawn inside out changes area when repaired, and is refused instead.
    """
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if fixed.is_empty or fixed.geom_type not in ("Polygon", "MultiPolygon") or not fixed.is_valid:
        return None
    if geom.area == 0 or abs(fixed.area - geom.area) / geom.area > REPAIR_AREA_TOLERANCE:
        return None
    return fixed


def parse_features(
    doc: Any, coord_system: CoordSystem, max_features: int, repair: bool = True
) -> list[FeatureSpec]:
    """Specs for every feature of ``doc``; raises :class:`ImportErrors` listing every problem found.

    With ``repair``, invalid geometry that can be made valid without changing its area (see
    :func:`_repair`) is repaired and the spec says why; without it, any invalid geometry is refused.
    """
    raw_features = _features(doc)
    if not raw_features:
        raise ImportErrors([_err(None, "features", "no features to import", "empty")])
    if len(raw_features) > max_features:
        raise ImportErrors([_err(None, "features", f"more than {max_features} features", "too_many")])
    specs: list[FeatureSpec] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(raw_features):
        if len(errors) >= MAX_ERRORS:
            break
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(_err(index, "type", "not a GeoJSON Feature", "geojson_shape"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.append(_err(index, "properties", "must be an object", "geojson_shape"))
            continue
        code = _code(props.get("code", props.get("adcode")))
        if code is None or not CODE_PATTERN.match(code):
            errors.append(
                _err(
                    index,
                    "properties.code",
                    "a code (or adcode) of 1-32 letters, digits, '.' or '-' is required",
                    "code_invalid",
                )
            )
            continue
        if code in seen:
            errors.append(
                _err(
                    index,
                    "properties.code",
                    f"duplicate code {code!r} (also feature {seen[code]})",
                    "code_duplicate",
                )
            )
            continue
        seen[code] = index
        name = props.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 128 or text_problem(name):
            errors.append(
                _err(
                    index,
                    "properties.name",
                    "a name of 1-128 characters (valid Unicode, no NUL) is required",
                    "name_invalid",
                )
            )
            continue
        level_raw = props.get("level")
        level: int | None = None
        kind: str | None = None
        if isinstance(level_raw, bool) or (isinstance(level_raw, float) and not math.isfinite(level_raw)):
            errors.append(
                _err(index, "properties.level", "level must be a whole number or a word", "level_invalid")
            )
            continue
        if isinstance(level_raw, (int, float)):
            if level_raw != int(level_raw) or not 1 <= level_raw <= 32:
                errors.append(
                    _err(
                        index,
                        "properties.level",
                        "level must be a whole number from 1 to 32",
                        "level_invalid",
                    )
                )
                continue
            level = int(level_raw)
        elif isinstance(level_raw, str) and level_raw.strip():
            word = level_raw.strip()
            if re.fullmatch(r"[0-9]+", word):
                if not 1 <= int(word[:3]) <= 32 or len(word) > 2:
                    errors.append(
                        _err(
                            index,
                            "properties.level",
                            "level must be a whole number from 1 to 32",
                            "level_invalid",
                        )
                    )
                    continue
                level = int(word)
            elif text_problem(word) is None:
                kind = word[:32]
        elif level_raw is not None:
            errors.append(
                _err(index, "properties.level", "level must be a whole number or a word", "level_invalid")
            )
            continue
        if isinstance(props.get("kind"), str) and text_problem(props["kind"]) is None:
            kind = props["kind"].strip()[:32]
        kind = kind or None
        parent_code = _code(props.get("parent_code"))
        if "parent_code" in props and props["parent_code"] is not None and parent_code is None:
            errors.append(_err(index, "properties.parent_code", "must be a code", "parent_invalid"))
            continue
        soft = None
        if isinstance(props.get("parent"), dict):
            soft = _code(props["parent"].get("adcode"))
        geom, notes = _geometry(index, feature.get("geometry"), coord_system, repair)
        if geom is None:
            errors.extend(notes)
            continue
        specs.append(
            FeatureSpec(
                index=index,
                code=code,
                name=name.strip(),
                level=level,
                kind=kind,
                parent_code=parent_code,
                soft_parent_code=soft,
                geometry=geom,
                repaired=notes[0]["repaired"] if notes else None,
            )
        )
    if errors:
        raise ImportErrors(errors)
    return specs
