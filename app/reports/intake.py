"""Filing a report: place it, route it, make it a case, keep its photos, answer retries alike.

One use case, in order: replay a retry; check the photos; place the report (client lat/lon or the
first photo's EXIF GPS); route it (app.routing); create the case with its first events, registering
and dispatching it at once when a unit is known and auto-dispatch is on; raise a veto alert; attach
the photos with their evidence flags; list nearby open duplicates; remember the response for retries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.deps import Hooks, release
from app.core.errors import AppError, Conflict, ValidationProblem
from app.core.i18n import Lang
from app.geo.coords import CoordSystem, distance_m, to_wgs84
from app.grids.index import GridIndexCache
from app.photos.service import Ingested, PhotoWorkshop, attach
from app.reports.access import visible
from app.reports.models import OPEN_STATUSES, Alert, Case, CaseEvent, IdempotencyRecord, Status
from app.reports.present import cases_out, sees_private_evidence
from app.reports.schemas import DuplicateRef, ReportIn
from app.routing.service import route_point
from app.workflow import clock
from app.workflow.calendar import WorkCalendar

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


class LocationRequired(AppError):
    status, code, title = 422, "location_required", "The report has no location"


class IdempotencyConflict(Conflict):
    code, title = "idempotency_key_reused", "That Idempotency-Key was used for a different request"


@dataclass
class IntakeContext:
    settings: Settings
    grid_index: GridIndexCache
    workshop: PhotoWorkshop
    calendar: WorkCalendar
    db: Database
    hooks: Hooks
    lang: Lang


@dataclass
class Filed:
    status_code: int
    body: dict[str, Any]
    case_id: int
    replayed: bool


def fingerprint(data: ReportIn, photo_shas: Sequence[str], extra: dict[str, Any] | None = None) -> str:
    """What makes two requests "the same": the report's fields, the photos' bytes in order, and what
    else the caller's interface carries (``extra``, e.g. Open311 attributes and contacts)."""
    meaning: dict[str, Any] = {"report": data.model_dump(mode="json"), "photos": list(photo_shas)}
    if extra:  # absent for native reports, so the fingerprints already stored keep matching
        meaning["extra"] = extra
    canonical = json.dumps(meaning, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def retry_keys(idempotency_key: str | None, data: ReportIn) -> list[str]:
    keys = [f"key:{idempotency_key}"] if idempotency_key else []
    if data.client_id is not None:
        keys.append(f"client_id:{data.client_id}")
    return keys


async def _replay(session: AsyncSession, owner: str, keys: Sequence[str], print_: str) -> Filed | None:
    if not keys:
        return None
    rows = list((await session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.owner == owner, IdempotencyRecord.key.in_(list(keys))))).scalars())
    if not rows:
        return None
    if any(r.fingerprint != print_ for r in rows):
        raise IdempotencyConflict("That Idempotency-Key or client_id was first used with a different report; "
                                  "use a new key for a new report")
    first = rows[0]
    return Filed(status_code=first.status_code, body=first.response, case_id=first.case_id or 0, replayed=True)


def _tracking_code(now: dt.datetime) -> str:
    return f"{now:%Y%m%d}-" + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(6))


def _placement(data: ReportIn, photos: Sequence[Ingested]) -> tuple[float, float, float, float, str, str]:
    """(lat, lon) WGS-84, the reported (lat, lon), their datum and the source: client or exif."""
    if (data.lat is None) != (data.lon is None):
        missing = "lon" if data.lon is None else "lat"
        raise ValidationProblem([{"loc": ["report", missing], "msg": "lat and lon go together", "type": "missing"}])
    if data.lat is not None and data.lon is not None:
        lon, lat = to_wgs84(data.lon, data.lat, data.coord_system)
        return lat, lon, data.lat, data.lon, data.coord_system.value, "client"
    for photo in photos:
        f = photo.facts
        if f.gps_lat is not None and f.gps_lon is not None:
            # EXIF GPS is WGS-84 by the EXIF standard, whatever datum the phone's map app uses.
            return f.gps_lat, f.gps_lon, f.gps_lat, f.gps_lon, CoordSystem.wgs84.value, "exif"
    raise LocationRequired("Send lat and lon, or a photo whose EXIF carries GPS",
                           errors=[{"loc": ["report", "lat"], "field": "report.lat", "msg": "required without a "
                                    "geotagged photo", "type": "location_required"}])


def _clock_flags(observed_at: dt.datetime | None, now: dt.datetime, settings: Settings) -> list[str]:
    if observed_at is None:
        return []
    too_late = observed_at > now + dt.timedelta(seconds=settings.reports.clock_skew_future_s)
    too_early = observed_at < dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return ["clock_skew"] if too_late or too_early else []


async def possible_duplicates(session: AsyncSession, case: Case, settings: Settings,
                              visible_to_caller: Any = None) -> list[DuplicateRef]:
    """Open cases of the same category within ``duplicate_radius_m`` filed in the last ``duplicate_days``,
    among those the caller may see (``visible_to_caller``: a condition from app.reports.access)."""
    radius = settings.reports.duplicate_radius_m
    dlat = radius / 111_000.0
    dlon = radius / (111_000.0 * max(math.cos(math.radians(case.lat)), 0.01))
    since = case.created_at - dt.timedelta(days=settings.reports.duplicate_days)
    rows = (await session.execute(select(Case).where(
        Case.category_code == case.category_code, Case.id != case.id, Case.created_at >= since,
        Case.deleted_at.is_(None), Case.status.in_([s.value for s in OPEN_STATUSES]),
        Case.lat.between(case.lat - dlat, case.lat + dlat), Case.lon.between(case.lon - dlon, case.lon + dlon),
        *([visible_to_caller] if visible_to_caller is not None else []),
    ).order_by(Case.created_at.desc()).limit(50))).scalars()
    out = []
    for other in rows:
        d = float(distance_m(case.lon, case.lat, other.lon, other.lat))
        if d <= radius:
            out.append(DuplicateRef(id=other.id, tracking_code=other.tracking_code, status=Status(other.status),
                                    distance_m=round(d, 1), created_at=other.created_at))
    return sorted(out, key=lambda d: d.distance_m)[:10]


def new_event(case: Case, action: str, principal: Principal | None, from_status: str | None, to_status: str | None,
           **extra: Any) -> CaseEvent:
    actor_id = principal.user.id if principal and principal.user else None
    kind = "system" if principal is None else ("api_key" if principal.api_key else "user")
    return CaseEvent(case_id=case.id, action=action, actor_id=actor_id, actor_kind=kind, from_status=from_status,
                     to_status=to_status, created_at=utcnow(), **extra)


async def file_report(session: AsyncSession, ctx: IntakeContext, principal: Principal, data: ReportIn,
                      photo_parts: Sequence[Any], idempotency_key: str | None, source: str = "app",
                      after_parts: Sequence[Any] = (), extra: dict[str, Any] | None = None) -> Filed:
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
    if after_parts and not data.self_handled:
        raise ValidationProblem([{"loc": ["after_photos"], "msg": "after photos belong to self-handled reports "
                                  "(self_handled: true)", "type": "not_allowed"}])
    # Decode the photos outside any transaction (SQLite's write lock would serialise every report).
    await release(session)
    photos = await ctx.workshop.ingest(photo_parts)
    after = await ctx.workshop.ingest(after_parts)
    replay = await _replay(session, owner, keys, print_)
    if replay is not None:
        return replay
    lat, lon, rlat, rlon, datum, location_source = _placement(data, photos)
    routed = await route_point(session, ctx.grid_index, lon, lat, data.category_code)
    decision, category = routed.decision, routed.category
    now = utcnow()
    cell = routed.chain[0]
    user_id = principal.user.id if principal.user else None
    case = Case(tracking_code=_tracking_code(now.astimezone(ctx.settings.workflow_tz)), status=Status.reported.value,
                source=source, category_code=category.code, description=data.description, address=data.address,
                lat=lat, lon=lon, reported_lat=rlat, reported_lon=rlon, coord_system=datum,
                location_source=location_source, grid_id=cell.id, grid_path=cell.path, unit_id=None,
                routing_rule=decision.rule.value, routing_assignment_id=decision.assignment_id,
                routing_cell_code=(decision.matched_cell or decision.cell).code,
                priority=category.priority, reporter_id=user_id,
                api_key_id=principal.api_key.id if principal.api_key else None,
                client_id=str(data.client_id) if data.client_id else None, observed_at=data.observed_at,
                self_handled=data.self_handled, flags=_clock_flags(data.observed_at, now, ctx.settings),
                routed_unit_id=decision.unit_id, time_limit=category.time_limit, time_unit=category.time_unit,
                created_at=now, updated_at=now)
    if data.self_handled:
        if category.veto:
            raise ValidationProblem([{"loc": ["report", "self_handled"], "msg": "a veto item (一票否决) goes to the "
                                      "command centre, it cannot be self-handled", "type": "not_allowed"}])
        if not photos:
            raise ValidationProblem([{"loc": ["photos"], "msg": "a self-handled report needs a before photo",
                                      "type": "missing"}])
        if category.after_photo_required and not after:
            raise ValidationProblem([{"loc": ["after_photos"], "msg": f"category {category.code} needs an after "
                                      "photo to be resolved", "type": "after_photo_required"}],
                                    code="after_photo_required")
    session.add(case)
    lost = await _flush_or_replay(session, owner, keys, print_)
    if lost is not None:
        return lost

    report_event = new_event(case, "report", principal, None, Status.reported.value,
                          note=data.description[:500] or None,
                          data={"location_source": location_source, "coord_system": datum, "photos": len(photos)})
    session.add(report_event)
    await session.flush()
    await ctx.workshop.store([*photos, *after], ctx.hooks, ctx.db)
    await attach(session, case_id=case.id, photos=photos, stage="report", uploader_id=user_id,
                 event_id=report_event.id, point=(lat, lon), reported_at=now, settings=ctx.settings)
    if data.self_handled:
        resolve_event = new_event(case, "self_handle", principal, Status.reported.value, Status.resolved.value,
                               note="自处理: fixed on the spot by the reporter")
        session.add(resolve_event)
        await session.flush()
        await attach(session, case_id=case.id, photos=after, stage="resolution", uploader_id=user_id,
                     event_id=resolve_event.id, point=(lat, lon), reported_at=now, settings=ctx.settings)
        case.status = Status.resolved.value
        case.resolved_at, case.resolved_on_time = now, True  # fixed on the spot: within any limit
    if category.veto:
        session.add(Alert(case_id=case.id, kind="veto", message=f"一票否决事项 {category.code} {category.name_zh}: "
                                                             f"{case.tracking_code}", created_at=now))
        session.add(new_event(case, "veto_alert", None, None, None, note="supervisors alerted (一票否决)"))
    if decision.unit_id is not None and ctx.settings.workflow.auto_dispatch and not data.self_handled:
        session.add(new_event(case, "register", None, Status.reported.value, Status.registered.value,
                           note="auto: routing found a unit"))
        session.add(new_event(case, "dispatch", None, Status.registered.value, Status.dispatched.value,
                           unit_id=decision.unit_id, note=decision.explanation("zh")))
        case.status, case.unit_id = Status.dispatched.value, decision.unit_id
        clock.start(case, ctx.calendar, now)
    await session.flush()
    duplicates = await possible_duplicates(session, case, ctx.settings, await visible(session, principal))
    out = (await cases_out(session, [case], ctx.lang, ctx.calendar, duplicates=duplicates,
                           private=sees_private_evidence(principal)))[0]
    body = out.model_dump(mode="json")
    for key in keys:
        session.add(IdempotencyRecord(owner=owner, key=key, fingerprint=print_, status_code=201, response=body,
                                      case_id=case.id, created_at=now))
    lost = await _flush_or_replay(session, owner, keys, print_)
    if lost is not None:
        return lost
    return Filed(status_code=201, body=body, case_id=case.id, replayed=False)


async def _flush_or_replay(session: AsyncSession, owner: str, keys: Sequence[str], print_: str) -> Filed | None:
    """Flush; if a concurrent twin (same client_id or Idempotency-Key) won the race, its answer.

    The unique constraints on (reporter, client_id) and (owner, key) decide the race; the loser's
    transaction is rolled back whole, so it leaves nothing behind, and answers as a retry would.
    """
    try:
        await session.flush()
        return None
    except IntegrityError:
        await session.rollback()
        replay = await _replay(session, owner, keys, print_)
        if replay is None:
            raise
        return replay
