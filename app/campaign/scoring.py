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
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign.attribution import SCORED_AS
from app.campaign.definitions import DEFINITIONS
from app.campaign.figures import _SCORED, Parts, fraction, parts
from app.campaign.models import Point, PointType, Result, Round, Visit
from app.campaign.score_schemas import (
    FailingItem,
    Figures,
    Group,
    ItemRef,
    ItemsOut,
    RoundBrief,
    ScoresOut,
    Subject,
    TrendOut,
    TrendPoint,
)
from app.grids.directory import directory
from app.units.book import units

NO_UNIT = "未指定责任单位 / no responsible unit"


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
