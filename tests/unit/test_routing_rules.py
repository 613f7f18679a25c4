"""The routing rules as a pure function (DOMAIN.md "Routing: who is responsible")."""

from hypothesis import given
from hypothesis import strategies as st

from app.routing.rules import Candidate, ChainCell, Rule, route
from app.units.models import Scope, scope_of

CELL = ChainCell(3, "620802001001001", "东关街道第001网格", 3)
STREET = ChainCell(2, "620802001", "东关街道", 2)
DISTRICT = ChainCell(1, "620802", "崆峒区", 1)
CHAIN = [CELL, STREET, DISTRICT]


def cand(aid: int, grid: ChainCell, code: str | None, unit: str = "") -> Candidate:
    return Candidate(
        assignment_id=aid,
        unit_id=aid * 10,
        unit_name=unit or f"unit{aid}",
        grid_id=grid.id,
        category_code=code,
    )


def by_cell(*cands: Candidate) -> dict[int, list[Candidate]]:
    out: dict[int, list[Candidate]] = {}
    for c in cands:
        out.setdefault(c.grid_id, []).append(c)
    return out


def test_category_assignment_on_an_ancestor_beats_the_cells_general_unit() -> None:
    d = route(CHAIN, "09009", by_cell(cand(1, CELL, None), cand(2, DISTRICT, "09009", "交警大队")))
    assert (d.rule, d.unit_name, d.matched_cell, d.inherited) == (Rule.category, "交警大队", DISTRICT, True)


def test_major_class_beats_general_and_loses_to_exact_category() -> None:
    assignments = by_cell(cand(1, CELL, None), cand(2, STREET, "08"), cand(3, DISTRICT, "08004"))
    assert route(CHAIN, "08004", assignments).assignment_id == 3
    assert route(CHAIN, "08001", assignments).assignment_id == 2
    assert route(CHAIN, "06010", assignments).assignment_id == 1


def test_nearest_cell_wins_at_the_same_specificity() -> None:
    d = route(CHAIN, "06010", by_cell(cand(1, DISTRICT, None), cand(2, STREET, None), cand(3, CELL, None)))
    assert (d.assignment_id, d.inherited) == (3, False)
    d = route(CHAIN, "06010", by_cell(cand(1, DISTRICT, None), cand(2, STREET, None)))
    assert (d.assignment_id, d.matched_cell) == (2, STREET)


def test_tie_on_one_cell_goes_to_the_oldest_assignment() -> None:
    d = route(CHAIN, "06010", by_cell(cand(9, STREET, None), cand(4, STREET, None), cand(7, STREET, None)))
    assert d.assignment_id == 4


def test_nothing_assigned_means_no_unit_and_rule_none() -> None:
    d = route(CHAIN, "06010", by_cell(cand(1, STREET, "09009")))
    assert (d.rule, d.unit_id, d.matched_cell, d.cell) == (Rule.none, None, None, CELL)
    assert "dispatcher" in d.explanation("en") and "派遣员" in d.explanation("zh")


def test_explanations_name_the_unit_the_cell_and_the_rule() -> None:
    d = route(CHAIN, "09009", by_cell(cand(2, DISTRICT, "09009", "交警大队")))
    en, zh = d.explanation("en"), d.explanation("zh")
    assert "交警大队" in en and "620802" in en and "09009" in en and "inherited by cell 620802001001001" in en
    assert "交警大队" in zh and "崆峒区" in zh and "09009" in zh


def test_scope_of_codes() -> None:
    assert [scope_of(None), scope_of("09"), scope_of("09009")] == [Scope.general, Scope.major, Scope.category]


codes = st.sampled_from(["06010", "06013", "09009", "09006", "08004"])
assignment_codes = st.one_of(st.none(), st.sampled_from(["06", "09", "08"]), codes)


@given(category=codes, raw=st.lists(st.tuples(st.sampled_from(CHAIN), assignment_codes), max_size=12))
def test_route_picks_most_specific_then_deepest_then_oldest(category: str, raw: list) -> None:
    cands = [cand(i + 1, grid, code) for i, (grid, code) in enumerate(raw)]
    d = route(CHAIN, category, by_cell(*cands))
    applicable = [c for c in cands if c.category_code in (category, category[:2], None)]
    if not applicable:
        assert d.rule is Rule.none and d.unit_id is None
        return
    rank = {Scope.category: 0, Scope.major: 1, Scope.general: 2}
    depth = {c.id: i for i, c in enumerate(CHAIN)}
    best = min(applicable, key=lambda c: (rank[scope_of(c.category_code)], depth[c.grid_id], c.assignment_id))
    assert d.assignment_id == best.assignment_id
    assert d.rule.value == scope_of(best.category_code).value
    assert d.cell == CELL
