"""The supervisors' case filters of docs/api.md, shared by the list (``GET /api/v1/reports``) and the
export (``GET /api/v1/reports/export``), as one SQL condition on :class:`Case`.

Every filter is written so PostgreSQL can answer it from an index with bound parameters (see the
indexes on ``cases`` and bench/bench_queries.py): a cell's subtree and a major class are byte-order
ranges, not ``LIKE``. The traffic light is filtered from the stored instants: while the clock runs,
green is before ``yellow_at`` (80 % used), yellow up to ``due_at``, red after it; a held case's light
is fixed by the share of the limit it had used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.cases.models import Case, Source, Status
from app.cases.pending import Pending, pending_condition
from app.cases.queries import Light, light_condition, light_is, statuses_in
from app.core.db import utcnow
from app.core.deps import MAX_DB_ID, SessionDep
from app.core.errors import ValidationProblem, refuse_unknown_parameters
from app.core.schemas import Instant, text_problem
from app.grids.models import GridCell, subtree

FILTER_NAMES = frozenset(
    {
        "pending",
        "source",
        "round",
        "status",
        "light",
        "overdue",
        "unit",
        "category",
        "grid",
        "reporter",
        "bbox",
        "created_from",
        "created_to",
        "updated_since",
        "q",
    }
)


@dataclass(frozen=True)
class CaseFilter:
    """The request's filters as one condition, and ``updated_since`` for delta sync."""

    condition: ColumnElement[bool]
    updated_since: dt.datetime | None


def category_condition(category: str) -> ColumnElement[bool]:
    """A 5-digit category code, or every code of a 2-digit major class (a range, so indexable)."""
    if len(category) == 5:
        return Case.category_code == category
    return and_(Case.category_code >= category + "000", Case.category_code <= category + "999")


def _invalid(name: str, msg: str, kind: str) -> ValidationProblem:
    return ValidationProblem([{"loc": ["query", name], "msg": msg, "type": kind}])


def _bbox(bbox: str) -> ColumnElement[bool]:
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        west = south = east = north = float("nan")
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise _invalid("bbox", "minLon,minLat,maxLon,maxLat in degrees", "bbox_invalid")
    return and_(Case.lon.between(west, east), Case.lat.between(south, north))


async def _grid(session: AsyncSession, grid: int) -> ColumnElement[bool]:
    row = (
        await session.execute(
            select(GridCell.path, exists().where(GridCell.parent_id == grid)).where(GridCell.id == grid)
        )
    ).one_or_none()
    if row is None:
        raise _invalid("grid", "no such grid cell", "not_found")
    path, has_children = row
    # A unit cell (no children) is one key of the (grid_id, id) index; a larger cell is a path range.
    return subtree(Case.grid_path, path) if has_children else Case.grid_id == grid


def _created(start: dt.datetime | None, end: dt.datetime | None) -> ColumnElement[bool]:
    """Filed in ``[start, end)``. Ids grow with filing time but the planner cannot know it, so the
    window also bounds the ids exactly (the smallest id filed in it, from the (created_at, id)
    index): a page then starts where the window does instead of walking every older case."""
    window = [
        c
        for c in (start is not None and Case.created_at >= start, end is not None and Case.created_at < end)
        if c is not False
    ]
    inner = aliased(Case)
    inner_window = [
        c
        for c in (start is not None and inner.created_at >= start, end is not None and inner.created_at < end)
        if c is not False
    ]
    # min(id + 0), not min(id): PostgreSQL turns min(id) into a walk of the primary key from its start
    # (400 ms at 1M); the expression makes it read the window's entries of (created_at, id) instead.
    first_id = select(func.min(inner.id + 0)).where(*inner_window).scalar_subquery()
    return and_(*window, Case.id >= first_id) if start is not None else and_(*window)


def case_filters(extra: frozenset[str]) -> Callable[..., Coroutine[Any, Any, CaseFilter]]:
    """A dependency reading the filters; query parameters outside them and ``extra`` are refused
    (422 ``unsupported_filter``), never silently ignored, so a typo cannot widen an export."""
    known = FILTER_NAMES | extra

    async def dependency(
        request: Request,
        session: SessionDep,
        status: Annotated[list[Status], Query(description="repeat for several")] = [],  # noqa: B006
        light: Annotated[
            Light | None,
            Query(description="the traffic light now: green, yellow, red, or paused (on hold)"),
        ] = None,
        overdue: Annotated[bool | None, Query(description="true: red only; false: all but red")] = None,
        unit: Annotated[
            int | None, Query(ge=1, le=MAX_DB_ID, description="the unit holding the case")
        ] = None,
        category: Annotated[
            str | None, Query(pattern=r"^([0-9]{2}|[0-9]{5})$", description="a code or a major class")
        ] = None,
        grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="a cell and all below it")] = None,
        reporter: Annotated[
            int | None, Query(ge=1, le=MAX_DB_ID, description="the user id of who filed it")
        ] = None,
        bbox: Annotated[
            str | None, Query(max_length=100, description="minLon,minLat,maxLon,maxLat (WGS-84)")
        ] = None,
        created_from: Annotated[
            Instant | None, Query(description="filed at or after (RFC 3339 with an offset)")
        ] = None,
        created_to: Annotated[
            Instant | None, Query(description="filed before (exclusive; RFC 3339 with an offset)")
        ] = None,
        updated_since: Annotated[
            Instant | None, Query(description="delta sync: changes from then on, tombstones included")
        ] = None,
        pending: Annotated[
            list[Pending],
            Query(
                description="what waits for a dispatcher (repeat for several): extension (延期) or hold (挂账) "
                "requests, redispatch (returned by the unit, 回退)"
            ),
        ] = [],  # noqa: B006
        source: Annotated[
            list[Source],
            Query(description="where the case came from (repeat for several): app, api, open311, inspection"),
        ] = [],  # noqa: B006
        round_id: Annotated[
            int | None,
            Query(
                alias="round",
                ge=1,
                le=MAX_DB_ID,
                description="a campaign round's failures (source inspection)",
            ),
        ] = None,
        q: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=100,
                description="text in the description or address, or a tracking code",
            ),
        ] = None,
    ) -> CaseFilter:
        refuse_unknown_parameters(request.query_params, known)
        if updated_since is not None:
            moving = [
                name
                for name, value in (
                    ("pending", pending),
                    ("status", status),
                    ("light", light),
                    ("overdue", overdue),
                    ("unit", unit),
                )
                if value not in (None, [])
            ]
            if moving:
                raise ValidationProblem(
                    [
                        {
                            "loc": ["query", name],
                            "msg": "a case can stop matching this filter "
                            "without a change a delta sync would show; sync without it",
                            "type": "not_with_updated_since",
                        }
                        for name in moving
                    ],
                    code="unsupported_filter",
                )
        now = utcnow()
        parts: list[ColumnElement[bool]] = []
        if status:
            parts.append(statuses_in(status))
        if pending:
            parts.append(or_(*[pending_condition(kind) for kind in pending]))
        if source:
            parts.append(Case.source.in_(list(source)))
        if round_id is not None:
            parts.append(Case.round_id == round_id)
        if light is not None:
            parts.append(light_condition(light, now))
        if overdue is not None:
            parts.append(light_condition("red", now) if overdue else ~light_is("red", now))
        if unit is not None:
            parts.append(Case.unit_id == unit)
        if category is not None:
            parts.append(category_condition(category))
        if grid is not None:
            parts.append(await _grid(session, grid))
        if reporter is not None:
            parts.append(Case.reporter_id == reporter)
        if bbox is not None:
            parts.append(_bbox(bbox))
        if created_from is not None or created_to is not None:
            parts.append(_created(created_from, created_to))
        if updated_since is not None:
            parts.append(Case.updated_at >= updated_since)
        if q is not None:
            if text_problem(q):
                raise _invalid("q", text_problem(q) or "", "text_invalid")
            # A tracking code read out over the phone finds its case too.
            parts.append(
                or_(
                    Case.description.icontains(q, autoescape=True),
                    Case.address.icontains(q, autoescape=True),
                    Case.tracking_code == q.strip().upper(),
                )
            )
        return CaseFilter(condition=and_(true(), *parts), updated_since=updated_since)

    return dependency
