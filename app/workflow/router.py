"""HTTP routes of the closed loop: take an action on a case, read its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from app.cases.permissions import VisibleCase
from app.cases.present import photo_out, present
from app.cases.schemas import CaseOut, PhotoOut
from app.cases.versions import VersionConflict, etag
from app.core.deps import HooksDep, SessionDep, SettingsDep
from app.core.errors import Conflict, Forbidden, NotFound, ValidationProblem, declare
from app.core.i18n import LangDep
from app.core.openapi import errors
from app.core.responses import model_response
from app.deadlines.cache import CalendarDep
from app.photos.service import photos_of
from app.photos.uploads import UPLOAD, UPLOAD_ERRORS, parse_part, read_request
from app.workflow.actions import ActionContext, TransitionRefused, act
from app.workflow.history import events_of
from app.workflow.permissions import CaseActor, HistoryReader, sees_internal_history
from app.workflow.schemas import ActionIn, Actor, EventList, EventOut

router = APIRouter(prefix="/api/v1/reports", tags=["workflow"])


@router.post(
    "/{case_id}/actions",
    response_model=CaseOut,
    summary="Take a workflow action on a case",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ActionIn"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["action"],
                        "properties": {
                            "action": {
                                "type": "string",
                                "description": "the action as JSON: the fields of `ActionIn` (the JSON body's "
                                "schema)",
                            },
                            "photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "photos of the step: after-photos for `resolve`, check photos for "
                                "`verify` and `rework` (JPEG, PNG, WebP or HEIC/HEIF)",
                            },
                        },
                    },
                    "encoding": {
                        "action": {"contentType": "application/json"},
                        "photos": {
                            "contentType": "image/jpeg, image/png, image/webp, image/heic, image/heif"
                        },
                    },
                    "example": {"action": '{"action": "resolve", "note": "车辆已拖离，盲道已恢复通行"}'},
                },
            },
        }
    },
    responses=errors(
        NotFound,
        TransitionRefused,
        VersionConflict,
        declare(Conflict, "version_conflict"),
        declare(Forbidden, "action_not_allowed"),
        declare(ValidationProblem, "unit_required"),
        declare(ValidationProblem, "after_photo_required"),
        *UPLOAD_ERRORS,
    ),
)
@UPLOAD
async def take_action(
    request: Request,
    response: Response,
    principal: CaseActor,
    case: VisibleCase,
    session: SessionDep,
    settings: SettingsDep,
    hooks: HooksDep,
    lang: LangDep,
    calendar: CalendarDep,
    if_match: Annotated[
        str | None, Header(max_length=200, description='the case\'s ETag as given, e.g. "case-5-v11"')
    ] = None,
) -> Response:
    """``{"action": ..., "note", "reason", "unit_id", "hours", "approve", "duplicate_of"}`` (docs/domain.md
    "The case workflow").

    With photos (after-photos for ``resolve``, check photos for ``verify``/``rework``), send
    ``multipart/form-data`` with an ``action`` part and ``photos`` parts. 409 ``invalid_transition``
    names the current state and the allowed actions; 403 when the caller may not take it; 412
    ``version_conflict`` for a stale ``If-Match``; 404 when the case is not the caller's to see.
    """
    raw, files = await read_request(request, settings, "action", frozenset({"photos"}))
    if raw is None:
        raise ValidationProblem(
            [{"loc": ["action"], "msg": "the 'action' part is required", "type": "missing"}]
        )
    data = parse_part(ActionIn, raw, "action")
    state = request.app.state
    photos = await state.workshop.ingest(files) if files else []
    await session.refresh(case)  # the action applies to the case as it is now, after the photo work
    ctx = ActionContext(
        settings=settings, calendar=calendar, workshop=state.workshop, hooks=hooks, db=state.db
    )
    await act(session, ctx, principal, case, data.command(), photos, if_match)
    shown = (await present(session, [case], principal, lang, calendar))[0]
    return model_response(shown, headers={"ETag": etag(case)})


@router.get(
    "/{case_id}/events",
    response_model=EventList,
    summary="A case's history, oldest first",
    responses=errors(NotFound),
)
async def list_events(principal: HistoryReader, case: VisibleCase, session: SessionDep) -> EventList:
    """Every step with its actor, time, states, notes and photos, oldest first; append-only, no route changes it.
    An API key reads what Open311 shows of it: the state changes, public notes and report photos."""
    everything = sees_internal_history(principal)
    by_event: dict[int, list[PhotoOut]] = {}
    for p in (await photos_of(session, [case.id]))[case.id]:
        if p.event_id is not None and (everything or p.stage == "report"):
            by_event.setdefault(p.event_id, []).append(photo_out(p, principal))
    items = []
    for e, u in await events_of(session, case.id):
        if not everything and e.from_status == e.to_status:
            continue  # comments, urges, requests: the command centre's business
        items.append(
            EventOut(
                id=e.id,
                action=e.action,
                actor=Actor(
                    id=u.id if u and everything else None,
                    username=u.username if u and everything else None,
                    role=u.role if u and everything else None,
                    kind=e.actor_kind,
                ),
                from_status=e.from_status,
                to_status=e.to_status,
                unit_id=e.unit_id if everything else None,
                note=e.note if everything else None,
                reason=e.reason if everything else None,
                public_note=e.public_note,
                data=dict(e.data or {}) if everything else {},
                photos=by_event.get(e.id, []),
                created_at=e.created_at,
            )
        )
    return EventList(items=items)
