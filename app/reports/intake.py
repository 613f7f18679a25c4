"""Filing a report: place it, route it, make it a case, keep its photos, answer retries alike.

One use case, in order: replay a retry (app.reports.retries); check the photos; place the report (the
client's lat/lon or the first photo's EXIF GPS, app.reports.placement); route it (app.routing); create
the case in ``reported`` with its first history row and photos; then the service's own steps, each a row
of the workflow table taken through :func:`app.workflow.actions.act` like any action: self-handling by the
reporter, the veto alert, and register plus dispatch by the system when routing found a unit and
auto-dispatch is on. Last, nearby open duplicates and the answer kept for retries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.permissions import visible
from app.cases.present import present
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.deps import Hooks, release
from app.core.errors import ValidationProblem
from app.core.i18n import Lang
from app.deadlines.calendar import WorkCalendar
from app.grids.index import GridIndexCache
from app.photos.multipart import Part
from app.photos.service import PhotoWorkshop
from app.reports.opening import Opening, Place, new_case, take_filing_steps
from app.reports.placement import clock_flags, placement, possible_duplicates
from app.reports.retries import Filed, fingerprint, flush_or_replay, remember, replay, retry_keys
from app.reports.schemas import ReportIn
from app.routing.service import route_point
from app.workflow.actions import ActionContext


@dataclass
class IntakeContext:
    settings: Settings
    grid_index: GridIndexCache
    workshop: PhotoWorkshop
    calendar: WorkCalendar
    db: Database
    hooks: Hooks
    lang: Lang
    now: dt.datetime | None = None  # when it is filed: the clock's now, or a history's own time (the demo)

    @property
    def actions(self) -> ActionContext:
        return ActionContext(
            settings=self.settings,
            calendar=self.calendar,
            workshop=self.workshop,
            hooks=self.hooks,
            db=self.db,
        )


def intake_context(
    request: Request, settings: Settings, hooks: Hooks, lang: Lang, calendar: WorkCalendar
) -> IntakeContext:
    state = request.app.state
    return IntakeContext(
        settings=settings,
        grid_index=state.grid_index,
        workshop=state.workshop,
        calendar=calendar,
        db=state.db,
        hooks=hooks,
        lang=lang,
    )


def _check_after_photos(data: ReportIn, after: Sequence[object]) -> None:
    if after and not data.self_handled:
        raise ValidationProblem(
            [
                {
                    "loc": ["after_photos"],
                    "msg": "after photos belong to self-handled reports (self_handled: true)",
                    "type": "not_allowed",
                }
            ]
        )


def _check_self_handling(data: ReportIn, veto: bool, photos: Sequence[object]) -> None:
    """Filing rules of a self-handled report (自处理), checked before anything is written; whether the
    category needs an after photo is the workflow's rule for resolving (app.workflow.actions)."""
    if not data.self_handled:
        return
    if veto:
        raise ValidationProblem(
            [
                {
                    "loc": ["report", "self_handled"],
                    "msg": "a veto item (一票否决) goes to the command centre, it cannot be self-handled",
                    "type": "not_allowed",
                }
            ]
        )
    if not photos:
        raise ValidationProblem(
            [{"loc": ["photos"], "msg": "a self-handled report needs a before photo", "type": "missing"}]
        )


async def file_report(
    session: AsyncSession,
    ctx: IntakeContext,
    principal: Principal,
    data: ReportIn,
    photo_parts: Sequence[Part],
    idempotency_key: str | None,
    source: str = "app",
    after_parts: Sequence[Part] = (),
    extra: dict[str, Any] | None = None,
) -> Filed:
    """Turn one report into a routed case (or replay the first answer to a retry).

    ``photo_parts`` are the report's (before) photos; ``after_parts`` the after photos of a
    self-handled case (自处理), which is filed straight to ``resolved``. Raises 415/413/422 for bad
    photos (app.photos), 422 ``location_required``, ``outside_service_area``, ``unknown_category``,
    ``after_photo_required``, 409 ``idempotency_key_reused``.
    """
    owner = principal.label  # retry keys are per caller
    keys = retry_keys(idempotency_key, data)
    shas = [hashlib.sha256(bytes(p.data)).hexdigest() for p in [*photo_parts, *after_parts]]
    print_ = fingerprint(data, shas, extra)
    _check_after_photos(data, after_parts)
    # Decode the photos outside any transaction (SQLite's write lock would serialise every report).
    await release(session)
    photos = await ctx.workshop.ingest(photo_parts)
    after = await ctx.workshop.ingest(after_parts)
    answered = await replay(session, owner, keys, print_)
    if answered is not None:
        return answered
    lat, lon, rlat, rlon, datum, location_source = placement(data, photos)
    routed = await route_point(session, ctx.grid_index, lon, lat, data.category_code)
    decision, category = routed.decision, routed.category
    _check_self_handling(data, category.veto, photos)
    now = ctx.now or utcnow()
    case = new_case(
        ctx.settings,
        Opening(
            source=source,
            category=category,
            description=data.description,
            address=data.address,
            place=Place(lat, lon, rlat, rlon, datum, location_source),
            cell=routed.chain[0],
            decision=decision,
            reporter=principal,
            observed_at=data.observed_at,
            client_id=str(data.client_id) if data.client_id else None,
            self_handled=data.self_handled,
            flags=clock_flags(data.observed_at, now, ctx.settings),
        ),
        now,
    )
    session.add(case)
    lost = await flush_or_replay(session, owner, keys, print_)
    if lost is not None:
        return lost
    await take_filing_steps(session, ctx.actions, case, principal, photos, after, decision, now)
    duplicates = await possible_duplicates(session, case, ctx.settings, await visible(session, principal))
    shown = (
        await present(session, [case], principal, ctx.lang, ctx.calendar, duplicates=duplicates, now=now)
    )[0]
    answer = Filed(status_code=201, body=shown.model_dump(mode="json"), case_id=case.id, replayed=False)
    remember(session, owner, keys, print_, answer)
    lost = await flush_or_replay(session, owner, keys, print_)
    return lost if lost is not None else answer
