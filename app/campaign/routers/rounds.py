"""Routes of rounds (docs/campaign.md "Rounds and visits")."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from app.campaign import rounds
from app.campaign.permissions import CampaignEditor, CampaignReader
from app.campaign.round_schemas import RoundAction, RoundIn, RoundList, RoundOut
from app.core.deps import HooksDep, IdPath, PageDep, SessionDep

router = APIRouter(prefix="/api/v1/campaign/rounds", tags=["campaign"])


@router.post("", response_model=RoundOut, status_code=201, summary="Make a round (draft) with its visits")
async def create_round(data: RoundIn, principal: CampaignEditor, session: SessionDep) -> RoundOut:
    """Points listed, or sampled per point type from the cell's subtree with a recorded seed (the same seed
    gives the same sample); a visit per point, assigned to ``inspector_id`` or to a worker patrolling the
    point's cell. 422 naming the field (``not_enough_points``, ``outside_scope``, ``inspector_not_eligible``
    ...), 409 ``no_active_edition``."""
    round_ = await rounds.create_round(session, principal, data)
    return (await rounds.present(session, [round_], with_visits=True))[0]


@router.get("", response_model=RoundList, summary="Rounds, newest first")
async def list_rounds(
    _: CampaignReader,
    session: SessionDep,
    page: PageDep,
    status: Literal["draft", "open", "published", "closed"] | None = None,
    kind: Literal["patrol", "supervision", "mock", "recheck"] | None = None,
) -> RoundList:
    rows = await rounds.list_rounds(session, page, status, kind)
    return RoundList(
        items=await rounds.present(session, rows[: page.limit], with_visits=False),
        next_cursor=page.next_cursor(rows),
    )


@router.get("/{round_id}", response_model=RoundOut, summary="One round with its visits and progress")
async def get_round(round_id: IdPath, _: CampaignReader, session: SessionDep) -> RoundOut:
    return (await rounds.present(session, [await rounds.get_round(session, round_id)], with_visits=True))[0]


@router.post("/{round_id}/actions", response_model=RoundOut, summary="Open, publish or close a round")
async def act_on_round(
    round_id: IdPath, data: RoundAction, _: CampaignEditor, session: SessionDep, tx: HooksDep
) -> RoundOut:
    """``open`` a draft (inspectors may then submit), ``publish`` an open round (its results, scores and boards
    are frozen; each responsible unit gets its rectification notice), ``close`` a round. 409
    ``invalid_transition`` names the state and the actions it allows."""
    round_, events = await rounds.take_action(session, await rounds.get_round(session, round_id), data.action)
    tx.collect(events)
    return (await rounds.present(session, [round_], with_visits=True))[0]
