"""``GET /api/v1/reports``: the cases a caller may see, filtered, in a stable keyset order.

The traffic light is computed on read (app.workflow.clock) and filtered in SQL from the stored
instants: while the clock runs, green is before ``yellow_at`` (80 % used), yellow up to ``due_at``,
red after it; a held case's light is fixed by the share of the limit it had used.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.models import Category
from app.core.db import utcnow
from app.core.deps import MAX_DB_ID, PageDep, SessionDep
from app.core.errors import ValidationProblem
from app.core.i18n import LangDep
from app.core.schemas import text_problem
from app.grids.models import GridCell
from app.reports.access import visible
from app.reports.models import STATUS_LABELS_ZH, Case, Status
from app.reports.permissions import CaseReader
from app.units.models import Unit
from app.workflow import clock
from app.workflow.calendar_data import CalendarDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
KNOWN_FILTERS = {"status", "light", "overdue", "unit", "category", "grid", "reporter", "bbox", "created_from",
                 "created_to", "updated_since", "q", "limit", "cursor"}
Light = Literal["green", "yellow", "red"]


class CaseItem(BaseModel):
    """What a phone's list shows; the full case is at ``GET /api/v1/reports/{id}``."""

    id: int
    tracking_code: str
    status: Status
    status_label: str
    category_code: str
    category_name: str
    lat: float
    lon: float
    grid_code: str
    unit_name: str | None
    priority: str
    due_at: dt.datetime | None
    light: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CaseList(BaseModel):
    items: list[CaseItem]
    next_cursor: str | None


def light_condition(light: Light, now: dt.datetime) -> ColumnElement[bool]:
    running = Case.clock_started_at.is_not(None)
    held = and_(Case.status == Status.on_hold.value, Case.limit_seconds > 0)
    if light == "red":
        return or_(and_(running, Case.due_at < now), and_(held, Case.used_seconds > Case.limit_seconds))
    if light == "yellow":
        return or_(and_(running, Case.yellow_at <= now, Case.due_at >= now),
                   and_(held, Case.used_seconds >= 0.8 * Case.limit_seconds, Case.used_seconds <= Case.limit_seconds))
    return or_(and_(running, Case.yellow_at > now), and_(held, Case.used_seconds < 0.8 * Case.limit_seconds))


async def list_cases(session: AsyncSession, condition: ColumnElement[bool], after_id: int | None, limit: int,
                     statuses: list[Status], light: Light | None, unit_id: int | None,
                     category: str | None) -> list[Case]:
    query = select(Case).where(condition).order_by(Case.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Case.id > after_id)
    if statuses:
        query = query.where(Case.status.in_([s.value for s in statuses]))
    if light is not None:
        query = query.where(light_condition(light, utcnow()))
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    if category is not None:
        query = query.where(Case.category_code == category if len(category) == 5
                            else Case.category_code.startswith(category))
    return list((await session.execute(query)).scalars())


async def _filters(session: AsyncSession, grid: int | None, reporter: int | None, bbox: str | None,
                   created_from: dt.datetime | None, created_to: dt.datetime | None, updated_since: dt.datetime | None,
                   q: str | None) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if grid is not None:
        path = (await session.execute(select(GridCell.path).where(GridCell.id == grid))).scalar_one_or_none()
        if path is None:
            raise ValidationProblem([{"loc": ["query", "grid"], "msg": "no such grid cell", "type": "not_found"}])
        out.append(Case.grid_path.startswith(path, autoescape=True))
    if reporter is not None:
        out.append(Case.reporter_id == reporter)
    if bbox is not None:
        try:
            west, south, east, north = (float(v) for v in bbox.split(","))
        except ValueError:
            west = south = east = north = float("nan")
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise ValidationProblem([{"loc": ["query", "bbox"], "msg": "minLon,minLat,maxLon,maxLat in degrees",
                                      "type": "bbox_invalid"}])
        out += [Case.lon.between(west, east), Case.lat.between(south, north)]
    if created_from is not None:
        out.append(Case.created_at >= created_from)
    if created_to is not None:
        out.append(Case.created_at < created_to)
    if updated_since is not None:
        out.append(Case.updated_at >= updated_since)
    if q is not None:
        if text_problem(q):
            raise ValidationProblem([{"loc": ["query", "q"], "msg": text_problem(q), "type": "text_invalid"}])
        out.append(or_(Case.description.icontains(q, autoescape=True), Case.address.icontains(q, autoescape=True)))
    return out


@router.get("", response_model=CaseList, summary="Cases you may see, filtered (keyset pages)")
async def list_reports(request: Request, principal: CaseReader, session: SessionDep, page: PageDep, lang: LangDep,
                       calendar: CalendarDep,
                       status: Annotated[list[Status], Query()] = [],  # noqa: B006 - FastAPI's way to repeat a query
                       light: Light | None = None,
                       overdue: Annotated[bool | None, Query(description="true: red only; false: all but red")] = None,
                       unit: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
                       category: Annotated[str | None, Query(pattern=r"^(\d{2}|\d{5})$")] = None,
                       grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="a cell and all below it")]
                       = None,
                       reporter: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
                       bbox: Annotated[str | None, Query(max_length=100, description="minLon,minLat,maxLon,maxLat")]
                       = None,
                       created_from: AwareDatetime | None = None, created_to: AwareDatetime | None = None,
                       updated_since: AwareDatetime | None = None,
                       q: Annotated[str | None, Query(min_length=1, max_length=100,
                                                      description="text in the description or address")] = None,
                       ) -> CaseList:
    """Oldest first by id, so rows filed while paging are never skipped or repeated. ``status`` may repeat;
    ``light`` is the traffic light now; ``category`` is a 5-digit code or a 2-digit major class. A filter
    this release does not know yet is refused (422 ``unsupported_filter``), never silently ignored."""
    unknown = sorted(set(request.query_params) - KNOWN_FILTERS)
    if unknown:
        raise ValidationProblem([{"loc": ["query", name], "msg": "not a filter of this list (yet)",
                                  "type": "unsupported_filter"} for name in unknown], code="unsupported_filter")
    condition = and_(await visible(session, principal), *await _filters(
        session, grid, reporter, bbox, created_from, created_to, updated_since, q))
    if overdue is not None:
        red = light_condition("red", utcnow())
        condition = and_(condition, red if overdue else ~red)
    cases = await list_cases(session, condition, page.after_id, page.limit, status, light, unit, category)
    shown = cases[: page.limit]
    cells = dict((await session.execute(select(GridCell.id, GridCell.code).where(
        GridCell.id.in_({c.grid_id for c in shown})))).all()) if shown else {}
    units = dict((await session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({c.unit_id for c in shown if c.unit_id})))).all()) if shown else {}
    names = {c.code: (c.name_zh, c.name_en) for c in (await session.execute(select(Category).where(
        Category.code.in_({c.category_code for c in shown})))).scalars()} if shown else {}
    now = utcnow()
    items = [CaseItem(id=c.id, tracking_code=c.tracking_code, status=Status(c.status),
                      status_label=STATUS_LABELS_ZH[Status(c.status)] if lang == "zh" else c.status,
                      category_code=c.category_code, category_name=names[c.category_code][0 if lang == "zh" else 1],
                      lat=c.lat, lon=c.lon, grid_code=cells[c.grid_id], unit_name=units.get(c.unit_id),
                      priority=c.priority, due_at=c.due_at, light=clock.case_light(c, calendar, now),
                      created_at=c.created_at, updated_at=c.updated_at) for c in shown]
    return CaseList(items=items, next_cursor=page.next_cursor(cases))
