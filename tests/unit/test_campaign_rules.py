"""The campaign's pure rules, without a database: scores, the answers a checklist takes, sampling, geometry."""

import pytest

from app.campaign import answers, geometry, sampling
from app.campaign.round_schemas import VisitIn
from app.campaign.scores import Answer, complies, figures
from app.geo.coords import CoordSystem, from_wgs84

CHECKLIST = [
    answers.Expected("A-1", "binary", None, photo_on_fail=True, note_on_fail=True),
    answers.Expected("A-2", "count_min", 5, photo_on_fail=True, note_on_fail=False),
    answers.Expected("A-3", "problem_count", None, photo_on_fail=False, note_on_fail=False),
]


def visit(*results: dict, **fields: object) -> VisitIn:  # type: ignore[type-arg]
    return VisitIn.model_validate({"results": list(results), **fields})


def kinds(data: VisitIn, photos: list[str | None] = ()) -> list[tuple[str, str | None]]:  # type: ignore[assignment]
    return [(e["type"], e.get("item")) for e in answers.problems(data, CHECKLIST, list(photos))]


def test_counts_decide_compliance() -> None:
    assert complies("count_min", 5, 5) is True and complies("count_min", 5, 4) is False
    assert complies("problem_count", None, 0) is True and complies("problem_count", None, 2) is False
    assert complies("binary", None, 3) is None and complies("count_min", 5, None) is None


def test_the_score_weighs_applicable_items_and_the_rate_counts_them() -> None:
    f = figures(
        [
            Answer("binary", None, 2.0, "compliant", None),
            Answer("count_min", 5, 1.0, "noncompliant", 3),
            Answer("problem_count", None, 1.0, "compliant", 0),
            Answer("binary", None, 5.0, "not_applicable", None),  # leaves both denominators
        ]
    )
    assert (f.score_num, f.score_den, f.rate_num, f.rate_den) == (3.0, 4.0, 2, 3)
    assert (f.score, f.rate) == (75.0, 0.6667)
    assert f.passed(75) and not f.passed(75.01)
    nothing = figures([Answer("binary", None, 1.0, "not_applicable", None)])
    assert (nothing.score, nothing.rate, nothing.passed(85)) == (None, None, True)


def test_a_complete_fitting_visit_has_no_problems() -> None:
    good = visit(
        {"item": "A-1", "result": "noncompliant", "note": "n", "photos": ["p"], "amount": 2},
        {"item": "A-2", "result": "compliant", "amount": 5},
        {"item": "A-3", "result": "not_applicable"},
    )
    assert kinds(good, ["p"]) == []


@pytest.mark.parametrize(
    ("results", "photos", "expected"),
    [
        ([{"item": "A-1", "result": "compliant"}], [], [("missing_item", "A-2"), ("missing_item", "A-3")]),
        (
            [
                {"item": "A-1", "result": "compliant", "amount": 1},
                {"item": "A-2", "result": "compliant", "amount": 6},
                {"item": "A-3", "result": "compliant", "amount": 0},
            ],
            [],
            [("amount_not_allowed", "A-1")],
        ),
        (
            [
                {"item": "A-1", "result": "not_applicable", "amount": 0},
                {"item": "A-2", "result": "not_applicable"},
                {"item": "A-3", "result": "compliant", "amount": 0},
            ],
            [],
            [("amount_not_allowed", "A-1")],
        ),
        (
            [
                {"item": "A-1", "result": "compliant"},
                {"item": "A-2", "result": "compliant"},
                {"item": "A-3", "result": "noncompliant", "amount": 0},
            ],
            [],
            [("amount_required", "A-2"), ("result_mismatch", "A-3")],
        ),
        (
            [
                {"item": "A-1", "result": "noncompliant"},
                {"item": "A-2", "result": "noncompliant", "amount": 1, "photos": ["q"]},
                {"item": "A-3", "result": "compliant", "amount": 0},
            ],
            ["p"],
            [
                ("photo_required", "A-1"),
                ("note_required", "A-1"),
                ("unknown_photo", "A-2"),
                ("unreferenced_photo", None),
            ],
        ),
        (
            [
                {"item": "A-1", "result": "compliant"},
                {"item": "A-1", "result": "compliant"},
                {"item": "B-9", "result": "compliant"},
            ],
            [],
            [
                ("duplicate_item", "A-1"),
                ("unknown_item", "B-9"),
                ("missing_item", "A-2"),
                ("missing_item", "A-3"),
            ],
        ),
    ],
)
def test_every_problem_names_its_item(results: list, photos: list, expected: list) -> None:  # type: ignore[type-arg]
    assert kinds(visit(*results), photos) == expected


def test_an_unable_visit_has_a_reason_one_photo_and_no_results() -> None:
    assert kinds(visit(unable=True, reason="closed"), ["p"]) == []
    problems = kinds(visit({"item": "A-1", "result": "compliant"}, unable=True), ["p", "q"])
    assert problems == [("not_allowed", None), ("missing", None), ("photo_count", None)]
    assert kinds(visit(*[], reason="x"), [])[0] == ("not_allowed", None)


def test_the_same_seed_draws_the_same_sample_whatever_the_order() -> None:
    pool = {"T": [(f"P{n:02d}", n) for n in range(20)], "U": [("U1", 100), ("U2", 101)]}
    first = sampling.draw(pool, {"T": 5, "U": 1}, seed=42)
    shuffled = {"T": list(reversed(pool["T"])), "U": pool["U"]}
    assert sampling.draw(shuffled, {"U": 1, "T": 5}, seed=42) == first
    assert sampling.draw(pool, {"T": 5}, seed=42) == first[:5]
    assert sampling.draw(pool, {"T": 5}, seed=43) != first[:5]
    with pytest.raises(sampling.NotEnough) as short:
        sampling.draw(pool, {"T": 21, "U": 3, "V": 1}, seed=1)
    assert short.value.short == {"T": (21, 20), "U": (3, 2), "V": (1, 0)}


def test_geometry_is_placed_by_a_point_inside_it() -> None:
    l_shape = {"type": "Polygon", "coordinates": [[[0, 0], [3, 0], [3, 1], [1, 1], [1, 3], [0, 3], [0, 0]]]}
    placed = geometry.parse(l_shape, CoordSystem.wgs84)
    import shapely

    assert placed.kind == "polygon" and placed.shape.contains(shapely.Point(placed.lon, placed.lat))
    line = geometry.parse({"type": "LineString", "coordinates": [[0, 0], [0, 2]]}, CoordSystem.wgs84)
    assert (line.kind, line.lon, line.lat) == ("line", 0.0, 1.0)
    lon, lat = from_wgs84(106.6655, 35.5431, "bd09")
    point = geometry.parse({"type": "Point", "coordinates": [lon, lat]}, CoordSystem.bd09)
    assert abs(point.lat - 35.5431) < 1e-6 and abs(point.lon - 106.6655) < 1e-6
    for raw, kind in (
        ({"type": "GeometryCollection", "geometries": []}, "geometry_type"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}, "geometry_invalid"),
        ({"type": "Point", "coordinates": [181, 0]}, "geometry_out_of_range"),
        ({"type": "LineString", "coordinates": [[1, 1], [1, 1]]}, "geometry_invalid"),
    ):
        with pytest.raises(geometry.GeometryProblem) as refused:
            geometry.parse(raw, CoordSystem.wgs84)
        assert refused.value.type == kind


def test_distance_to_a_geometry_is_zero_inside_and_metres_outside() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [
            [[106.66, 35.54], [106.67, 35.54], [106.67, 35.55], [106.66, 35.55], [106.66, 35.54]]
        ],
    }
    assert geometry.distance_m(square, 35.545, 106.665) == 0.0
    north = geometry.distance_m(square, 35.551, 106.665)  # 0.001 degree of latitude north of the edge
    assert 105 < north < 117
    east = geometry.distance_m(square, 35.545, 106.671)  # 0.001 degree of longitude at 35.5 degrees
    assert 85 < east < 95
