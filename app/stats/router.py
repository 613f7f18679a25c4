"""HTTP routes of the figures: ``/api/v1/stats/assessment`` and ``/api/v1/stats/overview``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.cases.models import Source
from app.cases.permissions import visible
from app.core.db import utcnow
from app.core.deps import MAX_DB_ID, SessionDep, SettingsDep
from app.core.errors import ValidationProblem, declare, refuse_unknown_parameters
from app.core.openapi import errors
from app.core.schemas import in_range
from app.core.times import utc
from app.grids.models import GridCell
from app.stats import service
from app.stats.examples import ASSESSMENT_EXAMPLE
from app.stats.figures import COUNT_LABELS_ZH, FIGURES
from app.stats.permissions import FigureReader

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])
MAX_PERIOD = dt.timedelta(days=3 * 366)


class FigureDefinition(BaseModel):
    label_zh: str
    label_en: str
    numerator: str
    denominator: str


class Ratio(BaseModel):
    """A figure with its parts: ``value`` = numerator / denominator, null when nothing is due."""

    numerator: float
    denominator: float
    value: float | None


class Figures(BaseModel):
    counts: dict[str, int] = Field(description="the counts of app/stats/figures.py, by name")
    handling_hours: float = Field(description="hours of their limits that resolved cases used")
    by_state: dict[str, int] = Field(description="the cohort's cases by state now")
    figures: dict[str, Ratio] = Field(
        description="each figure by key, with its parts (definitions alongside)"
    )


class Group(Figures):
    key: str | None = Field(
        description="the unit, cell, reporter or category; null: none (e.g. not dispatched)"
    )
    name: str | None


class Assessment(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": ASSESSMENT_EXAMPLE})

    group_by: str
    period_from: dt.datetime
    period_to: dt.datetime
    grid: int | None
    source: Source | None = Field(description="the cases' origin counted (null: every origin)")
    as_of: dt.datetime
    definitions: dict[str, FigureDefinition]
    count_labels_zh: dict[str, str]
    groups: list[Group]
    total: Figures


class AlertOut(BaseModel):
    id: int
    case_id: int
    kind: str = Field(description="veto: a veto item (一票否决) was reported")
    message: str
    created_at: dt.datetime


class VetoAlerts(BaseModel):
    open: int = Field(description="veto alerts of open cases not yet acknowledged")
    latest: list[AlertOut] = Field(description="the latest 20 of them, newest first")


class Overview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "as_of": "2026-12-07T12:24:40.665983Z",
                "day_start": "2026-12-06T16:00:00Z",
                "open": 3,
                "open_by_state": {
                    "reported": 0,
                    "registered": 1,
                    "dispatched": 1,
                    "in_progress": 1,
                    "resolved": 0,
                    "on_hold": 0,
                },
                "open_by_light": {"green": 1, "yellow": 0, "red": 1, "paused": 0, "none": 1},
                "new_today": 4,
                "closed_today": 1,
                "veto_alerts": {
                    "open": 1,
                    "latest": [
                        {
                            "id": 1,
                            "case_id": 4,
                            "kind": "veto",
                            "message": "一票否决事项 91001 群体性事件: 20261207-88XFMW",
                            "created_at": "2026-12-07T11:29:46.113138Z",
                        }
                    ],
                },
            }
        }
    )

    as_of: dt.datetime
    day_start: dt.datetime
    open: int
    open_by_state: dict[str, int]
    open_by_light: dict[str, int]
    new_today: int
    closed_today: int
    veto_alerts: VetoAlerts


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
    raise ValidationProblem(
        [
            {
                "loc": ["query", name],
                "msg": "a date (YYYY-MM-DD) or a time with an offset, in the years 1900 to 9000",
                "type": "invalid_period",
            }
        ],
        code="invalid_period",
    )


@router.get(
    "/assessment",
    response_model=Assessment,
    summary="Assessment figures (考核), each with its parts",
    responses=errors(
        declare(ValidationProblem, "invalid_period"), declare(ValidationProblem, "unsupported_filter")
    ),
)
async def get_assessment(
    request: Request,
    principal: FigureReader,
    session: SessionDep,
    settings: SettingsDep,
    group_by: Annotated[
        service.GroupBy, Query(description="unit, grid (children of `grid`), worker, category")
    ],
    period_from: Annotated[
        str | None, Query(alias="from", max_length=40, description="default: this month")
    ] = None,
    period_to: Annotated[
        str | None, Query(alias="to", max_length=40, description="a date is included whole")
    ] = None,
    grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="only this cell's subtree")] = None,
    source: Annotated[
        Source | None,
        Query(
            description="only cases from this origin: `inspection` (campaign failures), `app` (workers' and "
            "the command centre's reports), `api` (third-party systems), `open311`; default: all"
        ),
    ] = None,
) -> Assessment:
    """The figures of docs/domain.md for the cases filed in the period, per group and in total, each as
    ``{numerator, denominator, value}`` (value null when nothing is due), with the definitions
    (app.stats.figures). Computed over the cases the caller may see; ``source`` keeps one origin, e.g.
    ``inspection`` for a unit's rectification record in the campaign (创文整改) apart from its reports. Errors: 422 ``invalid_period``
    (unparseable, ``from`` not before ``to``, or longer than three years), 422 for an unknown cell."""
    refuse_unknown_parameters(request.query_params, {"group_by", "from", "to", "grid", "source"})
    tz, now = settings.workflow_tz, utcnow()
    local = now.astimezone(tz)
    start = (
        parse_instant("from", period_from, tz, False)
        if period_from
        else local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    )
    end = parse_instant("to", period_to, tz, True) if period_to else now
    if not start < end or end - start > MAX_PERIOD:
        raise ValidationProblem(
            [
                {
                    "loc": ["query", "from" if period_from else "to"],
                    "msg": "from must be before to, at most 3 years apart (from defaults to the "
                    "start of this month, to to now)",
                    "type": "invalid_period",
                }
            ],
            code="invalid_period",
        )
    root = None
    if grid is not None:
        root = await session.get(GridCell, grid)
        if root is None:
            raise ValidationProblem(
                [{"loc": ["query", "grid"], "msg": "no such grid cell", "type": "not_found"}]
            )
    figures = await service.assessment(
        session, await visible(session, principal), group_by, start, end, root, now, source
    )
    return Assessment(
        group_by=group_by,
        period_from=utc(start),
        period_to=utc(end),
        grid=grid,
        source=source,
        as_of=now,
        definitions={
            f.key: FigureDefinition(
                label_zh=f.label_zh, label_en=f.label_en, numerator=f.numerator, denominator=f.denominator
            )
            for f in FIGURES
        },
        count_labels_zh=COUNT_LABELS_ZH,
        **figures,
    )


@router.get(
    "/overview",
    response_model=Overview,
    summary="Dashboard counts: open by state and light, today, alerts",
    responses=errors(declare(ValidationProblem, "unsupported_filter")),
)
async def get_overview(
    request: Request, principal: FigureReader, session: SessionDep, settings: SettingsDep
) -> Overview:
    """Open cases by state and by traffic light, cases filed and closed since midnight in the service's
    time zone, and the open veto alerts (一票否决) with the latest 20; over the cases the caller may see."""
    refuse_unknown_parameters(request.query_params, set())
    now = utcnow()
    day_start = now.astimezone(settings.workflow_tz).replace(hour=0, minute=0, second=0, microsecond=0)
    counts = await service.overview(session, await visible(session, principal), day_start, now)
    return Overview(as_of=now, day_start=utc(day_start), **counts)
