"""Routes of rectification notices (docs/campaign.md "Rectification notices")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.campaign import notices
from app.campaign.notice_schemas import NoticeList, NoticeOut
from app.campaign.permissions import CampaignEditor, NoticeReader
from app.core.deps import MAX_DB_ID, HooksDep, IdPath, InvalidCursor, PageDep, SessionDep
from app.core.errors import NotFound, ValidationProblem, declare, refuse_unknown_parameters
from app.core.openapi import errors

router = APIRouter(prefix="/api/v1/campaign", tags=["campaign"])
LIST_FILTERS = frozenset({"round", "unit", "status", "limit", "cursor"})


@router.post(
    "/rounds/{round_id}/notices",
    response_model=NoticeList,
    summary="Issue the round's rectification notices now (open round)",
    responses=errors(NotFound, notices.NoticesNotIssuable),
)
async def issue_notices(round_id: IdPath, _: CampaignEditor, session: SessionDep, tx: HooksDep) -> NoticeList:
    """Each responsible unit gets (or its notice gains) the round's failures that are on no notice yet; the
    answer is every notice of the round. Idempotent: issuing again with nothing new changes nothing and
    pushes nothing. 404 for an unknown round, 409 ``round_not_open`` for a draft or closed one."""
    found, events = await notices.issue_on_demand(session, round_id)
    tx.collect(events)
    return NoticeList(items=await notices.present(session, found), next_cursor=None)


@router.get(
    "/notices",
    response_model=NoticeList,
    summary="Rectification notices, newest first",
    responses=errors(InvalidCursor, declare(ValidationProblem, "unsupported_filter")),
)
async def list_notices(
    request: Request,
    principal: NoticeReader,
    session: SessionDep,
    page: PageDep,
    round: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="only this round's")] = None,
    unit: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="only this unit's")] = None,
    status: Annotated[
        Literal["open", "signed_off"] | None, Query(description="open, or signed_off (销号)")
    ] = None,
) -> NoticeList:
    """The notices the caller sees: every one for the campaign office and the command centre, their own
    unit's for unit staff (another unit's filter gives an empty list). 422 ``unsupported_filter`` for an
    unknown parameter."""
    refuse_unknown_parameters(request.query_params, LIST_FILTERS)
    rows = await notices.list_notices(session, principal, page, round, unit, status)
    return NoticeList(
        items=await notices.present(session, rows[: page.limit]), next_cursor=page.next_cursor(rows)
    )


@router.get(
    "/notices/{notice_id}",
    response_model=NoticeOut,
    summary="One rectification notice with its failures and progress",
    responses=errors(NotFound),
)
async def get_notice(notice_id: IdPath, principal: NoticeReader, session: SessionDep) -> NoticeOut:
    """404 for an unknown notice, and for another unit's (unit staff)."""
    found = await notices.get_notice(session, principal, notice_id)
    return (await notices.present(session, [found]))[0]
