"""Parsing GeoJSON imports: real exports as they are, every problem reported by feature index."""

import json

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from app.geo.coords import CoordSystem, distance_m
from app.grids.geojson import ImportErrors, loads_strict, parse_features
from tests.support.paths import DATA, DEMO_DATA


def square(x: float = 106.6, y: float = 35.5, d: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def feature(code: object = "A", geometry: dict | None = None, **props: object) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry or square(),
        "properties": {"code": code, "name": "n", **props},
    }


def errors_of(doc: object, **kw: object) -> list[dict]:
    with pytest.raises(ImportErrors) as info:
        parse_features(doc, kw.get("cs", CoordSystem.wgs84), 100, kw.get("repair", True))  # type: ignore[arg-type]
    return info.value.errors


def test_real_datav_export_bare_array_gcj02_parses_and_is_repaired() -> None:
    doc = json.loads((DEMO_DATA / "620802.json").read_text(encoding="utf-8"))
    (spec,) = parse_features(doc, CoordSystem.gcj02, 10)
    assert (spec.code, spec.name, spec.kind, spec.level) == ("620802", "崆峒区", "district", None)
    assert spec.repaired and "Self-intersection" in spec.repaired  # two parts share an edge in the export
    assert spec.geometry.is_valid
    raw = shapely.from_geojson(json.dumps(doc[0]["geometry"]))
    # converted from GCJ-02: the stored WGS-84 shape sits a few hundred metres from the raw one
    shift = distance_m(raw.bounds[0], raw.bounds[1], spec.geometry.bounds[0], spec.geometry.bounds[1])
    assert 100 < shift < 1000
    assert (
        abs(spec.geometry.area - raw.area) / raw.area < 5e-3
    )  # the datum shift is not area-preserving in degrees


def test_same_export_refused_when_repair_is_off() -> None:
    doc = json.loads((DEMO_DATA / "620802.json").read_text(encoding="utf-8"))
    (err,) = errors_of(doc, cs=CoordSystem.gcj02, repair=False)
    assert (err["index"], err["type"]) == (0, "geometry_invalid")


def test_feature_collection_with_datav_parent_objects() -> None:
    specs = parse_features(
        json.loads((DATA / "620800_full.json").read_text(encoding="utf-8")), CoordSystem.gcj02, 10
    )
    assert len(specs) == 7
    assert {s.soft_parent_code for s in specs} == {"620800"} and {s.parent_code for s in specs} == {None}


def test_single_feature_and_numeric_levels() -> None:
    (spec,) = parse_features(feature("X", level=2, parent_code=620802), CoordSystem.wgs84, 1)
    assert (spec.level, spec.parent_code) == (2, "620802")


def test_bow_tie_is_refused_even_with_repair() -> None:
    bow = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    (err,) = errors_of([feature("A"), feature("B", bow)])
    assert (err["index"], err["type"], err["loc"]) == (1, "geometry_invalid", ["features", 1, "geometry"])


@pytest.mark.parametrize(
    ("geometry", "kind"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "geometry_type"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [200, 1], [0, 0]]]}, "geometry_out_of_range"),
        ({"type": "Polygon", "coordinates": "nope"}, "geometry_malformed"),
        ({"type": "Polygon", "coordinates": []}, "geometry_empty"),
        (None, "geometry_type"),
    ],
)
def test_bad_geometries_name_the_feature(geometry: object, kind: str) -> None:
    doc = [feature("A"), {"type": "Feature", "geometry": geometry, "properties": {"code": "B", "name": "b"}}]
    errs = errors_of(doc)
    assert [(e["index"], e["type"]) for e in errs] == [(1, kind)]


def test_duplicate_codes_missing_names_and_bad_levels_are_all_reported() -> None:
    doc = [
        feature("A"),
        feature("A"),
        {"type": "Feature", "geometry": square(), "properties": {"code": "C"}},
        feature("D", level=0),
        feature("E", level=True),
        feature("x/y"),
        "not a feature",
    ]
    types = [(e["index"], e["type"]) for e in errors_of(doc)]
    assert types == [
        (1, "code_duplicate"),
        (2, "name_invalid"),
        (3, "level_invalid"),
        (4, "level_invalid"),
        (5, "code_invalid"),
        (6, "geojson_shape"),
    ]


@pytest.mark.parametrize(
    "doc", [{}, {"type": "FeatureCollection"}, 3, [], {"type": "FeatureCollection", "features": []}]
)
def test_documents_that_are_not_feature_sets(doc: object) -> None:
    assert errors_of(doc)


def test_nan_and_infinity_are_not_json() -> None:
    with pytest.raises(ValueError):
        loads_strict('{"type": "Polygon", "coordinates": [[[NaN, 1]]]}')
    with pytest.raises(ValueError):
        loads_strict("[Infinity]")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "features",
                    "geometry",
                    "properties",
                    "coordinates",
                    "code",
                    "name",
                    "level",
                    "parent_code",
                    "adcode",
                    "parent",
                    "Feature",
                    "Polygon",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)
geometry_types = st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", None, 3])


@settings(max_examples=300, deadline=None)
@given(doc=json_values, gtype=geometry_types, coords=json_values, props=json_values)
def test_any_json_either_parses_or_is_refused_with_import_errors(doc, gtype, coords, props) -> None:  # type: ignore[no-untyped-def]
    shaped = [
        {"type": "Feature", "geometry": {"type": gtype, "coordinates": coords}, "properties": props},
        doc,
    ]
    for candidate in (doc, shaped, {"type": "FeatureCollection", "features": shaped}):
        try:
            specs = parse_features(candidate, CoordSystem.gcj02, 100)
        except ImportErrors as exc:
            assert exc.errors and all("msg" in e and "loc" in e for e in exc.errors)
        else:
            assert all(s.geometry.is_valid and not s.geometry.is_empty for s in specs)
