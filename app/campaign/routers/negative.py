"""Routes of the negative list (负面清单, docs/campaign.md "The negative list")."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.campaign import negative
from app.campaign.permissions import CampaignEditor, CampaignReader
from app.campaign.score_examples import NEGATIVE_OUT_EXAMPLE
from app.campaign.score_schemas import NegativeAction, NegativeEventIn, NegativeEventList, NegativeEventOut
from app.core.deps import MAX_DB_ID, IdPath, SessionDep
from app.core.errors import NotFound, ValidationProblem, declare, refuse_unknown_parameters
from app.core.openapi import answer_examples, errors

router = APIRouter(prefix="/api/v1/campaign/negative-events", tags=["campaign"])


@router.get(
    "",
    response_model=NegativeEventList,
    summary="The negative list, newest first",
    responses=errors(declare(ValidationProblem, "unsupported_filter")),
)
@answer_examples({200: {"application/json": {"items": [NEGATIVE_OUT_EXAMPLE]}}})
async def list_events(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    status: Annotated[
        Literal["proposed", "confirmed", "rejected"] | None, Query(description="only events in this state")
    ] = None,
    unit: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="events against this unit")] = None,
    grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="events against this cell")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 100,
) -> NegativeEventList:
    """Newest first; 422 ``unsupported_filter`` for an unknown parameter."""
    refuse_unknown_parameters(request.query_params, {"status", "unit", "grid", "limit"})
    rows = await negative.list_events(session, status, unit, grid, limit)
    return NegativeEventList(items=[negative.present(e) for e in rows])


@router.post(
    "",
    response_model=NegativeEventOut,
    status_code=201,
    summary="Record an event (confirmed at once)",
    responses=errors(declare(ValidationProblem, "unknown_unit"), declare(ValidationProblem, "unknown_cell")),
)
@answer_examples({201: {"application/json": NEGATIVE_OUT_EXAMPLE}})
async def record_event(
    data: NegativeEventIn, principal: CampaignEditor, session: SessionDep
) -> NegativeEventOut:
    """Against a unit or a street; it counts for every round whose period holds its local date. 422
    naming the field (``unknown_unit``, ``unknown_cell``)."""
    return negative.present(await negative.record(session, principal, data))


@router.post(
    "/{event_id}/actions",
    response_model=NegativeEventOut,
    summary="Confirm or reject a proposed event",
    responses=errors(NotFound, negative.NegativeEventDecided),
)
@answer_examples({200: {"application/json": NEGATIVE_OUT_EXAMPLE}})
async def act_on_event(
    event_id: IdPath, data: NegativeAction, principal: CampaignEditor, session: SessionDep
) -> NegativeEventOut:
    """A veto case proposes an event; only confirmed ones count. 404 ``not_found``; 409
    ``invalid_transition`` when it was decided already."""
    return negative.present(await negative.decide(session, principal, event_id, data.action))
