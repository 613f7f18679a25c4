"""``GET /api/v1/reports/export?format=csv|geojson``: the list's cases as a file, streamed.

The export reads keyset batches (``GRID_EXPORT_BATCH_ROWS``) in short transactions of its
own, so memory stays flat however many rows there are and no snapshot is held open for minutes (on
SQLite a long read would also hold back the WAL). Rows are in id order; a case changed during the
export is written as it was when its batch was read. CSV is UTF-8 with a byte-order mark so that
spreadsheet programs read the Chinese labels; text cells that a spreadsheet would run as a formula
are prefixed with ``'`` (OWASP "CSV injection"); times are the city's (``2026-12-07 11:00:00+08:00``,
``GRID_TIMEZONE``), since the file is opened in a spreadsheet there. GeoJSON (RFC 7946) points are
``[lon, lat]`` and its times UTC with ``Z``, like every JSON answer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import ColumnElement, and_

from app.auth.permissions import Principal
from app.cases.models import Case, status_label
from app.cases.permissions import visible
from app.core.db import Database, utcnow
from app.core.errors import ValidationProblem, declare
from app.core.i18n import Lang, LangDep
from app.core.openapi import answer_examples, errors
from app.core.times import local, rfc3339
from app.deadlines import clock
from app.deadlines.cache import CalendarDep
from app.deadlines.calendar import WorkCalendar
from app.reports.filters import CaseFilter, case_filters
from app.reports.listing import Labels, page_of_cases
from app.reports.permissions import CaseReader

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
log = logging.getLogger("grid_inspector.export")
ExportFilter = Annotated[CaseFilter, Depends(case_filters(frozenset({"format", "lang"})))]

# (key, zh label, en label, value of a case)
Column = tuple[str, str, str, Callable[[Case, Labels, Lang, str | None], Any]]


def _when(value: dt.datetime | None) -> dt.datetime | None:
    return value  # written by the format: local time with its offset in CSV, UTC "Z" in GeoJSON


def for_people(value: Any, tz: dt.tzinfo) -> Any:
    """A CSV cell: instants in the city's time zone with the offset (the file is opened in Excel there)."""
    return local(value, tz) if isinstance(value, dt.datetime) else value


def _for_json(value: Any) -> Any:
    return rfc3339(value) if isinstance(value, dt.datetime) else value


PRIORITY_ZH = {"low": "低", "normal": "一般", "high": "高", "urgent": "紧急"}
SOURCE_ZH = {"app": "APP/工作台上报", "api": "第三方系统", "open311": "Open311", "inspection": "创文测评"}
LIGHT_ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "paused": "暂停计时"}
YES_NO_ZH = {True: "是", False: "否"}


def _zh(labels: dict[Any, str], value: Any, lang: Lang) -> Any:
    if lang == "zh":
        return labels.get(value, value)
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


COLUMNS: list[Column] = [
    ("id", "编号", "id", lambda c, lb, lang, light: c.id),
    ("tracking_code", "案件号", "tracking code", lambda c, lb, lang, light: c.tracking_code),
    (
        "status",
        "状态",
        "status",
        lambda c, lb, lang, light: status_label(c.status, lang),
    ),
    ("category_code", "类别代码", "category code", lambda c, lb, lang, light: c.category_code),
    ("category", "类别", "category", lambda c, lb, lang, light: lb.category_name(c.category_code, lang)),
    ("lon", "经度", "longitude", lambda c, lb, lang, light: c.lon),
    ("lat", "纬度", "latitude", lambda c, lb, lang, light: c.lat),
    ("grid_code", "网格编码", "grid cell", lambda c, lb, lang, light: lb.cell_code(c)),
    ("unit", "责任单位", "unit", lambda c, lb, lang, light: lb.unit_name(c.unit_id)),
    ("priority", "优先级", "priority", lambda c, lb, lang, light: _zh(PRIORITY_ZH, c.priority, lang)),
    ("source", "来源", "source", lambda c, lb, lang, light: _zh(SOURCE_ZH, c.source, lang)),
    ("description", "问题描述", "description", lambda c, lb, lang, light: c.description),
    ("address", "地址", "address", lambda c, lb, lang, light: c.address),
    ("light", "亮灯", "light", lambda c, lb, lang, light: _zh(LIGHT_ZH, light, lang)),
    ("created_at", "上报时间", "reported at", lambda c, lb, lang, light: _when(c.created_at)),
    ("dispatched_at", "派遣时间", "dispatched at", lambda c, lb, lang, light: _when(c.dispatched_at)),
    ("due_at", "处置时限", "due at", lambda c, lb, lang, light: _when(c.due_at)),
    ("resolved_at", "处置完毕时间", "resolved at", lambda c, lb, lang, light: _when(c.resolved_at)),
    (
        "resolved_on_time",
        "按期处置",
        "resolved on time",
        lambda c, lb, lang, light: (
            None if c.resolved_on_time is None else _zh(YES_NO_ZH, c.resolved_on_time, lang)
        ),
    ),
    ("closed_at", "结案/作废时间", "closed or rejected at", lambda c, lb, lang, light: _when(c.closed_at)),
    ("return_count", "回退次数", "returns", lambda c, lb, lang, light: c.return_count),
    ("rework_count", "返工次数", "reworks", lambda c, lb, lang, light: c.rework_count),
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_BLANKS = " \u00a0\u200b\u3000\ufeff"


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (module docstring); other modules' CSV use it."""
    # Spreadsheets skip leading blanks before a formula, and some read full-width signs as ASCII ones.
    if isinstance(value, str) and value.lstrip(_BLANKS).startswith(_FORMULA_START):
        return "'" + value
    return value


async def _batches(
    db: Database, principal: Principal, condition: ColumnElement[bool], size: int
) -> AsyncIterator[tuple[list[Case], Labels]]:
    after = None
    while True:
        async with db.sessionmaker() as session:
            seen = await visible(session, principal, after_id=after)
            cases = await page_of_cases(session, and_(seen, condition), after, size - 1)
            if not cases:
                return
            labels = await Labels.load(session)
        yield cases, labels
        if len(cases) < size:
            return
        after = cases[-1].id


async def _csv(
    db: Database,
    principal: Principal,
    condition: ColumnElement[bool],
    size: int,
    lang: Lang,
    calendar: WorkCalendar,
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([zh if lang == "zh" else en for _, zh, en, _ in COLUMNS])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    async for cases, labels in _batches(db, principal, condition, size):
        buffer.seek(0)
        buffer.truncate()
        now = utcnow()
        for c in cases:
            light = clock.case_light(c, calendar, now)
            writer.writerow(
                [safe_cell(for_people(get(c, labels, lang, light), calendar.tz)) for *_, get in COLUMNS]
            )
        yield buffer.getvalue().encode()


async def _geojson(
    db: Database,
    principal: Principal,
    condition: ColumnElement[bool],
    size: int,
    lang: Lang,
    calendar: WorkCalendar,
) -> AsyncIterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    async for cases, labels in _batches(db, principal, condition, size):
        now = utcnow()
        chunk = []
        for c in cases:
            light = clock.case_light(c, calendar, now)
            properties = {
                key: _for_json(get(c, labels, lang, light))
                for key, _, _, get in COLUMNS
                if key not in ("lon", "lat")
            }
            chunk.append(
                json.dumps(
                    {
                        "type": "Feature",
                        "id": c.id,
                        "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                        "properties": properties,
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
        yield (("" if first else ",") + ",".join(chunk)).encode()
        first = False
    yield b"]}"


async def primed(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``stream`` with its opening and first batch already read, so that a failure of the first query
    is an error response, not a 200 with a file that merely looks empty."""
    head = []
    async for chunk in stream:
        head.append(chunk)
        if len(head) == 2:
            break

    async def rest() -> AsyncIterator[bytes]:
        for chunk in head:
            yield chunk
        try:
            async for chunk in stream:
                yield chunk
        except Exception:
            # Headers are sent: the client sees a truncated file (no closing bracket / short CSV).
            log.exception("export stopped part way")
            raise

    return rest()


def _columns_described() -> str:
    rows = "\n".join(f"| `{key}` | {zh} | {en} |" for key, zh, en, _ in COLUMNS)
    return (
        "The file, as an attachment (`Content-Disposition`), in id order. CSV: UTF-8 with a byte-order "
        "mark, one header row of labels (zh or en), then one row per case; times in the city's time zone "
        "with the offset (`2026-12-07 20:21:06+08:00`); labels for status, priority, source, light and "
        "yes/no in the chosen language (en: codes). GeoJSON: one Point feature per case, `[lon, lat]`, "
        "the same columns as `properties` by key (without `lon` and `lat`), times in UTC with `Z`.\n\n"
        "| key (GeoJSON) | CSV header (zh) | CSV header (en) |\n|---|---|---|\n" + rows
    )


_CSV_EXAMPLE = (
    "\ufeff编号,案件号,状态,类别代码,类别,经度,纬度,网格编码,责任单位,优先级,来源,问题描述,地址,亮灯,上报时间,派遣时间,"
    "处置时限,处置完毕时间,按期处置,结案/作废时间,回退次数,返工次数\r\n"
    "1,20261207-PMH4EY,已结案,09009,机动车乱停放,106.6652,35.5428,620802002001279,平凉市公安局交通警察支队崆峒大队,"
    "一般,网格员APP,占道停车：一辆白色轿车停在盲道上,中山街与崆峒大道交叉口东50米,,2026-12-07 20:21:06+08:00,"
    "2026-12-07 20:21:06+08:00,2026-12-08 17:00:00+08:00,2026-12-07 20:21:27+08:00,是,2026-12-07 20:21:27+08:00,0,0\r\n"
)
_GEOJSON_EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": 1,
            "geometry": {"type": "Point", "coordinates": [106.6652, 35.5428]},
            "properties": {
                "id": 1,
                "tracking_code": "20261207-PMH4EY",
                "status": "已结案",
                "category_code": "09009",
                "category": "机动车乱停放",
                "grid_code": "620802002001279",
                "unit": "平凉市公安局交通警察支队崆峒大队",
                "priority": "一般",
                "source": "网格员APP",
                "description": "占道停车：一辆白色轿车停在盲道上",
                "address": "中山街与崆峒大道交叉口东50米",
                "light": None,
                "created_at": "2026-12-07T12:21:06.873031Z",
                "dispatched_at": "2026-12-07T12:21:06.873031Z",
                "due_at": "2026-12-08T09:00:00Z",
                "resolved_at": "2026-12-07T12:21:27.367169Z",
                "resolved_on_time": "是",
                "closed_at": "2026-12-07T12:21:27.612434Z",
                "return_count": 0,
                "rework_count": 0,
            },
        }
    ],
}


@router.get(
    "/export",
    summary="Export the filtered cases (CSV or GeoJSON), streamed",
    response_class=Response,
    responses={
        200: {
            "description": _columns_described(),
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/geo+json": {"schema": {"type": "object"}},
            },
        },
        **errors(declare(ValidationProblem, "unsupported_filter")),
    },
)
@answer_examples({200: {"text/csv": _CSV_EXAMPLE, "application/geo+json": _GEOJSON_EXAMPLE}})
async def export_reports(
    request: Request,
    principal: CaseReader,
    lang: LangDep,
    calendar: CalendarDep,
    filters: ExportFilter,
    format: Annotated[
        Literal["csv", "geojson"],
        Query(description="`csv` (UTF-8 with BOM, times in the city's zone) or `geojson` (RFC 7946)"),
    ] = "csv",
    lang_override: Annotated[
        Lang | None, Query(alias="lang", description="zh or en; else Accept-Language")
    ] = None,
) -> StreamingResponse:
    """Every case of ``GET /api/v1/reports`` with the same filters (no paging; deleted cases never),
    as CSV (column labels in zh or en) or a GeoJSON FeatureCollection in ``[lon, lat]``. ``lang`` picks
    the labels for a plain download link that cannot set ``Accept-Language``."""
    db: Database = request.app.state.db
    settings = request.app.state.settings
    chosen: Lang = lang_override or lang
    stamp = utcnow().astimezone(settings.workflow_tz).strftime("%Y%m%d-%H%M")
    size = settings.reports.export_batch_rows
    if format == "csv":
        body = _csv(db, principal, filters.condition, size, chosen, calendar)
        media, ext = "text/csv; charset=utf-8", "csv"
    else:
        body = _geojson(db, principal, filters.condition, size, chosen, calendar)
        media, ext = "application/geo+json", "geojson"
    return StreamingResponse(
        await primed(body),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="cases-{stamp}.{ext}"',
            "Content-Language": "zh-CN" if chosen == "zh" else "en",
            "Cache-Control": "no-store",
        },
    )
