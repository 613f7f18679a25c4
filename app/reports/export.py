"""``GET /api/v1/reports/export?format=csv|geojson``: the list's cases as a file, streamed.

The export reads keyset batches (``GRID_EXPORT_BATCH_ROWS``) in short transactions of its
own, so memory stays flat however many rows there are and no snapshot is held open for minutes (on
SQLite a long read would also hold back the WAL). Rows are in id order; a case changed during the
export is written as it was when its batch was read. CSV is UTF-8 with a byte-order mark so that
spreadsheet programs read the Chinese labels; text cells that a spreadsheet would run as a formula
are prefixed with ``'`` (OWASP "CSV injection"). GeoJSON (RFC 7946) points are ``[lon, lat]``.
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
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, and_

from app.auth.permissions import Principal
from app.core.db import Database, utcnow
from app.core.i18n import Lang, LangDep
from app.reports.access import visible
from app.reports.filters import CaseFilter, case_filters
from app.reports.listing import Labels, page_of_cases
from app.reports.models import STATUS_LABELS_ZH, Case, Status
from app.reports.permissions import CaseReader
from app.workflow import clock
from app.workflow.calendar import WorkCalendar
from app.workflow.calendar_data import CalendarDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
log = logging.getLogger("grid_inspector.export")
ExportFilter = Annotated[CaseFilter, Depends(case_filters(frozenset({"format", "lang"})))]

# (key, zh label, en label, value of a case)
Column = tuple[str, str, str, Callable[[Case, Labels, Lang, str | None], Any]]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


PRIORITY_ZH = {"low": "低", "normal": "一般", "high": "高", "urgent": "紧急"}
SOURCE_ZH = {"app": "网格员APP", "api": "第三方系统", "open311": "Open311"}
LIGHT_ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
YES_NO_ZH = {True: "是", False: "否"}


def _zh(labels: dict[Any, str], value: Any, lang: Lang) -> Any:
    if lang == "zh":
        return labels.get(value, value)
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


COLUMNS: list[Column] = [
    ("id", "编号", "id", lambda c, lb, lang, light: c.id),
    ("tracking_code", "案件号", "tracking code", lambda c, lb, lang, light: c.tracking_code),
    ("status", "状态", "status", lambda c, lb, lang, light: STATUS_LABELS_ZH[Status(c.status)] if lang == "zh"
     else c.status),
    ("category_code", "类别代码", "category code", lambda c, lb, lang, light: c.category_code),
    ("category", "类别", "category", lambda c, lb, lang, light: lb.categories[c.category_code][lang == "en"]),
    ("lon", "经度", "longitude", lambda c, lb, lang, light: c.lon),
    ("lat", "纬度", "latitude", lambda c, lb, lang, light: c.lat),
    ("grid_code", "网格编码", "grid cell", lambda c, lb, lang, light: lb.cells[c.grid_id]),
    ("unit", "责任单位", "unit", lambda c, lb, lang, light: lb.units.get(c.unit_id or 0)),
    ("priority", "优先级", "priority", lambda c, lb, lang, light: _zh(PRIORITY_ZH, c.priority, lang)),
    ("source", "来源", "source", lambda c, lb, lang, light: _zh(SOURCE_ZH, c.source, lang)),
    ("description", "问题描述", "description", lambda c, lb, lang, light: c.description),
    ("address", "地址", "address", lambda c, lb, lang, light: c.address),
    ("light", "亮灯", "light", lambda c, lb, lang, light: _zh(LIGHT_ZH, light, lang)),
    ("created_at", "上报时间", "reported at", lambda c, lb, lang, light: _iso(c.created_at)),
    ("dispatched_at", "派遣时间", "dispatched at", lambda c, lb, lang, light: _iso(c.dispatched_at)),
    ("due_at", "处置时限", "due at", lambda c, lb, lang, light: _iso(c.due_at)),
    ("resolved_at", "处置完毕时间", "resolved at", lambda c, lb, lang, light: _iso(c.resolved_at)),
    ("resolved_on_time", "按期处置", "resolved on time",
     lambda c, lb, lang, light: None if c.resolved_on_time is None else _zh(YES_NO_ZH, c.resolved_on_time, lang)),
    ("closed_at", "结案/作废时间", "closed or rejected at", lambda c, lb, lang, light: _iso(c.closed_at)),
    ("return_count", "回退次数", "returns", lambda c, lb, lang, light: c.return_count),
    ("rework_count", "返工次数", "reworks", lambda c, lb, lang, light: c.rework_count),
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_BLANKS = " \u00a0\u200b\u3000\ufeff"


def _cell(value: Any) -> Any:
    # Spreadsheets skip leading blanks before a formula, and some read full-width signs as ASCII ones.
    if isinstance(value, str) and value.lstrip(_BLANKS).startswith(_FORMULA_START):
        return "'" + value
    return value


async def _batches(db: Database, principal: Principal, condition: ColumnElement[bool],
                   size: int) -> AsyncIterator[tuple[list[Case], Labels]]:
    labels, after = Labels(), None
    while True:
        async with db.sessionmaker() as session:
            seen = await visible(session, principal, after_id=after)
            cases = await page_of_cases(session, and_(seen, condition), after, size - 1)
            if not cases:
                return
            await labels.load(session, cases)
        yield cases, labels
        if len(cases) < size:
            return
        after = cases[-1].id


async def _csv(db: Database, principal: Principal, condition: ColumnElement[bool], size: int, lang: Lang,
               calendar: WorkCalendar) -> AsyncIterator[bytes]:
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
            writer.writerow([_cell(get(c, labels, lang, light)) for _, _, _, get in COLUMNS])
        yield buffer.getvalue().encode()


async def _geojson(db: Database, principal: Principal, condition: ColumnElement[bool], size: int, lang: Lang,
                   calendar: WorkCalendar) -> AsyncIterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    async for cases, labels in _batches(db, principal, condition, size):
        now = utcnow()
        chunk = []
        for c in cases:
            light = clock.case_light(c, calendar, now)
            properties = {key: get(c, labels, lang, light) for key, _, _, get in COLUMNS if key not in ("lon", "lat")}
            chunk.append(json.dumps({"type": "Feature", "id": c.id,
                                     "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                                     "properties": properties}, ensure_ascii=False, separators=(",", ":")))
        yield (("" if first else ",") + ",".join(chunk)).encode()
        first = False
    yield b"]}"


async def _primed(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
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


@router.get("/export", summary="Export the filtered cases (CSV or GeoJSON), streamed",
            responses={200: {"content": {"text/csv": {}, "application/geo+json": {}}}})
async def export_reports(request: Request, principal: CaseReader, lang: LangDep, calendar: CalendarDep,
                         filters: ExportFilter,
                         format: Annotated[Literal["csv", "geojson"], Query()] = "csv",
                         lang_override: Annotated[Lang | None, Query(alias="lang", description="zh or en; "
                                                                     "else Accept-Language")] = None,
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
    return StreamingResponse(await _primed(body), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="cases-{stamp}.{ext}"',
        "Content-Language": "zh-CN" if chosen == "zh" else "en", "Cache-Control": "no-store"})
