"""Assessment figures and dashboard counts, aggregated in SQL (two grouped queries per request).

Definitions are in app.stats.figures. Only aggregates leave the database: one row per group (a
unit, a cell, a reporter or a category), never a case. Cells roll up to the groups asked for (the
children of ``grid``) from per-cell rows, because a cell's subtree is a prefix of its path.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.cases.models import OPEN_STATUSES, Alert, Case, CaseEvent, Status
from app.cases.queries import light_condition
from app.categories.models import Category
from app.grids.models import GridCell, subtree
from app.stats.figures import COUNTS, FIGURES, SUMS, ratio
from app.units.models import Unit

GroupBy = Literal["unit", "grid", "worker", "category"]
UNGROUPED = {"unit": "未派遣(调度队列)", "worker": "第三方系统", "grid": "", "category": ""}
_KEYS: dict[str, Any] = {
    "unit": Case.unit_id,
    "grid": Case.grid_id,
    "worker": Case.reporter_id,
    "category": Case.category_code,
}


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def late(now: dt.datetime) -> ColumnElement[bool]:
    """Past the deadline as it stands at ``now``: the clock ran out, or it was stopped too late (resolved
    after the deadline, or put on hold with more than the limit used). A stopped clock's deadline is the
    one that stood when it stopped, so the stopped cases are judged by what was recorded then."""
    return or_(
        and_(Case.clock_started_at.is_not(None), Case.due_at <= now),
        and_(Case.status == Status.resolved.value, Case.resolved_on_time.is_(False)),
        and_(Case.status == Status.on_hold.value, Case.used_seconds > Case.limit_seconds),
    )


def _case_aggregates(now: dt.datetime) -> list[Any]:
    registered = Case.status.not_in([Status.reported.value, Status.rejected.value])
    past_due = late(now)
    closed = Case.status == Status.closed.value
    dispatched = Case.dispatched_at.is_not(None)
    resolved = Case.resolved_at.is_not(None)
    handled = and_(resolved, dispatched)  # a unit's work: not the self-handled (fixed on the spot)
    due_to_close = and_(registered, or_(closed, past_due))
    return [
        func.count().label("filed"),
        _count(Case.status != Status.reported.value).label("decided"),
        _count(registered).label("registered"),
        _count(due_to_close).label("due_to_close"),
        _count(closed).label("closed"),
        _count(and_(closed, Case.resolved_on_time.is_(True))).label("closed_on_time"),
        _count(dispatched).label("dispatched"),
        _count(and_(dispatched, or_(resolved, past_due))).label("due_to_handle"),
        _count(and_(dispatched, Case.resolved_on_time.is_(True))).label("handled_on_time"),
        _count(and_(due_to_close, Case.rework_count > 0)).label("reworked"),
        _count(and_(dispatched, Case.extension_count > 0)).label("extended"),
        _count(and_(dispatched, Case.hold_count > 0)).label("held"),
        _count(handled).label("resolved"),
        (func.coalesce(func.sum(case((handled, Case.used_seconds), else_=0.0)), 0.0) / 3600.0).label(
            "handling_hours"
        ),
        *[_count(Case.status == s.value).label(f"state_{s.value}") for s in Status],
    ]


async def _names(session: AsyncSession, group_by: GroupBy, keys: set[Any]) -> dict[Any, str]:
    keys = {k for k in keys if k is not None}
    if not keys:
        return {}
    if group_by == "unit":
        rows = await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(keys)))
    elif group_by == "worker":
        rows = await session.execute(
            select(User.id, func.coalesce(func.nullif(User.display_name, ""), User.username)).where(
                User.id.in_(keys)
            )
        )
    elif group_by == "category":
        rows = await session.execute(select(Category.code, Category.name_zh).where(Category.code.in_(keys)))
    else:
        rows = await session.execute(select(GridCell.id, GridCell.name).where(GridCell.id.in_(keys)))
    return {k: v for k, v in rows.all()}


async def _grid_groups(session: AsyncSession, root: GridCell | None, cell_ids: set[int]) -> dict[int, int]:
    """Each cell id mapped to the group it rolls up to: a child of ``root`` (or ``root`` itself for
    cases placed on it), or a top-level cell when there is no root."""
    if not cell_ids:
        return {}
    if root is None:
        groups = dict(
            (
                await session.execute(select(GridCell.path, GridCell.id).where(GridCell.parent_id.is_(None)))
            ).all()
        )
        if len(groups) == 1:  # one district: its children say more than one row would
            root = await session.get(GridCell, next(iter(groups.values())))
    if root is not None:
        groups = dict(
            (
                await session.execute(select(GridCell.path, GridCell.id).where(GridCell.parent_id == root.id))
            ).all()
        )
        groups[root.path] = root.id
    paths = dict(
        (await session.execute(select(GridCell.id, GridCell.path).where(GridCell.id.in_(cell_ids)))).all()
    )
    out = {}
    for cell_id, path in paths.items():
        ids = path.strip("/").split("/")
        prefixes = ["/" + "/".join(ids[: n + 1]) + "/" for n in range(len(ids))]
        # The deepest matching prefix: a child of root before root itself.
        out[cell_id] = next(groups[p] for p in reversed(prefixes) if p in groups)
    return out


async def assessment(
    session: AsyncSession,
    scope: ColumnElement[bool],
    group_by: GroupBy,
    start: dt.datetime,
    end: dt.datetime,
    root: GridCell | None,
    now: dt.datetime,
    source: str | None = None,
) -> dict[str, Any]:
    """Figures of the cases filed in ``[start, end)`` that ``scope`` admits (the caller's view),
    grouped by ``group_by``; with ``root``, only its subtree (and, for ``grid``, by its children); with
    ``source``, only the cases of that origin (``cases.source``)."""
    cohort = and_(scope, Case.deleted_at.is_(None), Case.created_at >= start, Case.created_at < end)
    if source is not None:
        cohort = and_(cohort, Case.source == source)
    if root is not None:
        cohort = and_(cohort, subtree(Case.grid_path, root.path))
    key = _KEYS[group_by]
    rows = (
        await session.execute(select(key.label("key"), *_case_aggregates(now)).where(cohort).group_by(key))
    ).all()
    event_key = CaseEvent.unit_id if group_by == "unit" else key
    event_rows = (
        await session.execute(
            select(
                event_key.label("key"),
                _count(CaseEvent.action == "dispatch").label("dispatches"),
                _count(CaseEvent.action == "return").label("returns"),
            )
            .select_from(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(cohort, CaseEvent.action.in_(("dispatch", "return")))
            .group_by(event_key)
        )
    ).all()

    mapping: dict[Any, Any] | None = None
    if group_by == "grid":
        mapping = await _grid_groups(session, root, {r.key for r in rows} | {r.key for r in event_rows})
    totals: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        bucket = totals[mapping[r.key] if mapping is not None else r.key]
        for name, value in r._mapping.items():
            if name != "key":
                bucket[name] += float(value or 0)
    for r in event_rows:
        bucket = totals[mapping[r.key] if mapping is not None else r.key]
        bucket["dispatches"] += float(r.dispatches)
        bucket["returns"] += float(r.returns)
    names = await _names(session, group_by, set(totals))
    names[None] = UNGROUPED[group_by]
    groups = [
        {"key": None if k is None else str(k), "name": names.get(k), **_present(v)}
        for k, v in sorted(totals.items(), key=lambda kv: (kv[0] is None, str(kv[0])))
    ]
    overall: dict[str, float] = defaultdict(float)
    for v in totals.values():
        for name, value in v.items():
            overall[name] += value
    return {"groups": groups, "total": _present(overall)}


def _present(sums: dict[str, float]) -> dict[str, Any]:
    counts = {name: int(sums.get(name, 0)) for name in COUNTS}
    values = {**counts, **{name: round(sums.get(name, 0.0), 2) for name in SUMS}}
    return {
        "counts": counts,
        "handling_hours": values["handling_hours"],
        "by_state": {s.value: int(sums.get(f"state_{s.value}", 0)) for s in Status},
        "figures": {
            f.key: {
                "numerator": values[f.numerator],
                "denominator": values[f.denominator],
                "value": ratio(values[f.numerator], values[f.denominator], 2 if f.per_case else 4),
            }
            for f in FIGURES
        },
    }


async def overview(
    session: AsyncSession, scope: ColumnElement[bool], today_start: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """Open cases by state and by light, today's new and closed, and open veto alerts (in ``scope``)."""
    alive = and_(scope, Case.deleted_at.is_(None))
    open_ = Case.status.in_([s.value for s in OPEN_STATUSES])
    lights = {
        name: _count(light_condition(name, now)).label(name) for name in ("green", "yellow", "red", "paused")
    }
    row = (
        await session.execute(
            select(
                func.count().label("open"),
                *lights.values(),
                *[_count(Case.status == s.value).label(s.value) for s in OPEN_STATUSES],
            ).where(alive, open_)
        )
    ).one()
    new_today = (
        await session.execute(select(func.count()).where(alive, Case.created_at >= today_start))
    ).scalar_one()
    closed_today = (
        await session.execute(
            select(func.count()).where(
                alive, Case.status == Status.closed.value, Case.closed_at >= today_start
            )
        )
    ).scalar_one()
    alerts = (
        await session.execute(
            select(Alert.id, Alert.case_id, Alert.kind, Alert.message, Alert.created_at)
            .join(Case, Case.id == Alert.case_id)
            .where(alive, open_, Alert.acknowledged_at.is_(None))
            .order_by(Alert.id.desc())
            .limit(20)
        )
    ).all()
    alert_count = (
        await session.execute(
            select(func.count())
            .select_from(Alert)
            .join(Case, Case.id == Alert.case_id)
            .where(alive, open_, Alert.acknowledged_at.is_(None))
        )
    ).scalar_one()
    return {
        "open": row.open,
        "open_by_state": {s.value: getattr(row, s.value) for s in OPEN_STATUSES},
        "open_by_light": {name: getattr(row, name) for name in lights}
        | {"none": row.open - sum(getattr(row, name) for name in lights)},
        "new_today": new_today,
        "closed_today": closed_today,
        "veto_alerts": {"open": alert_count, "latest": [dict(a._mapping) for a in alerts]},
    }
