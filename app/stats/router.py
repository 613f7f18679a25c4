"""HTTP routes of the figures: ``/api/v1/stats/assessment`` and ``/api/v1/stats/overview``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app.core.db import utcnow
from app.core.deps import MAX_DB_ID, SessionDep, SettingsDep
from app.core.errors import ValidationProblem, refuse_unknown_parameters
from app.core.schemas import in_range
from app.grids.models import GridCell
from app.reports.access import visible
from app.stats import service
from app.stats.figures import COUNT_LABELS_ZH, FIGURES
from app.stats.permissions import FigureReader

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])
MAX_PERIOD = dt.timedelta(days=3 * 366)


class FigureDefinition(BaseModel):
    label_zh: str
    label_en: str
    numerator: str
    denominator: str


class Assessment(BaseModel):
    group_by: str
    period_from: dt.datetime
    period_to: dt.datetime
    grid: int | None
    as_of: dt.datetime
    definitions: dict[str, FigureDefinition]
    count_labels_zh: dict[str, str]
    groups: list[dict[str, Any]]
    total: dict[str, Any]


class Overview(BaseModel):
    as_of: dt.datetime
    day_start: dt.datetime
    open: int
    open_by_state: dict[str, int]
    open_by_light: dict[str, int]
    new_today: int
    closed_today: int
    veto_alerts: dict[str, Any]


def parse_instant(name: str, raw: str, tz: dt.tzinfo, end: bool) -> dt.datetime:
    """A date (``2026-11-01``: that day's start in the service's time zone; as ``to``, the next day's
    start, so the day is included) or an RFC 3339 time with an offset. 422 ``invalid_period`` otherwise."""
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            value = dt.datetime.combine(day, dt.time(), tz) + dt.timedelta(days=int(end))
        else:
            value = dt.datetime.fromisoformat(raw)
        if value.tzinfo is not None:
            return in_range(value)
    except (ValueError, OverflowError):
        pass
    raise ValidationProblem([{"loc": ["query", name], "msg": "a date (YYYY-MM-DD) or a time with an offset, "
                              "in the years 1900 to 9000", "type": "invalid_period"}], code="invalid_period")


@router.get("/assessment", response_model=Assessment, summary="Assessment figures (考核), each with its parts")
async def get_assessment(
    request: Request, principal: FigureReader, session: SessionDep, settings: SettingsDep,
    group_by: Annotated[service.GroupBy, Query(description="unit, grid (children of `grid`), worker, category")],
    period_from: Annotated[str | None, Query(alias="from", max_length=40, description="default: this month")] = None,
    period_to: Annotated[str | None, Query(alias="to", max_length=40, description="a date is included whole")]
    = None,
    grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="only this cell's subtree")] = None,
) -> Assessment:
    """The figures of DOMAIN.md for the cases filed in the period, per group and in total, each as
    ``{numerator, denominator, value}`` (value null when nothing is due), with the definitions
    (app.stats.figures). Computed over the cases the caller may see. Errors: 422 ``invalid_period``
    (unparseable, ``from`` not before ``to``, or longer than three years), 422 for an unknown cell."""
    refuse_unknown_parameters(request.query_params, {"group_by", "from", "to", "grid"})
    tz, now = settings.workflow_tz, utcnow()
    local = now.astimezone(tz)
    start = parse_instant("from", period_from, tz, False) if period_from else local.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    end = parse_instant("to", period_to, tz, True) if period_to else now
    if not start < end or end - start > MAX_PERIOD:
        raise ValidationProblem([{"loc": ["query", "from" if period_from else "to"],
                                  "msg": "from must be before to, at most 3 years apart (from defaults to the "
                                  "start of this month, to to now)", "type": "invalid_period"}], code="invalid_period")
    root = None
    if grid is not None:
        root = await session.get(GridCell, grid)
        if root is None:
            raise ValidationProblem([{"loc": ["query", "grid"], "msg": "no such grid cell", "type": "not_found"}])
    figures = await service.assessment(session, await visible(session, principal), group_by, start, end, root, now)
    return Assessment(group_by=group_by, period_from=start, period_to=end, grid=grid, as_of=now,
                      definitions={f.key: FigureDefinition(label_zh=f.label_zh, label_en=f.label_en,
                                                           numerator=f.numerator, denominator=f.denominator)
                                   for f in FIGURES},
                      count_labels_zh=COUNT_LABELS_ZH, **figures)


@router.get("/overview", response_model=Overview, summary="Dashboard counts: open by state and light, today, alerts")
async def get_overview(request: Request, principal: FigureReader, session: SessionDep,
                       settings: SettingsDep) -> Overview:
    """Open cases by state and by traffic light, cases filed and closed since midnight in the service's
    time zone, and the open veto alerts (一票否决) with the latest 20; over the cases the caller may see."""
    refuse_unknown_parameters(request.query_params, set())
    now = utcnow()
    day_start = now.astimezone(settings.workflow_tz).replace(hour=0, minute=0, second=0, microsecond=0)
    counts = await service.overview(session, await visible(session, principal), day_start, now)
    return Overview(as_of=now, day_start=day_start, **counts)
