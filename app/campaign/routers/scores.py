"""Routes of scores, their trend and the items that fail most (docs/campaign.md "Scores")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.campaign import scoring
from app.campaign.models import Round
from app.campaign.permissions import CampaignReader
from app.campaign.score_examples import ITEMS_EXAMPLE, SCORES_EXAMPLE, TREND_EXAMPLE
from app.campaign.score_schemas import GroupBy, ItemsOut, ScoresOut, TrendOut
from app.core.deps import MAX_DB_ID, SessionDep
from app.core.errors import NotFound, ValidationProblem, declare, refuse_unknown_parameters
from app.core.openapi import answer_examples, errors

router = APIRouter(prefix="/api/v1/campaign/scores", tags=["campaign"])
RoundQuery = Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="one round (any state)")]
PeriodFrom = Annotated[
    dt.date | None, Query(description="instead of `round`: published rounds whose period starts on or after")
]
PeriodTo = Annotated[
    dt.date | None, Query(description="instead of `round`: published rounds whose period ends on or before")
]
SELECTION_ERRORS = errors(
    NotFound, declare(ValidationProblem, "unsupported_filter"), declare(ValidationProblem, "invalid_period")
)


async def selected_rounds(
    session: SessionDep, round: int | None, period_from: dt.date | None, period_to: dt.date | None
) -> list[int]:
    """``round`` (404 when there is none), or the published rounds of a period; 422 for both or neither, 422
    ``invalid_period`` for a period that ends before it starts."""
    if (round is None) == (period_from is None and period_to is None):
        raise ValidationProblem(
            [{"loc": ["query", "round"], "msg": "give round, or period_from/period_to", "type": "missing"}]
        )
    if round is not None:
        if await session.get(Round, round) is None:
            raise NotFound(f"No round with id {round}")
        return [round]
    if period_from is not None and period_to is not None and period_from > period_to:
        raise ValidationProblem(
            [
                {
                    "loc": ["query", "period_to"],
                    "msg": "the period ends before it starts",
                    "type": "invalid_period",
                }
            ],
            code="invalid_period",
        )
    return await scoring.published_between(session, period_from, period_to)


@router.get(
    "",
    response_model=ScoresOut,
    summary="Scores of a round or a period, by group",
    responses=SELECTION_ERRORS,
)
@answer_examples({200: {"application/json": SCORES_EXAMPLE}})
async def get_scores(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    group_by: Annotated[GroupBy, Query(description="point, point_type, grid (the streets) or unit")] = "grid",
    round: RoundQuery = None,
    period_from: PeriodFrom = None,
    period_to: PeriodTo = None,
) -> ScoresOut:
    """Every figure as numerator, denominator and value, with its definition; a published round answers as
    it was published (rectification figures follow the cases). 404 ``not_found``; 422."""
    refuse_unknown_parameters(request.query_params.keys(), {"group_by", "round", "period_from", "period_to"})
    return await scoring.scores(
        session, await selected_rounds(session, round, period_from, period_to), group_by
    )


@router.get(
    "/trend",
    response_model=TrendOut,
    summary="The figures of each published round, in period order",
    responses=errors(declare(ValidationProblem, "unsupported_filter")),
)
@answer_examples({200: {"application/json": TREND_EXAMPLE}})
async def get_trend(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    group_by: Annotated[GroupBy, Query(description="how `subject` is read")] = "grid",
    subject: Annotated[
        str | None, Query(max_length=64, description="a group's id or code (else the total)")
    ] = None,
    grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="rounds over this scope cell")] = None,
    kind: Annotated[
        Literal["patrol", "supervision", "mock", "recheck"] | None, Query(description="rounds of this kind")
    ] = None,
) -> TrendOut:
    refuse_unknown_parameters(request.query_params.keys(), {"group_by", "subject", "grid", "kind"})
    return await scoring.trend(session, group_by, subject, grid, kind)


@router.get("/items", response_model=ItemsOut, summary="The items that fail most", responses=SELECTION_ERRORS)
@answer_examples({200: {"application/json": ITEMS_EXAMPLE}})
async def get_items(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    round: RoundQuery = None,
    period_from: PeriodFrom = None,
    period_to: PeriodTo = None,
    point_type: Annotated[str | None, Query(max_length=32, description="one point type's items")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many items")] = 10,
) -> ItemsOut:
    """By the weight they lost, then by failures: where the town loses points. 404 ``not_found``; 422."""
    refuse_unknown_parameters(
        request.query_params.keys(), {"round", "period_from", "period_to", "point_type", "limit"}
    )
    ids = await selected_rounds(session, round, period_from, period_to)
    return await scoring.items(session, ids, point_type, limit)
