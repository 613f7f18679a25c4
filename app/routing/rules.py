"""Routing rules (docs/domain.md "Routing: who is responsible"): a pure function, no database.

For a report at point P in category C, with the chain of cells containing P (deepest first):

1. an assignment for exactly C on the chain, deepest cell first;
2. failing that, one for C's major class (its first two digits), deepest first;
3. failing that, a general assignment (no category), deepest first;
4. nothing: no unit; the case waits in the dispatchers' queue.

So the most specific category wins first, then the nearest cell. Ties (several assignments on the
same cell at the same specificity) go to the oldest assignment, i.e. the smallest id: it is
deterministic, and a newly added duplicate never silently takes over a unit's work.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.units.models import Scope


class Rule(str, enum.Enum):
    category = "category"  # an assignment for exactly this category
    major = "major"  # an assignment for the category's major class
    general = "general"  # the cell's general partner unit
    none = "none"  # nothing matched: dispatchers decide
    # A campaign inspection's failure (定岗定责): the unit answering for that item at that point, or for the
    # point; when neither is set the ordinary rules above apply.
    duty_item = "duty_item"
    duty_point = "duty_point"


@dataclass(frozen=True)
class Duty:
    """The inspection point (and item) whose duty chose the unit."""

    point_code: str
    point_name: str
    item_code: str | None = None


RULE_ORDER = (Scope.category, Scope.major, Scope.general)


@dataclass(frozen=True)
class ChainCell:
    id: int
    code: str
    name: str
    level: int


@dataclass(frozen=True)
class Candidate:
    """An assignment of an active unit, as routing needs it."""

    assignment_id: int
    unit_id: int
    unit_name: str
    grid_id: int
    category_code: str | None


@dataclass(frozen=True)
class Decision:
    rule: Rule
    cell: ChainCell  # the deepest cell containing the point: the case's grid cell
    matched_cell: ChainCell | None  # the cell whose assignment matched (the cell itself or an ancestor)
    assignment_id: int | None
    unit_id: int | None
    unit_name: str | None
    category_code: str
    duty: Duty | None = None  # a duty rule: the point and item

    @property
    def inherited(self) -> bool:
        return self.matched_cell is not None and self.matched_cell.id != self.cell.id

    def explanation(self, lang: str = "en") -> str:
        """Why this unit (or none) was chosen, in ``lang`` (``en`` or ``zh``)."""
        c, m = self.cell, self.matched_cell
        if self.rule in (Rule.duty_item, Rule.duty_point) and self.duty is not None:
            d = self.duty
            if self.rule is Rule.duty_item:
                return (
                    f"点位 {d.point_name}({d.point_code}) 的检查项 {d.item_code} 定岗定责，由{self.unit_name}负责。"
                    if lang == "zh"
                    else f"{self.unit_name} answers for item {d.item_code} at point {d.point_code} ({d.point_name})."
                )
            return (
                f"点位 {d.point_name}({d.point_code}) 定岗定责，由责任单位{self.unit_name}负责。"
                if lang == "zh"
                else f"{self.unit_name} is the responsible unit of point {d.point_code} ({d.point_name})."
            )
        if self.rule is Rule.none or m is None:
            if lang == "zh":
                return (
                    f"网格 {c.name}({c.code}) 及其上级网格均无处置类别 {self.category_code} 的包抓单位，"
                    "案件进入派遣员待派队列。"
                )
            return (
                f"No unit is assigned to category {self.category_code}, its major class or in general on "
                f"cell {c.code} ({c.name}) or any cell above it; the case waits for a dispatcher."
            )
        where_zh = (
            f"网格 {c.name}({c.code}) 本身"
            if not self.inherited
            else f"网格 {c.code} 的上级网格 {m.name}({m.code})"
        )
        where_en = (
            f"cell {c.code} ({c.name})"
            if not self.inherited
            else f"{m.code} ({m.name}), inherited by cell {c.code}"
        )
        if self.rule is Rule.category:
            what_zh, what_en = (
                f"类别 {self.category_code} 的专项包抓",
                f"a category assignment for {self.category_code}",
            )
        elif self.rule is Rule.major:
            major = self.category_code[:2]
            what_zh, what_en = f"大类 {major} 的专项包抓", f"a major-class assignment for {major}"
        else:
            what_zh, what_en = "综合包抓（不限类别）", "a general assignment (all categories)"
        if lang == "zh":
            return f"{where_zh}设有{what_zh}，由{self.unit_name}负责。"
        return f"{self.unit_name} has {what_en} on {where_en}."


def route(
    chain: Sequence[ChainCell], category_code: str, assignments: Mapping[int, Sequence[Candidate]]
) -> Decision:
    """Who answers for ``category_code`` at the point whose cells are ``chain`` (deepest first).

    ``assignments`` maps a grid cell id to the candidates on that cell (inactive units left out).
    ``chain`` must not be empty (a point outside the service area is refused before routing).
    """
    if not chain:
        raise ValueError("routing needs at least one grid cell")
    major = category_code[:2]
    wanted = {Scope.category: category_code, Scope.major: major, Scope.general: None}
    for scope in RULE_ORDER:
        for cell in chain:
            matches = [a for a in assignments.get(cell.id, ()) if a.category_code == wanted[scope]]
            if matches:
                best = min(matches, key=lambda a: a.assignment_id)
                return Decision(
                    rule=Rule(scope.value),
                    cell=chain[0],
                    matched_cell=cell,
                    assignment_id=best.assignment_id,
                    unit_id=best.unit_id,
                    unit_name=best.unit_name,
                    category_code=category_code,
                )
    return Decision(
        rule=Rule.none,
        cell=chain[0],
        matched_cell=None,
        assignment_id=None,
        unit_id=None,
        unit_name=None,
        category_code=category_code,
    )
