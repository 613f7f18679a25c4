"""The sums behind the campaign's figures (docs/campaign.md "Scores"), per group key: what a round's visits and
failures add up to, and which failures recurred. A published round's part never changes, so it is read once
per process (:class:`Snapshot`); the failures' cases are read as they are now, every time.

See app.campaign.scoring for the definitions and for the answers built from these sums.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign.attribution import SCORED_AS
from app.campaign.definitions import RECURRENCE_DAYS
from app.campaign.models import Point, Result, Round, Visit
from app.campaign.score_schemas import Fraction
from app.cases.models import Case, Status
from app.core.db import utcnow
from app.grids.directory import directory
from app.grids.models import subtree

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
        # Spelt out: a group per point makes this run thousands of times a request.
        self.points += other.points
        self.score_sum += other.score_sum
        self.rate_num += other.rate_num
        self.rate_den += other.rate_den
        self.passed += other.passed
        self.failures += other.failures
        self.closed += other.closed
        self.on_time += other.on_time
        self.due += other.due
        self.recurring += other.recurring

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


@dataclass
class Snapshot:
    """What rounds answer that never changes once they are published: the visits' sums per group key, and
    each failure as (group key, case id, recurred). Only the failures' cases move afterwards."""

    visits: dict[Any, Parts]
    failures: list[tuple[Any, int | None, bool]]


# Snapshots of published rounds, by (round id, when it was published, grouping): a published round's visits,
# results, attribution and recurrence are frozen, so they are read once per process (the publishing instant
# keeps a reused id, e.g. in another database, from matching). A few hundred rounds x four groupings.
_FROZEN: OrderedDict[tuple[int, dt.datetime, str], Snapshot] = OrderedDict()
_FROZEN_MAX = 512


async def snapshot(session: AsyncSession, round_ids: list[int], group_by: str) -> Snapshot:
    """The frozen part of the figures of ``round_ids`` (module docstring), read from the database."""
    key = await group_key(session, round_ids, group_by)
    visits: dict[Any, Parts] = defaultdict(Parts)
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
    rows = await session.execute(
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
    for k, n, score_sum, rate_num, rate_den, passed, code, name in rows:
        p = visits[k]
        p.points, p.score_sum = n, float(score_sum or 0)
        p.rate_num, p.rate_den = int(rate_num or 0), int(rate_den or 0)
        p.passed, p.code, p.name = int(passed or 0), code, name
    failures = (
        await session.execute(
            select(key, Visit.point_id, Result.item_code, Visit.submitted_at, Result.case_id)
            .select_from(Result)
            .join(Visit, Visit.id == Result.visit_id)
            .join(Point, Point.id == Visit.point_id)
            .join(Round, Round.id == Visit.round_id)
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
    return Snapshot(
        visits=dict(visits),
        failures=[
            (k, case_id, _recurred(closed_before.get((point_id, item_code), []), at))
            for k, point_id, item_code, at, case_id in failures
        ],
    )


async def _snapshots(session: AsyncSession, round_ids: list[int], group_by: str) -> list[Snapshot]:
    published: dict[int, dt.datetime] = {
        rid: at
        for rid, at in await session.execute(
            select(Round.id, Round.published_at).where(
                Round.id.in_(round_ids), Round.published_at.is_not(None)
            )
        )
        if at is not None
    }
    found = []
    for rid, at in published.items():
        cache_key = (rid, at, group_by)
        if cache_key not in _FROZEN:
            _FROZEN[cache_key] = await snapshot(session, [rid], group_by)
            while len(_FROZEN) > _FROZEN_MAX:
                _FROZEN.popitem(last=False)
        _FROZEN.move_to_end(cache_key)
        found.append(_FROZEN[cache_key])
    unpublished = [rid for rid in round_ids if rid not in published]
    if unpublished:
        found.append(await snapshot(session, unpublished, group_by))
    return found


async def parts(session: AsyncSession, round_ids: list[int], group_by: str) -> dict[Any, Parts]:
    """The sums per group key (module docstring): the frozen part of each published round read once per
    process (:class:`Snapshot`), an unpublished round's read now, and the failures' cases as they are now
    (one indexed read of the rounds' failures with their case)."""
    out: dict[Any, Parts] = defaultdict(Parts)
    snaps = await _snapshots(session, round_ids, group_by)
    cases = {
        case_id: (status, on_time, due_at)
        for case_id, status, on_time, due_at in await session.execute(
            select(Result.case_id, Case.status, Case.resolved_on_time, Case.due_at)
            .join(Case, Case.id == Result.case_id)
            .where(Result.round_id.in_(round_ids), Result.result == "noncompliant")
        )
    }
    now = utcnow()
    for snap in snaps:
        for k, p in snap.visits.items():
            mine = out[k]
            mine.add(p)
            mine.code, mine.name = mine.code or p.code, mine.name or p.name
        for k, case_id, recurred in snap.failures:
            p = out[k]
            status, on_time, due_at = (
                cases.get(case_id, (None, None, None)) if case_id else (None, None, None)
            )
            closed = status == Status.closed.value
            p.failures += 1
            p.closed += closed
            p.on_time += closed and on_time is True
            p.due += closed or (due_at is not None and due_at <= now)
            p.recurring += recurred
    return dict(out)
