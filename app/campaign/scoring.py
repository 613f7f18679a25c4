"""Scores over rounds, grouped by point, point type, street or responsible unit; their trend over rounds; the
items that fail most (docs/campaign.md "Scores").

Every figure is summed in SQL from what each visit stored when it was submitted (``score_num/score_den``,
``rate_num/rate_den``: app.campaign.scores) and from the results, which keep the item's weight as answered.
Visits are grouped by what they are scored as (app.campaign.attribution ``SCORED_AS``): for a published round
that is the point as it was at publishing, so later edits of points, duties or checklists change nothing.
Rectification figures follow the failures' cases as they are now (fixing is what happens after publishing).

- Only submitted visits with at least one applicable item are scored (unable and pending ones are not).
- score: numerator = sum of the points' scores (each 100 x score_num / score_den), denominator = points;
  compliance: sum rate_num / sum rate_den; passed: points passed / points (passed: no item failed, or the
  score rounded to 2 decimals reaches the round's pass mark).
- rectified: failures whose case is closed / failures; rectified_on_time: failures whose case closed on
  time / failures due (due_at passed, or closed); recurrence: failures of an item at a point where the same
  item failed before and its case was closed at most 30 days before this visit was submitted / failures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign.attribution import SCORED_AS
from app.campaign.definitions import DEFINITIONS, RECURRENCE_DAYS
from app.campaign.models import Point, PointType, Result, Round, Visit
from app.campaign.score_schemas import (
    FailingItem,
    Figures,
    Fraction,
    Group,
    ItemRef,
    ItemsOut,
    RoundBrief,
    ScoresOut,
    Subject,
    TrendOut,
    TrendPoint,
)
from app.cases.models import Case, Status
from app.core.db import utcnow
from app.grids.directory import directory
from app.grids.models import subtree
from app.units.book import units

NO_UNIT = "未指定责任单位 / no responsible unit"

_SCORED = and_(Visit.status == "submitted", Visit.score_den > 0)
_POINT_SCORE = 100.0 * Visit.score_num / Visit.score_den
# The score rounded to 2 decimals reaches the pass mark, as app.campaign.scores.Figures.passed decides.
_PASSED = or_(
    Visit.rate_num == Visit.rate_den, 100.0 * Visit.score_num >= (Round.pass_mark - 0.005) * Visit.score_den
)


@dataclass
class Parts:
    """The sums of one group (or of everything)."""

    points: int = 0
    score_sum: float = 0.0
    rate_num: int = 0
    rate_den: int = 0
    passed: int = 0
    failures: int = 0
    closed: int = 0
    on_time: int = 0
    due: int = 0
    recurring: int = 0
    code: str | None = None
    name: str | None = None
    keys: list[Any] = field(default_factory=list)

    def add(self, other: Parts) -> None:
        for name in ("points", "score_sum", "rate_num", "rate_den", "passed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("failures", "closed", "on_time", "due", "recurring"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, Fraction]:
        return {
            "score": fraction(self.score_sum, self.points, 2),
            "compliance": fraction(self.rate_num, self.rate_den),
            "passed": fraction(self.passed, self.points),
            "rectified": fraction(self.closed, self.failures),
            "rectified_on_time": fraction(self.on_time, self.due),
            "recurrence": fraction(self.recurring, self.failures),
        }


def fraction(numerator: float, denominator: float, digits: int = 4) -> Fraction:
    value = round(numerator / denominator, digits) if denominator else None
    return Fraction(numerator=round(float(numerator), 6), denominator=float(denominator), value=value)


async def _street_key(session: AsyncSession, round_ids: list[int]) -> Any:
    """The street of a visit: the child of its round's scope cell its point lies under (else the scope)."""
    cells = await directory(session)
    scopes = dict(
        (await session.execute(select(Round.id, Round.grid_id).where(Round.id.in_(round_ids)))).all()
    )
    whens = []
    for round_id, scope_id in scopes.items():
        for child in cells.by_id.values():
            if child.parent_id == scope_id:
                whens.append(
                    (and_(Visit.round_id == round_id, subtree(SCORED_AS.grid_path, child.path)), child.id)
                )
    return case(*whens, else_=Round.grid_id) if whens else Round.grid_id


async def group_key(session: AsyncSession, round_ids: list[int], group_by: str) -> Any:
    if group_by == "point":
        return Visit.point_id
    if group_by == "point_type":
        return SCORED_AS.type_code
    if group_by == "unit":
        return SCORED_AS.unit_id
    return await _street_key(session, round_ids)


async def _closed_failures(
    session: AsyncSession, points: set[int], since: dt.datetime, until: dt.datetime
) -> dict[tuple[int, str], list[dt.datetime]]:
    """When the inspection cases that closed in [since, until) closed, by (point, item): read from the cases
    (the ``cases.closed_at`` index) and the point and item each names (``Case.inspection``; a repeat joins
    the case of the same point and item), not by walking every earlier visit of every point."""
    rows = await session.execute(
        select(
            Case.inspection["point"]["id"].as_integer(),
            Case.inspection["item"]["code"].as_string(),
            Case.closed_at,
        ).where(
            Case.status == Status.closed.value,
            Case.closed_at >= since,
            Case.closed_at < until,
            Case.source == "inspection",
        )
    )
    closed: dict[tuple[int, str], list[dt.datetime]] = defaultdict(list)
    for point_id, item_code, at in rows:
        if point_id in points and item_code and at is not None:
            closed[(point_id, item_code)].append(at)
    return closed


def _recurred(closed: list[dt.datetime], submitted: dt.datetime | None) -> bool:
    """The item failed at the point before and its case closed at most 30 days before this visit."""
    if submitted is None:
        return False
    window = dt.timedelta(days=RECURRENCE_DAYS)
    return any(at < submitted and submitted - at <= window for at in closed)


async def parts(session: AsyncSession, round_ids: list[int], group_by: str) -> dict[Any, Parts]:
    """The sums per group key (module docstring): the visits summed in SQL; the failures, one row each from
    the (round, result) index with their case, summed here with the recurrence the window decides."""
    key = await group_key(session, round_ids, group_by)
    out: dict[Any, Parts] = defaultdict(Parts)
    # Grouped through a subquery: PostgreSQL would not match a GROUP BY expression with bound parameters
    # (the street's CASE) to the same expression in the SELECT list.
    per_visit = (
        select(
            key.label("key"),
            _POINT_SCORE.label("score"),
            Visit.rate_num,
            Visit.rate_den,
            case((_PASSED, 1), else_=0).label("passed"),
            SCORED_AS.code.label("code"),
            SCORED_AS.name.label("name"),
        )
        .select_from(Visit)
        .join(Point, Point.id == Visit.point_id)
        .join(Round, Round.id == Visit.round_id)
        .where(Visit.round_id.in_(round_ids), _SCORED)
        .subquery()
    )
    v = per_visit.c
    visits = await session.execute(
        select(
            v.key,
            func.count(),
            func.sum(v.score),
            func.sum(v.rate_num),
            func.sum(v.rate_den),
            func.sum(v.passed),
            func.max(v.code),
            func.max(v.name),
        ).group_by(v.key)
    )
    for k, n, score_sum, rate_num, rate_den, passed, code, name in visits:
        p = out[k]
        p.points, p.score_sum = n, float(score_sum or 0)
        p.rate_num, p.rate_den = int(rate_num or 0), int(rate_den or 0)
        p.passed, p.code, p.name = int(passed or 0), code, name
    failures = (
        await session.execute(
            select(
                key,
                Visit.point_id,
                Result.item_code,
                Visit.submitted_at,
                Case.status,
                Case.resolved_on_time,
                Case.due_at,
            )
            .select_from(Result)
            .join(Visit, Visit.id == Result.visit_id)
            .join(Point, Point.id == Visit.point_id)
            .join(Round, Round.id == Visit.round_id)
            .outerjoin(Case, Case.id == Result.case_id)
            .where(
                Result.round_id.in_(round_ids),
                Result.result == "noncompliant",
                Visit.round_id.in_(round_ids),  # the same rounds: lets the planner take the visits' index
                _SCORED,
            )
        )
    ).all()
    submitted = [row[3] for row in failures if row[3] is not None]
    closed_before = (
        await _closed_failures(
            session,
            {row[1] for row in failures},
            min(submitted) - dt.timedelta(days=RECURRENCE_DAYS),
            max(submitted),
        )
        if submitted
        else {}
    )
    now = utcnow()
    for k, point_id, item_code, at, status, on_time, due_at in failures:
        p = out[k]
        closed = status == Status.closed.value
        p.failures += 1
        p.closed += closed
        p.on_time += closed and on_time is True
        p.due += closed or (due_at is not None and due_at <= now)
        p.recurring += _recurred(closed_before.get((point_id, item_code), []), at)
    return dict(out)


async def subjects(
    session: AsyncSession, round_ids: list[int], group_by: str, found: dict[Any, Parts]
) -> dict[Any, Subject]:
    """What each group key names: a point, a point type, a cell (street) or a unit."""
    if group_by == "point":
        return {k: Subject(kind="point", id=k, code=p.code, name=p.name or "") for k, p in found.items()}
    if group_by == "point_type":
        editions = select(Round.edition_id).where(Round.id.in_(round_ids))
        names = {
            code: (id_, name)
            for code, id_, name in await session.execute(
                select(PointType.code, PointType.id, PointType.name_zh)
                .where(PointType.edition_id.in_(editions))
                .order_by(PointType.edition_id)
            )
        }
        return {
            k: Subject(
                kind="point_type", id=names.get(k, (None, ""))[0], code=k, name=names.get(k, (None, k))[1]
            )
            for k in found
        }
    if group_by == "unit":
        book = await units(session)
        return {
            k: Subject(kind="unit", id=k, code=None, name=book[k].name if k in book else NO_UNIT)
            for k in found
        }
    cells = await directory(session)
    return {
        k: Subject(kind="grid", id=k, code=cells.by_id[k].code, name=cells.by_id[k].name)
        if k in cells.by_id
        else Subject(kind="grid", id=k, code=None, name=str(k))
        for k in found
    }


async def scores(session: AsyncSession, round_ids: list[int], group_by: str) -> ScoresOut:
    """The figures of ``round_ids`` per group and in total, groups by score (desc, no score last), then name.
    The caller checks the rounds exist."""
    found = await parts(session, round_ids, group_by) if round_ids else {}
    named = await subjects(session, round_ids, group_by, found)
    total = Parts()
    groups = []
    for k, p in found.items():
        total.add(p)
        groups.append(Group(subject=named[k], points=p.points, **p.figures()))
    groups.sort(
        key=lambda g: (g.score.value is None, -(g.score.value or 0), g.subject.name, g.subject.id or 0)
    )
    return ScoresOut(
        rounds=sorted(round_ids),
        group_by=group_by,
        definitions=DEFINITIONS,
        total=Figures(**total.figures()),
        groups=groups,
    )


def _published() -> ColumnElement[bool]:
    return Round.published_at.is_not(None)


async def published_between(session: AsyncSession, start: dt.date | None, end: dt.date | None) -> list[int]:
    """Published rounds whose period lies inside [start, end] (either bound optional)."""
    query = select(Round.id).where(_published())
    if start is not None:
        query = query.where(Round.period_from >= start)
    if end is not None:
        query = query.where(Round.period_to <= end)
    return list((await session.execute(query.order_by(Round.id))).scalars())


async def trend(
    session: AsyncSession,
    group_by: str = "grid",
    subject: str | None = None,
    grid: int | None = None,
    kind: str | None = None,
) -> TrendOut:
    """The figures of each published round (of scope cell ``grid``, of ``kind``) in period order: of the group
    whose id or code is ``subject``, else the total. A round without that subject has empty figures."""
    query = select(Round).where(_published())
    if grid is not None:
        query = query.where(Round.grid_id == grid)
    if kind is not None:
        query = query.where(Round.kind == kind)
    out = []
    for r in (await session.execute(query.order_by(Round.period_from, Round.period_to, Round.id))).scalars():
        found = await scores(session, [r.id], group_by)
        figures: Figures = found.total
        if subject is not None:
            match = [g for g in found.groups if str(g.subject.id) == subject or g.subject.code == subject]
            figures = Figures(
                **(match[0].model_dump(include=set(Figures.model_fields)) if match else Parts().figures())
            )
        brief = RoundBrief(id=r.id, title=r.title, period_from=r.period_from, period_to=r.period_to)
        out.append(TrendPoint(round=brief, **dict(figures)))
    return TrendOut(points=out)


async def items(
    session: AsyncSession, round_ids: list[int], point_type: str | None = None, limit: int = 10
) -> ItemsOut:
    """The items of ``round_ids`` that failed at least once (of ``point_type``), by the weight they lost,
    then by how often they failed, then by point type and code; at most ``limit``."""
    failed = case((Result.result == "noncompliant", 1), else_=0)
    lost = func.sum(case((Result.result == "noncompliant", Result.weight), else_=0.0))
    query = (
        select(
            SCORED_AS.type_code,
            Result.item_code,
            func.max(Result.item_text),
            func.sum(failed),
            func.count(),
            lost,
        )
        .select_from(Result)
        .join(Visit, Visit.id == Result.visit_id)
        .join(Point, Point.id == Visit.point_id)
        .where(Visit.round_id.in_(round_ids), _SCORED, Result.result != "not_applicable")
        .group_by(SCORED_AS.type_code, Result.item_code)
        .having(func.sum(failed) > 0)
        .order_by(lost.desc(), func.sum(failed).desc(), SCORED_AS.type_code, Result.item_code)
        .limit(limit)
    )
    if point_type is not None:
        query = query.where(SCORED_AS.type_code == point_type)
    rows = await session.execute(query)
    return ItemsOut(
        items=[
            FailingItem(
                point_type=type_code,
                item=ItemRef(code=code, text=text),
                failures=fraction(int(n_failed), int(n)),
                weight_lost=round(float(weight_lost), 6),
            )
            for type_code, code, text, n_failed, n, weight_lost in rows
        ]
    )
