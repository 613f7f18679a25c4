"""Taking a workflow action on a case: the table decides (app.workflow.rules), this applies it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import Role, User, WorkerGrid
from app.auth.permissions import Principal
from app.categories.models import Category
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.deps import Hooks
from app.core.errors import AppError, Conflict, Forbidden, ValidationProblem
from app.grids.models import GridCell
from app.photos.service import Ingested, PhotoWorkshop, attach
from app.reports.intake import new_event
from app.reports.models import Case, CaseEvent, Status
from app.units.models import Unit
from app.workflow import clock
from app.workflow.calendar import WorkCalendar
from app.workflow.rules import Action, Effect, InvalidTransition, MissingFields, NotPermitted, Who, decide
from app.workflow.schemas import ActionIn

PRIORITIES = ("low", "normal", "high", "urgent")
PHOTO_STAGE = {Action.resolve: "resolution", Action.verify: "check", Action.rework: "check"}


class TransitionRefused(AppError):
    status, code, title = 409, "invalid_transition", "The case's state does not allow that action"


class VersionConflict(AppError):
    status, code, title = 412, "version_conflict", "The case changed since you read it"


@dataclass
class ActionContext:
    settings: Settings
    calendar: WorkCalendar
    workshop: PhotoWorkshop
    hooks: Hooks
    db: Database


async def relations(session: AsyncSession, principal: Principal, case: Case) -> set[Who]:
    """How the caller relates to the case (who they are for the workflow table); they can see it."""
    have = {Who.viewer}
    user = principal.user
    if user is None:
        return have
    role = Role(user.role)
    have |= {Role.dispatcher: {Who.dispatcher}, Role.supervisor: {Who.supervisor}, Role.admin: {Who.admin}}.get(role, set())
    if role is Role.unit_staff and case.unit_id is not None and user.unit_id == case.unit_id:
        have.add(Who.unit_staff)
    if role is Role.dispatcher and case.self_handled:
        have.add(Who.closer)
    if role is Role.worker:
        paths = (await session.execute(select(GridCell.path).join(WorkerGrid, WorkerGrid.grid_id == GridCell.id)
                                       .where(WorkerGrid.user_id == user.id))).scalars()
        if any(case.grid_path.startswith(p) for p in paths):
            have.add(Who.cell_worker)
    return have


def check_if_match(case: Case, if_match: str | None) -> None:
    """412 ``version_conflict`` when ``If-Match`` names another version (RFC 9110 section 13.1.1)."""
    if if_match is None or if_match.strip() == "*":
        return
    current = f'"case-{case.id}-v{case.version}"'
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if current not in tags:
        raise VersionConflict(f"The case is at version {case.version}; read it again and retry",
                              version=case.version)


async def act(session: AsyncSession, ctx: ActionContext, principal: Principal, case: Case, data: ActionIn,
              photos: Sequence[Ingested], if_match: str | None) -> CaseEvent:
    """Apply one action; raises 409 ``invalid_transition``, 403, 422, 412/409 ``version_conflict``."""
    check_if_match(case, if_match)
    have = await relations(session, principal, case)
    pending = {"extension"} if case.pending_extension_hours else set()
    if case.pending_hold:
        pending.add("hold")
    given = {k for k, v in data.model_dump(exclude={"action"}).items() if v is not None and v != ""}
    if photos:
        given.add("photos")
    status = Status(case.status)
    try:
        outcome = decide(data.action, status, have, given, pending, data.approve, has_unit=case.unit_id is not None)
    except InvalidTransition as exc:
        raise TransitionRefused(f"{exc}; allowed now: {', '.join(exc.allowed) or 'nothing'}",
                                current_status=status.value, allowed_actions=exc.allowed) from exc
    except NotPermitted as exc:
        raise Forbidden(str(exc), code="action_not_allowed") from exc
    except MissingFields as exc:
        raise ValidationProblem([{"loc": [name], "msg": f"required for {data.action.value}", "type": "missing"}
                                 for name in exc.allowed]) from exc
    now = utcnow()
    event = new_event(case, data.action.value, principal, status.value, outcome.to_status.value,
                      note=data.note, reason=data.reason, unit_id=case.unit_id, data={})
    await _apply(session, ctx, case, data, outcome.to_status, outcome.effects, event, photos, now)
    case.status = outcome.to_status.value
    if outcome.to_status != status or outcome.effects or data.action in (Action.request_extension,
                                                                          Action.request_hold,
                                                                          Action.decide_extension,
                                                                          Action.decide_hold):
        case.updated_at = now
    session.add(event)
    try:
        await session.flush()
    except StaleDataError as exc:  # a concurrent action changed the case first
        raise Conflict("The case changed while this action was being taken; read it again",
                       code="version_conflict") from exc
    if photos:
        await ctx.workshop.store(photos, ctx.hooks, ctx.db)
        user_id = principal.user.id if principal.user else None
        await attach(session, case_id=case.id, photos=photos, stage=PHOTO_STAGE.get(data.action, "report"),
                     uploader_id=user_id, event_id=event.id, point=(case.lat, case.lon), reported_at=now,
                     settings=ctx.settings)
    return event


async def _apply(session: AsyncSession, ctx: ActionContext, case: Case, data: ActionIn, target: Status,
                 effects: frozenset[Effect], event: CaseEvent, photos: Sequence[Ingested], now: dt.datetime) -> None:
    action, cal = data.action, ctx.calendar
    if action is Action.dispatch:
        unit_id = data.unit_id or case.routed_unit_id
        unit = await session.get(Unit, unit_id) if unit_id else None
        if unit is None or not unit.active:
            raise ValidationProblem([{"loc": ["unit_id"], "msg": "a unit is needed: no active routed unit",
                                      "type": "unit_required"}], code="unit_required")
        case.unit_id = event.unit_id = unit.id
        event.data = {"unit_name": unit.name, "routed": unit.id == case.routed_unit_id}
    if action is Action.reject and data.duplicate_of is not None:
        other = await session.get(Case, data.duplicate_of) if data.duplicate_of != case.id else None
        if other is None or other.deleted_at is not None:
            raise ValidationProblem([{"loc": ["duplicate_of"], "msg": "another existing case", "type": "not_found"}])
        event.data = {"duplicate_of": data.duplicate_of}
    if action is Action.resolve:
        category = await session.get(Category, case.category_code)
        if category is not None and category.after_photo_required and not photos:
            raise ValidationProblem([{"loc": ["photos"], "msg": f"category {case.category_code} needs an after "
                                      "photo", "type": "after_photo_required"}], code="after_photo_required")
        case.resolved_at = now
        case.resolved_on_time = case.due_at is None or now <= case.due_at
    if action is Action.request_extension:
        case.pending_extension_hours = data.hours
        event.data = {"hours": data.hours}
    if action is Action.decide_extension:
        event.data = {"hours": case.pending_extension_hours, "approve": bool(data.approve)}
        if data.approve:
            clock.extend(case, cal, case.pending_extension_hours or 0, now)
            case.extension_count += 1
        case.pending_extension_hours = None
    if action is Action.request_hold:
        case.pending_hold = True
    if action is Action.decide_hold:
        event.data = {"approve": bool(data.approve)}
        case.pending_hold = False
        case.hold_count += int(bool(data.approve))
    if Effect.start_clock in effects:
        clock.start(case, cal, now)
    if Effect.stop_clock in effects:
        clock.stop(case, cal, now)
    if Effect.restart_clock in effects:
        clock.restart(case, cal, now)
    if Effect.count_return in effects:
        case.return_count += 1
    if Effect.clear_unit in effects:
        case.unit_id = None
        case.pending_extension_hours, case.pending_hold = None, False
    if Effect.count_rework in effects:
        case.rework_count += 1
        case.resolved_at, case.resolved_on_time = None, None
    if Effect.raise_priority in effects:
        case.urge_count += 1
        case.priority = PRIORITIES[min(PRIORITIES.index(case.priority) + 1, len(PRIORITIES) - 1)]
    if Effect.close in effects:
        case.closed_at = now
    if target is Status.dispatched and action is Action.resume:
        event.unit_id = case.unit_id


async def events_of(session: AsyncSession, case_id: int) -> list[tuple[CaseEvent, User | None]]:
    rows = await session.execute(select(CaseEvent, User).outerjoin(User, User.id == CaseEvent.actor_id)
                                 .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    return [(e, u) for e, u in rows.all()]


