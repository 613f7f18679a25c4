"""HTTP routes of the closed loop: take an action on a case, read its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from app.auth.permissions import EVERY_ROLE, Allow, Principal
from app.core.deps import HooksDep, IdPath, SessionDep, SettingsDep, release
from app.core.errors import ValidationProblem
from app.core.i18n import LangDep
from app.photos.service import photos_of
from app.reports.access import get_visible_case
from app.reports.present import cases_out, photo_out, sees_private_evidence
from app.reports.router import parse_part, read_request
from app.reports.schemas import CaseOut
from app.workflow.calendar_data import CalendarDep
from app.workflow.schemas import ActionIn, Actor, EventList, EventOut
from app.workflow.service import ActionContext, act, events_of

router = APIRouter(prefix="/api/v1/reports", tags=["workflow"])
# Any role may ask; the workflow table (app.workflow.rules) decides per action and case.
CaseActor = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
HistoryReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE, api_keys=True))]


@router.post("/{case_id}/actions", response_model=CaseOut, summary="Take a workflow action on a case",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/ActionIn"}},
                 "multipart/form-data": {"schema": {"type": "object", "required": ["action"], "properties": {
                     "action": {"type": "string", "description": "the action as JSON"},
                     "photos": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}})
async def take_action(case_id: IdPath, request: Request, response: Response, principal: CaseActor,
                      session: SessionDep, settings: SettingsDep, hooks: HooksDep, lang: LangDep,
                      calendar: CalendarDep,
                      if_match: Annotated[str | None, Header(max_length=200)] = None) -> CaseOut:
    """``{"action": ..., "note", "reason", "unit_id", "hours", "approve", "duplicate_of"}`` (DOMAIN.md table).

    With photos (after-photos for ``resolve``, check photos for ``verify``/``rework``), send
    ``multipart/form-data`` with an ``action`` part and ``photos`` parts. 409 ``invalid_transition``
    names the current state and the allowed actions; 403 when the caller may not take it; 412
    ``version_conflict`` for a stale ``If-Match``; 404 when the case is not the caller's to see.
    """
    raw, files = await read_request(request, settings, "action", frozenset({"photos"}))
    if raw is None:
        raise ValidationProblem([{"loc": ["action"], "msg": "the 'action' part is required", "type": "missing"}])
    data = parse_part(ActionIn, raw, "action")
    state = request.app.state
    await get_visible_case(session, principal, case_id)  # 404 before any photo work
    photos = []
    if files:
        await release(session)
        photos = await state.workshop.ingest(files)
    case = await get_visible_case(session, principal, case_id)
    ctx = ActionContext(settings=settings, calendar=calendar, workshop=state.workshop, hooks=hooks, db=state.db)
    await act(session, ctx, principal, case, data, photos, if_match)
    await session.refresh(case)
    response.headers["ETag"] = f'"case-{case.id}-v{case.version}"'
    return (await cases_out(session, [case], lang, calendar, private=sees_private_evidence(principal)))[0]


@router.get("/{case_id}/events", response_model=EventList, summary="A case's history, oldest first")
async def list_events(case_id: IdPath, principal: HistoryReader, session: SessionDep) -> EventList:
    """Every action with its actor, time, states, note and photos. Append-only: no route changes it."""
    await get_visible_case(session, principal, case_id)
    events = await events_of(session, case_id)
    photos = (await photos_of(session, [case_id]))[case_id]
    by_event: dict[int, list] = {}
    for p in photos:
        if p.event_id is not None:
            by_event.setdefault(p.event_id, []).append(photo_out(p, sees_private_evidence(principal)))
    return EventList(items=[EventOut(
        id=e.id, action=e.action, actor=Actor(id=u.id if u else None, username=u.username if u else None,
                                              role=u.role if u else None, kind=e.actor_kind),
        from_status=e.from_status, to_status=e.to_status, unit_id=e.unit_id, note=e.note, reason=e.reason,
        data=dict(e.data or {}), photos=by_event.get(e.id, []), created_at=e.created_at) for e, u in events])

