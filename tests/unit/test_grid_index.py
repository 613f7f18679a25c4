"""The spatial index: chains deepest first, the shared-edge rule, agreement with a linear scan."""

import itertools

import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box

from app.grids.index import CellRow, GridIndex, polygon_area_m2

# A root square 0..4 x 0..4, two children (west/east halves), each cut into 2x4 unit squares.
ROWS = [
    CellRow(1, None, "R", "root", 1, None, shapely.to_wkb(box(0, 0, 4, 4))),
    CellRow(2, 1, "R1", "west", 2, None, shapely.to_wkb(box(0, 0, 2, 4))),
    CellRow(3, 1, "R2", "east", 2, None, shapely.to_wkb(box(2, 0, 4, 4))),
]
next_id = 4
for parent_id, parent_code, x0 in ((2, "R1", 0), (3, "R2", 2)):
    seq = 0
    for row in range(4):  # north to south
        for col in range(2):  # west to east
            seq += 1
            y1 = 4 - row
            ROWS.append(
                CellRow(
                    next_id,
                    parent_id,
                    f"{parent_code}{seq:03d}",
                    "cell",
                    3,
                    None,
                    shapely.to_wkb(box(x0 + col, y1 - 1, x0 + col + 1, y1)),
                )
            )
            next_id += 1
INDEX = GridIndex(ROWS, revision="r1")
CODE = {r.id: r.code for r in ROWS}


def codes(lon: float, lat: float) -> list[str]:
    return [c.code for c in INDEX.locate(lon, lat)]


def test_interior_point_gets_the_full_chain_deepest_first() -> None:
    assert codes(0.5, 3.5) == ["R1001", "R1", "R"]
    assert codes(3.5, 0.5) == ["R2008", "R2", "R"]


def test_outside_every_top_level_cell_is_an_empty_chain() -> None:
    assert codes(5, 5) == [] and codes(-0.0001, 2) == []


def test_point_on_a_shared_edge_goes_to_the_smallest_code_west_or_north() -> None:
    assert codes(1.0, 3.5) == ["R1001", "R1", "R"]  # edge between R1001 (west) and R1002 (east)
    assert codes(0.5, 3.0) == ["R1001", "R1", "R"]  # edge between R1001 (north) and R1003 (south)
    assert codes(2.0, 2.5) == ["R1004", "R1", "R"]  # edge between the two streets: the west one, R1
    assert codes(1.0, 3.0) == ["R1001", "R1", "R"]  # corner of four cells


def test_points_on_the_outer_boundary_are_inside() -> None:
    assert codes(0, 0) == ["R1007", "R1", "R"]
    assert codes(4, 4) == ["R2002", "R2", "R"]


def test_a_point_in_a_parent_but_in_none_of_its_children_stops_at_the_parent() -> None:
    rows = [ROWS[0], CellRow(2, 1, "R1", "west", 2, None, shapely.to_wkb(box(0, 0, 2, 4)))]
    assert [c.code for c in GridIndex(rows, "r").locate(3, 3)] == ["R"]


def test_empty_index_locates_nothing() -> None:
    assert GridIndex([], "empty").locate(1, 1) == []


coords = st.floats(min_value=-1, max_value=5, allow_nan=False, allow_infinity=False)


@given(lon=coords, lat=coords)
def test_chain_agrees_with_a_linear_scan(lon: float, lat: float) -> None:
    chain = INDEX.locate(lon, lat)
    covering = set(INDEX.locate_linear(lon, lat))
    if not covering:
        assert chain == []
        return
    assert {c.id for c in chain} <= covering
    assert chain[-1].parent_id is None  # ends at a top-level cell
    for child, parent in itertools.pairwise(chain):
        assert child.parent_id == parent.id
    # exactly one cell per level, and the deepest level present among the covering cells is reached
    assert len(chain) == max(r.level for r in ROWS if r.id in covering)
    # the leaf is the smallest code among covering leaves that contain the point in their interior, else all
    leaves = [
        r
        for r in ROWS
        if r.id in covering and r.level == chain[0].level and r.parent_id == chain[0].parent_id
    ]
    inside = [r for r in leaves if shapely.contains(shapely.from_wkb(r.wkb), shapely.Point(lon, lat))]
    assert chain[0].code == min(r.code for r in (inside or leaves))


def test_area_of_a_100m_cell_is_about_10000_m2() -> None:
    cell = box(106.63, 35.55, 106.63 + 0.0011042, 35.55 + 0.00090437)
    assert 9_900 < polygon_area_m2(cell) < 10_100
