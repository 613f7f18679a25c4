"""Hostile GeoJSON imports (the corpus's contract: tests/support/corpus.py): self-intersecting, unclosed,
wrongly nested, missing, out-of-range and non-finite geometries, each refused with the error type that
names it."""

import json

import pytest

from tests.support.corpus import NESTED, POLYGON_WITH_Y, VALIDATION, raw_json

SQUARE = [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]
RAW_POLYGON = (
    b'[{"type": "Feature", "properties": {"code": "H1", "name": "n"}, "geometry": ' + POLYGON_WITH_Y + b"}]"
)


def feature(geometry: object, **props: object) -> dict:
    return {"type": "Feature", "properties": {"code": "H1", "name": "hostile", **props}, "geometry": geometry}


def polygon(coordinates: object, kind: str = "Polygon") -> list:
    return [feature({"type": kind, "coordinates": coordinates})]


@pytest.mark.parametrize(
    ("doc", "query", "error"),
    [
        pytest.param(*case[1:], id=case[0])
        for case in [
            (
                "bow-tie-no-repair",
                polygon([[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]),
                "?repair=false",
                "geometry_invalid",
            ),
            (
                "spike-no-repair",
                polygon([[[0, 0], [2, 0], [2, 2], [1, 2], [1, 3], [1, 2], [0, 2], [0, 0]]]),
                "?repair=false",
                "geometry_invalid",
            ),
            ("collinear-zero-area", polygon([[[1, 1], [2, 2], [3, 3], [1, 1]]]), "", "geometry_invalid"),
            (
                "hole-outside-shell",
                polygon(SQUARE + [[[5, 5], [6, 5], [6, 6], [5, 5]]]),
                "",
                "geometry_invalid",
            ),
            ("ring-of-three", polygon([[[1, 1], [2, 1], [1, 1]]]), "", "geometry_invalid"),
            ("unclosed-ring", polygon([[[1, 1], [2, 1], [2, 2], [1, 2]]]), "", "geometry_malformed"),
            ("nesting-one-too-shallow", polygon(SQUARE[0]), "", "geometry_malformed"),
            ("nesting-one-too-deep", polygon([SQUARE]), "", "geometry_malformed"),
            ("multipolygon-nested-as-polygon", polygon(SQUARE, "MultiPolygon"), "", "geometry_malformed"),
            ("flat-numbers", polygon([1, 1, 2, 2]), "", "geometry_malformed"),
            (
                "strings",
                polygon([[["1", "1"], ["2", "1"], ["2", "2"], ["1", "1"]]]),
                "",
                "geometry_malformed",
            ),
            (
                "mixed-dimensions",
                polygon([[[1, 1, 0], [2, 1], [2, 2, 5, 6], [1, 1]]]),
                "",
                "geometry_malformed",
            ),
            ("no-rings", polygon([]), "", "geometry_empty"),
            (
                "missing-geometry",
                [{"type": "Feature", "properties": {"code": "H1", "name": "n"}}],
                "",
                "geometry_type",
            ),
            ("null-geometry", [feature(None)], "", "geometry_type"),
            ("point", [feature({"type": "Point", "coordinates": [1, 1]})], "", "geometry_type"),
            (
                "collection",
                [
                    feature(
                        {
                            "type": "GeometryCollection",
                            "geometries": [{"type": "Polygon", "coordinates": SQUARE}],
                        }
                    )
                ],
                "",
                "geometry_type",
            ),
            ("lon-181", polygon([[[179, 1], [181, 1], [181, 2], [179, 1]]]), "", "geometry_out_of_range"),
            ("lat-91", polygon([[[1, 89], [2, 89], [2, 91], [1, 89]]]), "", "geometry_out_of_range"),
            (
                "lon-1e308-gcj02",
                polygon([[[1, 1], [1e308, 1], [2, 2], [1, 1]]]),
                "?coord_system=gcj02",
                "geometry_out_of_range",
            ),
            ("nan", RAW_POLYGON % b"NaN", "", "json_invalid"),
            ("minus-infinity", RAW_POLYGON % b"-Infinity", "", "json_invalid"),
            ("1e999", RAW_POLYGON % b"1e999", "", "geometry_malformed"),
            (
                "deep-properties",
                b'[{"type": "Feature", "properties": ' + NESTED + b', "geometry": null}]',
                "",
                "json_invalid",
            ),
            (
                "1MB-name",
                [feature({"type": "Polygon", "coordinates": SQUARE}, name="x" * 1_000_000)],
                "",
                "name_invalid",
            ),
            (
                "features-not-a-list",
                {"type": "FeatureCollection", "features": {"0": feature(None)}},
                "",
                "geojson_shape",
            ),
        ]
    ],
)
async def test_hostile_geojson_imports(attack, doc, query, error) -> None:  # type: ignore[no-untyped-def]
    content = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    r = await attack("POST", "/api/v1/grids/import" + query, "admin", *VALIDATION, **raw_json(content))
    assert r.json()["errors"][0]["type"] == error, r.json()["errors"]
