"""``GET /api/v1/campaign/export``: every result of a round as CSV (docs/campaign.md "Exporting a round")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.campaign.export import COLUMNS, round_csv
from app.campaign.permissions import CampaignReader
from app.campaign.rounds import get_round
from app.core.db import Database, utcnow
from app.core.deps import MAX_DB_ID, SessionDep
from app.core.errors import NotFound, ValidationProblem, declare, refuse_unknown_parameters
from app.core.i18n import Lang, LangDep
from app.core.openapi import answer_examples, errors
from app.reports.export import primed

router = APIRouter(prefix="/api/v1/campaign", tags=["campaign"])
# Visits per batch: each brings at most a checklist's items (tens), so a batch is about the case export's rows.
VISITS_PER_ROWS = 20

_CSV_EXAMPLE = (
    "\ufeff测评批次,点位编号,点位名称,点位类型,网格编码,责任单位,测评员,测评状态,测评时间,测评项代码,测评项,测评结果,"
    "数量,备注,权重,案件号,案件状态\r\n"
    "2026年12月模拟测评,NMSC-001,中山街农贸市场,NMSC,620802002001,崆峒区市场监督管理局,王网格,已测评,"
    "2026-12-07 10:02:11+08:00,NM-13,市场内无乱堆乱放,不符合,,东门堆放纸箱,1.0,20261207-7KQ2MX,已派遣\r\n"
    "2026年12月模拟测评,GJXL-004,崆峒大道,GJXL,620802002003,,王网格,无法测评,2026-12-07 10:40:00+08:00,,,,,"
    "道路施工封闭,,,\r\n"
)


def _described() -> str:
    rows = "\n".join(f"| `{key}` | {zh} | {en} |" for key, zh, en, _ in COLUMNS)
    return (
        "The file, as an attachment (`Content-Disposition`): UTF-8 with a byte-order mark, one header row of "
        "labels (zh or en), then one row per result of a submitted visit and one row per visit without "
        "results (unable: its reason in the note; pending), in visit order. Points as the round scores them "
        "(frozen when it was published). Times in the city's time zone with the offset; visit status, "
        "answer and case status in the chosen language (en: codes). Cells a spreadsheet would run as a "
        "formula start with `'`.\n\n| key | CSV header (zh) | CSV header (en) |\n|---|---|---|\n" + rows
    )


@router.get(
    "/export",
    summary="Export every result of a round (CSV), streamed",
    response_class=Response,
    responses={
        200: {"description": _described(), "content": {"text/csv": {"schema": {"type": "string"}}}},
        **errors(NotFound, declare(ValidationProblem, "unsupported_filter")),
    },
)
@answer_examples({200: {"text/csv": _CSV_EXAMPLE}})
async def export_round(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    lang: LangDep,
    round: Annotated[int, Query(ge=1, le=MAX_DB_ID, description="the round whose results are exported")],
    format: Annotated[Literal["csv"], Query(description="`csv` (UTF-8 with BOM)")] = "csv",
    lang_override: Annotated[
        Lang | None, Query(alias="lang", description="zh or en; else Accept-Language")
    ] = None,
) -> StreamingResponse:
    """The round's results, streamed in batches (memory stays flat however large the round). ``lang`` picks the
    labels for a plain download link that cannot set ``Accept-Language``. 404 for an unknown round, 422
    ``unsupported_filter`` for an unknown parameter."""
    refuse_unknown_parameters(request.query_params, {"round", "format", "lang"})
    found = await get_round(session, round)
    title = found.title
    db: Database = request.app.state.db
    settings = request.app.state.settings
    chosen: Lang = lang_override or lang
    stamp = utcnow().astimezone(settings.workflow_tz).strftime("%Y%m%d-%H%M")
    size = max(10, settings.reports.export_batch_rows // VISITS_PER_ROWS)
    body = round_csv(db, round, title, size, chosen, settings.workflow_tz)
    return StreamingResponse(
        await primed(body),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="round-{round}-results-{stamp}.csv"',
            "Content-Language": "zh-CN" if chosen == "zh" else "en",
            "Cache-Control": "no-store",
        },
    )
