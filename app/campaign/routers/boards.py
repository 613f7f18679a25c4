"""Routes of boards (红黑榜) of a published round (docs/campaign.md "Boards")."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.campaign import boards
from app.campaign.permissions import CampaignReader
from app.campaign.score_examples import BOARD_CSV_EXAMPLE, BOARD_EXAMPLE
from app.campaign.score_schemas import BoardKind, BoardOut
from app.core.deps import MAX_DB_ID, SessionDep, SettingsDep
from app.core.errors import NotFound, ValidationProblem, declare, refuse_unknown_parameters
from app.core.i18n import Lang, LangDep
from app.core.openapi import answer_examples, errors
from app.reports.export import safe_cell

router = APIRouter(prefix="/api/v1/campaign", tags=["campaign"])
RoundId = Annotated[int, Query(ge=1, le=MAX_DB_ID, description="a published round")]
Kind = Annotated[BoardKind, Query(description="unit (default), grid (the streets) or point")]
COLUMNS = (
    ("排名", "rank"),
    ("对象", "subject"),
    ("得分", "score"),
    ("测评点位数", "points"),
    ("扣分", "penalty"),
    ("榜单", "board"),
    ("原因", "reason"),
)
BOARD_ERRORS = errors(NotFound, boards.RoundNotPublished, declare(ValidationProblem, "unsupported_filter"))


@router.get("/boards", response_model=BoardOut, summary="A published round's board", responses=BOARD_ERRORS)
@answer_examples({200: {"application/json": BOARD_EXAMPLE}})
async def get_board(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    settings: SettingsDep,
    round: RoundId,
    kind: Kind = "unit",
) -> BoardOut:
    """As made when the round was published (docs/campaign.md "Boards": rule, ties). 404 ``not_found``; 409
    ``round_not_published``; 422 ``unsupported_filter`` for an unknown parameter."""
    refuse_unknown_parameters(request.query_params, {"round", "kind"})
    return await boards.board(session, round, kind, settings.workflow_tz)


@router.get(
    "/boards.csv",
    summary="A published round's board as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **BOARD_ERRORS},
)
@answer_examples({200: {"text/csv": BOARD_CSV_EXAMPLE}})
async def get_board_csv(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    settings: SettingsDep,
    accepted: LangDep,
    round: RoundId,
    kind: Kind = "unit",
    lang_override: Annotated[
        Lang | None, Query(alias="lang", description="zh or en; else Accept-Language")
    ] = None,
) -> Response:
    """UTF-8 with a byte-order mark; headers and board names in the chosen language (``lang`` for a plain
    download link, else ``Accept-Language``); ranked subjects in order, then the unranked; text cells a
    spreadsheet would run as a formula are prefixed with ``'``. 422 ``unsupported_filter`` for an unknown
    parameter."""
    refuse_unknown_parameters(request.query_params, {"round", "kind", "lang"})
    lang: Lang = lang_override or accepted
    out = await boards.board(session, round, kind, settings.workflow_tz)
    red = {e.subject.id for e in out.red}
    black = {e.subject.id for e in out.black}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([zh if lang == "zh" else en for zh, en in COLUMNS])
    for entry in out.ranking + out.unranked:
        sid = entry.subject.id
        name = ("黑榜", "black") if sid in black else ("红榜", "red") if sid in red else ("", "")
        row = [entry.rank, entry.subject.name, entry.score, entry.points, entry.penalty]
        row += [name[0] if lang == "zh" else name[1], entry.reason]
        writer.writerow([safe_cell(v) for v in row])
    filename = f"board-{round}-{kind}.csv"
    return Response(
        content=b"\xef\xbb\xbf" + buffer.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
