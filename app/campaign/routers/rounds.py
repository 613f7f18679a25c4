"""Routes of rounds (docs/campaign.md "Rounds and visits")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.campaign import rounds
from app.campaign.checklists import NoActiveEdition
from app.campaign.permissions import CampaignEditor, CampaignReader, InspectorNotEligible
from app.campaign.report import report_page
from app.campaign.report_view import REPORT_CSP
from app.campaign.round_schemas import RoundAction, RoundIn, RoundList, RoundOut
from app.core.db import utcnow
from app.core.deps import HooksDep, IdPath, InvalidCursor, PageDep, SessionDep, SettingsDep
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    NotFound,
    ValidationProblem,
    declare,
    refuse_unknown_parameters,
)
from app.core.openapi import answer_examples, errors

router = APIRouter(prefix="/api/v1/campaign/rounds", tags=["campaign"])


def _action_errors() -> dict[int | str, dict[str, Any]]:
    """The errors of an action, its 409 example a round's (the shared example is a case's)."""
    found = errors(NotFound, rounds.RoundTransitionRefused)
    example = found[409]["content"][PROBLEM_MEDIA_TYPE]["examples"]["invalid_transition"]["value"]
    example.update(
        detail="'publish' is not possible: the round is draft; allowed now: open, close",
        current_status="draft",
        allowed_actions=["open", "close"],
    )
    return found


@router.post(
    "",
    response_model=RoundOut,
    status_code=201,
    summary="Make a round (draft) with its visits",
    responses=errors(InspectorNotEligible, NoActiveEdition),
)
async def create_round(data: RoundIn, principal: CampaignEditor, session: SessionDep) -> RoundOut:
    """Points listed, or sampled per point type from the cell's subtree with a recorded seed (the same seed
    gives the same sample); a visit per point, assigned to ``inspector_id`` or to a worker patrolling the
    point's cell. 422 ``inspector_not_eligible``; 422 ``validation_error`` naming the field, its
    ``errors[].type`` saying why (``unknown_cell``, ``unknown_point``, ``outside_scope``,
    ``unknown_point_type``, ``not_enough_points`` ...); 409 ``no_active_edition``."""
    round_ = await rounds.create_round(session, principal, data)
    return (await rounds.present(session, [round_], with_visits=True))[0]


@router.get("", response_model=RoundList, summary="Rounds, newest first", responses=errors(InvalidCursor))
async def list_rounds(
    _: CampaignReader,
    session: SessionDep,
    page: PageDep,
    status: Annotated[
        Literal["draft", "open", "published", "closed"] | None, Query(description="only rounds in this state")
    ] = None,
    kind: Annotated[
        Literal["patrol", "supervision", "mock", "recheck"] | None,
        Query(description="patrol 常态巡查, supervision 督查, mock 模拟测评, recheck 复查"),
    ] = None,
) -> RoundList:
    """Without their visits (``visits`` is null); ``progress`` counts them by status."""
    rows = await rounds.list_rounds(session, page, status, kind)
    return RoundList(
        items=await rounds.present(session, rows[: page.limit], with_visits=False),
        next_cursor=page.next_cursor(rows),
    )


@router.get(
    "/{round_id}",
    response_model=RoundOut,
    summary="One round with its visits and progress",
    responses=errors(NotFound),
)
async def get_round(round_id: IdPath, _: CampaignReader, session: SessionDep) -> RoundOut:
    """404 for an unknown round."""
    return (await rounds.present(session, [await rounds.get_round(session, round_id)], with_visits=True))[0]


@router.post(
    "/{round_id}/actions",
    response_model=RoundOut,
    summary="Open, publish or close a round",
    responses=_action_errors(),
)
async def act_on_round(
    round_id: IdPath, data: RoundAction, _: CampaignEditor, session: SessionDep, tx: HooksDep
) -> RoundOut:
    """``open`` a draft (inspectors may then submit), ``publish`` an open round (its results, scores and boards
    are frozen; each responsible unit gets its rectification notice), ``close`` a round. 409
    ``invalid_transition`` names the state and the actions it allows."""
    round_, events = await rounds.take_action(session, await rounds.get_round(session, round_id), data.action)
    tx.collect(events)
    return (await rounds.present(session, [round_], with_visits=True))[0]


REPORT_EXAMPLE = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>2026年11月 常态巡查 · 测评报告</title>'
    "...</head><body>...</body></html>"
)


@router.get(
    "/{round_id}/report",
    summary="The round's report as one printable page",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **errors(NotFound, declare(ValidationProblem, "unsupported_filter")),
    },
)
@answer_examples({200: {"text/html": REPORT_EXAMPLE}})
async def get_round_report(
    request: Request, round_id: IdPath, _: CampaignReader, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """An HTML page (A4, no script, inline SVG) a leader prints: the overall figures, the trend over the
    scope's published rounds, the red and black boards of units and streets, the items that lose most
    points, the scores by unit and by street, and the definitions. Times are the city's. An unpublished
    round shows its live figures under a notice, without boards. Frontends fetch it with the caller's token
    and show or print it (e.g. from a ``blob:`` URL). 404 ``not_found``; 422 ``unsupported_filter`` for any
    query parameter."""
    refuse_unknown_parameters(request.query_params, set())
    page = await report_page(session, round_id, settings.workflow_tz, utcnow())
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"})
