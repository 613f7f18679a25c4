"""Where an inspection point is: a point, a line (a bus line, a street) or a polygon (a market, a square),
given as GeoJSON or as lat/lon, in any datum the grids accept (WGS-84, GCJ-02, BD-09).

Pure: no database. The geometry is kept in WGS-84 ([lon, lat], RFC 7946) with one representative point
inside it, which places the point in its cell: the point itself, the middle of a line along its length,
a point guaranteed inside a polygon (its centroid may lie outside, e.g. an L-shaped square).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.geo.coords import CoordSystem, to_wgs84_array, to_wgs84_point

KINDS = {
    "Point": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
M_PER_DEGREE = 111_320.0


class GeometryProblem(ValueError):
    """A geometry the campaign cannot place; ``type`` is the error's stable type."""

    def __init__(self, msg: str, type_: str) -> None:
        super().__init__(msg)
        self.msg, self.type = msg, type_


@dataclass(frozen=True)
class Placed:
    """A point's geometry in WGS-84, its kind (point, line, polygon) and its representative (lat, lon)."""

    shape: BaseGeometry
    kind: str
    lat: float
    lon: float

    @property
    def geojson(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(shapely.to_geojson(self.shape))
        return out


def _checked(shape: BaseGeometry) -> None:
    coords = shapely.get_coordinates(shape)
    if coords.size == 0:
        raise GeometryProblem("empty geometry", "geometry_empty")
    if not np.isfinite(coords).all():
        raise GeometryProblem("coordinates must be finite numbers", "geometry_malformed")
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise GeometryProblem("out of range: GeoJSON is [lon, lat] in degrees", "geometry_out_of_range")


def representative(shape: BaseGeometry) -> tuple[float, float]:
    """``(lon, lat)`` of the point that stands for ``shape`` (module docstring)."""
    if isinstance(shape, shapely.Point):
        return float(shape.x), float(shape.y)
    if isinstance(shape, (shapely.LineString, shapely.MultiLineString)):
        line = shapely.line_merge(shape) if isinstance(shape, shapely.MultiLineString) else shape
        if isinstance(line, shapely.MultiLineString):  # parts that do not join: the middle of the longest
            line = max(line.geoms, key=lambda part: part.length)
        middle = shapely.line_interpolate_point(line, 0.5, normalized=True)
        return float(middle.x), float(middle.y)
    inside = shape.representative_point()
    return float(inside.x), float(inside.y)


def parse(raw: Any, coord_system: CoordSystem) -> Placed:
    """A GeoJSON geometry object in ``coord_system`` as :class:`Placed`; :class:`GeometryProblem` when it is not
    a valid Point, LineString, MultiLineString, Polygon or MultiPolygon with finite, in-range coordinates."""
    if not isinstance(raw, dict) or raw.get("type") not in KINDS:
        got = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        raise GeometryProblem(
            f"must be a Point, LineString, MultiLineString, Polygon or MultiPolygon, got {str(got)[:40]!r}",
            "geometry_type",
        )
    try:
        shape = shapely.from_geojson(json.dumps({"type": raw["type"], "coordinates": raw.get("coordinates")}))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise GeometryProblem(f"malformed coordinates: {str(exc)[:120]}", "geometry_malformed") from exc
    if shape is None or shape.is_empty:
        raise GeometryProblem("empty geometry", "geometry_empty")
    _checked(shape)
    if coord_system is not CoordSystem.wgs84:
        shape = shapely.transform(shape, lambda xy: to_wgs84_array(xy, coord_system))
    if not shape.is_valid or (KINDS[raw["type"]] == "line" and shape.length == 0):
        raise GeometryProblem(f"invalid geometry: {shapely.is_valid_reason(shape)}", "geometry_invalid")
    lon, lat = representative(shape)
    return Placed(shape=shape, kind=KINDS[raw["type"]], lat=lat, lon=lon)


def from_lat_lon(lat: float, lon: float, coord_system: CoordSystem) -> Placed:
    """A point given as ``lat``/``lon`` degrees in ``coord_system``."""
    wlon, wlat = to_wgs84_point(lon, lat, coord_system)
    return Placed(shape=shapely.Point(wlon, wlat), kind="point", lat=wlat, lon=wlon)


def distance_m(geometry: dict[str, Any], lat: float, lon: float) -> float:
    """Metres from (lat, lon) WGS-84 to the nearest part of a stored GeoJSON ``geometry`` (0 inside a polygon
    or on a line). Equirectangular at the point's latitude: well under 1 % off within a few kilometres,
    which is what an evidence distance of a few hundred metres needs."""
    shape = shapely.from_geojson(json.dumps(geometry))
    scale = math.cos(math.radians(lat))
    squeezed = shapely.transform(shape, lambda xy: xy * np.array([scale, 1.0]))
    here = shapely.Point(lon * scale, lat)
    return float(squeezed.distance(here)) * M_PER_DEGREE
