"""Issue 15, item 13: RFC 7946 section 3.1.6 winding. Exterior rings go out counter-clockwise and holes
clockwise, whatever the file said; the checks are pure (no database)."""

from __future__ import annotations

import shapely

from app.geo.coords import CoordSystem
from app.grids.geojson import parse_features
from app.grids.service import oriented_geojson

CW_OUTER = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
CCW_HOLE = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.2, 0.2]]


def _rings_ccw(geometry: dict) -> list[list[bool]]:
    """Per polygon, whether each ring (exterior first) runs counter-clockwise."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [[bool(shapely.is_ccw(shapely.linearrings(ring))) for ring in polygon] for polygon in polygons]


def _feature(geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"code": "W1", "name": "w"}, "geometry": geometry}


def test_an_imported_clockwise_polygon_is_kept_counter_clockwise_with_clockwise_holes() -> None:
    geometry = {"type": "Polygon", "coordinates": [CW_OUTER, CCW_HOLE]}
    spec = parse_features([_feature(geometry)], CoordSystem.wgs84, 10)[0]
    assert _rings_ccw({"type": "Polygon", "coordinates": _lists(spec.geometry)}) == [[True, False]]
    assert spec.repaired is None  # orientation is not a repair: nothing changes on the ground


def test_every_part_of_a_multipolygon_is_oriented() -> None:
    far = [[[x + 5, y] for x, y in CW_OUTER]]
    geometry = {"type": "MultiPolygon", "coordinates": [[CW_OUTER, CCW_HOLE], far]}
    spec = parse_features([_feature(geometry)], CoordSystem.gcj02, 10)[0]
    assert _rings_ccw({"type": "MultiPolygon", "coordinates": _lists(spec.geometry)}) == [
        [True, False],
        [True],
    ]


def test_a_stored_clockwise_cell_is_served_counter_clockwise() -> None:
    """Cells imported before the rule are stored as they came: serving orients them."""
    stored = shapely.to_wkb(shapely.Polygon(CW_OUTER, [CCW_HOLE]))
    served = oriented_geojson(stored)
    assert served["type"] == "Polygon" and _rings_ccw(served) == [[True, False]]
    assert isinstance(served["coordinates"][0][0], list)  # JSON arrays, not tuples


def _lists(geom: shapely.Geometry) -> list:
    coords = shapely.geometry.mapping(geom)["coordinates"]

    def as_lists(value):  # type: ignore[no-untyped-def]
        return [as_lists(v) for v in value] if isinstance(value, (tuple, list)) else value

    return as_lists(coords)
