"""Taking a workflow action on a case: the table decides (app.workflow.rules), :func:`act` applies it.

:func:`act` is the only code that changes a case's state. The API's actions, the service's own steps at
filing (auto register and dispatch, self-handling, the veto alert) and later the campaign's re-inspections
all go through it, so every step leaves a history row of one shape and returns the same domain events
(app.workflow.events), which it also hands to the request's collector (``ctx.hooks``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.auth.permissions import Principal
from app.cases.models import Alert, Case, CaseEvent, Status
from app.cases.versions import check_if_match
from app.categories.book import book
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.deps import Hooks
from app.core.errors import AppError, Conflict, Forbidden, ValidationProblem
from app.core.i18n import Text
from app.deadlines import clock
from app.deadlines.calendar import WorkCalendar
from app.photos.service import Ingested, PhotoWorkshop, attach
from app.units.book import units
from app.workflow.events import Happened, StatusChanged
from app.workflow.history import new_event
from app.workflow.permissions import relations
from app.workflow.rules import (
    Action,
    Announce,
    Audience,
    Effect,
    InvalidTransition,
    MissingFields,
    NotPermitted,
    decide,
)

SYSTEM: Final = None  # the actor of the service's own steps
PRIORITIES = ("low", "normal", "high", "urgent")
PHOTO_STAGE = {
    Action.resolve: "resolution",
    Action.self_handle: "resolution",
    Action.verify: "check",
    Action.rework: "check",
}


class TransitionRefused(AppError):
    status, code, title = 409, "invalid_transition", "The case's state does not allow that action"
    title_zh = "案件当前状态不允许此操作"


@dataclass
class ActionContext:
    settings: Settings
    calendar: WorkCalendar
    workshop: PhotoWorkshop
    hooks: Hooks
    db: Database


@dataclass(frozen=True)
class Command:
    """An action and its fields (docs/api.md "Fields that clients rely on": workflow actions)."""

    action: Action
    note: str | None = None
    reason: str | None = None
    unit_id: int | None = None
    hours: int | None = None
    approve: bool | None = None
    duplicate_of: int | None = None
    public_note: str | None = None


@dataclass(frozen=True)
class Acted:
    """What an action left: its history row and the domain events it emitted."""

    history: CaseEvent
    events: tuple[Happened, ...]


async def act(
    session: AsyncSession,
    ctx: ActionContext,
    actor: Principal | None,
    case: Case,
    command: Command,
    photos: Sequence[Ingested] = (),
    if_match: str | None = None,
    *,
    filing: bool = False,
    now: dt.datetime | None = None,
) -> Acted:
    """Apply ``command`` to ``case`` as ``actor`` (None: the service itself), with ``photos`` for the stage the
    action implies. ``filing``: the case is being filed in this transaction (its reporter may self-handle).
    ``now`` is when it happens (default: the clock's now; loading a history, e.g. the demo's, passes its own).

    Raises 412 ``version_conflict`` for a stale ``If-Match`` (409 when a concurrent action won), 409
    ``invalid_transition`` naming the state and the allowed actions, 403 ``action_not_allowed``, 422 for
    missing fields, ``unit_required`` or ``after_photo_required``.
    """
    check_if_match(case, if_match)
    have = await relations(session, actor, case, filing=filing)
    pending = {"extension"} if case.pending_extension_hours else set()
    if case.pending_hold:
        pending.add("hold")
    given = {
        k for k in ("note", "reason", "unit_id", "hours", "approve", "duplicate_of") if _given(command, k)
    }
    if photos:
        given.add("photos")
    status = Status(case.status)
    try:
        outcome = decide(
            command.action, status, have, given, pending, command.approve, case.unit_id is not None
        )
    except InvalidTransition as exc:
        raise TransitionRefused(
            Text(
                f"{exc.zh}；现在可执行：{', '.join(exc.allowed) or '无'}",
                f"{exc}; allowed now: {', '.join(exc.allowed) or 'nothing'}",
            ),
            current_status=status.value,
            allowed_actions=exc.allowed,
        ) from exc
    except NotPermitted as exc:
        raise Forbidden(Text(exc.zh, str(exc)), code="action_not_allowed") from exc
    except MissingFields as exc:
        raise ValidationProblem(
            [
                {"loc": [name], "msg": f"required for {command.action.value}", "type": "missing"}
                for name in exc.allowed
            ]
        ) from exc
    now = now or utcnow()
    history = new_event(
        case,
        command.action.value,
        actor,
        status.value,
        outcome.to_status.value,
        note=command.note,
        reason=command.reason,
        public_note=command.public_note or None,
        unit_id=case.unit_id,
        created_at=now,
        data={},
    )
    await _apply(session, ctx, case, command, outcome.effects, history, photos, now)
    case.status = outcome.to_status.value
    if outcome.to_status != status or outcome.effects or command.action in _CHANGES_WITHOUT_EFFECTS:
        case.updated_at = now
    session.add(history)
    try:
        await session.flush()
    except StaleDataError as exc:  # a concurrent action changed the case first
        raise Conflict(
            Text(
                "处理此操作期间案件已被他人修改，请重新读取",
                "The case changed while this action was being taken; read it again",
            ),
            code="version_conflict",
        ) from exc
    if photos:
        await ctx.workshop.store(photos, ctx.hooks, ctx.db)
        await attach(
            session,
            case_id=case.id,
            photos=photos,
            stage=PHOTO_STAGE.get(command.action, "report"),
            uploader_id=actor.user.id if actor and actor.user else None,
            event_id=history.id,
            point=(case.lat, case.lon),
            reported_at=now,
            settings=ctx.settings,
        )
    events = _announced(outcome.rule.announce, case, history, now)
    ctx.hooks.collect(events)
    if outcome.to_status != status:
        ctx.hooks.collect([StatusChanged(case.id, status.value, outcome.to_status.value, now)])
    return Acted(history=history, events=events)


# Requests and decisions change what a dispatcher's queue shows, with no state change or clock effect.
_CHANGES_WITHOUT_EFFECTS = {
    Action.request_extension,
    Action.request_hold,
    Action.decide_extension,
    Action.decide_hold,
}


def _given(command: Command, name: str) -> bool:
    value = getattr(command, name)
    return value is not None and value != ""


def _announced(
    announce: Announce | None, case: Case, history: CaseEvent, now: dt.datetime
) -> tuple[Happened, ...]:
    if announce is None:
        return ()
    audience = announce.audience
    if audience is Audience.unit and history.unit_id is None:
        audience = Audience.dispatchers  # a case without a unit (self-handled, reworked) is the dispatchers'
    return (
        Happened(
            name=announce.name,
            case_id=case.id,
            tracking_code=case.tracking_code,
            unit_id=history.unit_id,
            audience=audience,
            history_id=history.id,
            occurred_at=now,
        ),
    )


async def _apply(
    session: AsyncSession,
    ctx: ActionContext,
    case: Case,
    command: Command,
    effects: frozenset[Effect],
    history: CaseEvent,
    photos: Sequence[Ingested],
    now: dt.datetime,
) -> None:
    action, cal = command.action, ctx.calendar
    if action is Action.dispatch:
        unit_id = command.unit_id or case.routed_unit_id
        unit = (await units(session)).get(unit_id) if unit_id else None
        if unit is None or not unit.active:
            raise ValidationProblem(
                [
                    {
                        "loc": ["unit_id"],
                        "msg": "a unit is needed: no active routed unit",
                        "type": "unit_required",
                    }
                ],
                code="unit_required",
            )
        case.unit_id = history.unit_id = unit.id
        history.data = {"unit_name": unit.name, "routed": unit.id == case.routed_unit_id}
    if action is Action.reject and command.duplicate_of is not None:
        other = await session.get(Case, command.duplicate_of) if command.duplicate_of != case.id else None
        if other is None or other.deleted_at is not None:
            raise ValidationProblem(
                [{"loc": ["duplicate_of"], "msg": "another existing case", "type": "not_found"}]
            )
        history.data = {"duplicate_of": command.duplicate_of}
    if Effect.mark_resolved in effects:
        category = (await book(session)).categories.get(case.category_code)
        if category is not None and category.after_photo_required and not photos:
            where = "after_photos" if action is Action.self_handle else "photos"
            raise ValidationProblem(
                [
                    {
                        "loc": [where],
                        "msg": f"category {case.category_code} needs an after photo to be resolved",
                        "type": "after_photo_required",
                    }
                ],
                code="after_photo_required",
            )
        # Judged before the clock stops (stopping drops the due time); fixed on the spot is within any limit.
        case.resolved_at = now
        case.resolved_on_time = case.due_at is None or now <= case.due_at
    if action is Action.request_extension:
        case.pending_extension_hours = command.hours
        history.data = {"hours": command.hours}
    if action is Action.decide_extension:
        history.data = {"hours": case.pending_extension_hours, "approve": bool(command.approve)}
        if command.approve:
            clock.extend(case, cal, case.pending_extension_hours or 0, now)
            case.extension_count += 1
        case.pending_extension_hours = None
    if action is Action.request_hold:
        case.pending_hold = True
    if action is Action.decide_hold:
        history.data = {"approve": bool(command.approve)}
        case.pending_hold = False
        case.hold_count += int(bool(command.approve))
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
        clock.clear(case)
    if Effect.count_rework in effects:
        case.rework_count += 1
        case.resolved_at, case.resolved_on_time = None, None
    if Effect.raise_priority in effects:
        case.urge_count += 1
        case.priority = PRIORITIES[min(PRIORITIES.index(case.priority) + 1, len(PRIORITIES) - 1)]
    if Effect.close in effects:
        case.closed_at = now
    if Effect.raise_alert in effects:
        category = (await book(session)).categories[case.category_code]
        session.add(
            Alert(
                case_id=case.id,
                kind="veto",
                message=f"一票否决事项 {category.code} {category.name_zh}: {case.tracking_code}",
                created_at=now,
            )
        )
    if action is Action.resume:
        history.unit_id = case.unit_id
