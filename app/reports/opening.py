"""Opening a case from something observed (a grid worker's report, an Open311 request, a failed item of a
campaign inspection): one way to make the case and to take the service's own first steps, so every case
starts with the same history whatever brought it in.

The caller decides what (the category), where (the place and its cell) and who answers for it (the routing
decision: ordinary routing, or a campaign point's duties), and keeps its own retry rules; this makes the
case in ``reported``, writes its first history row (``report``) and photos, and takes the filing steps of the
workflow table through :func:`app.workflow.actions.act`: self-handling by the reporter, the veto alert, and
register plus dispatch by the system when a unit is known and auto-dispatch is on.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.models import Case, Status
from app.categories.models import Category
from app.core.config import Settings
from app.grids.index import CellRef
from app.photos.service import Ingested, attach
from app.routing.rules import Decision
from app.workflow.actions import SYSTEM, ActionContext, Command, act
from app.workflow.history import new_event
from app.workflow.rules import Action

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


@dataclass(frozen=True)
class Place:
    """Where: WGS-84 degrees, the coordinates as sent and their datum, and whence (``client`` or ``exif``)."""

    lat: float
    lon: float
    reported_lat: float
    reported_lon: float
    coord_system: str
    location_source: str


@dataclass(frozen=True)
class Opening:
    """Everything a new case is made of."""

    source: str  # app, api, open311, inspection
    category: Category
    description: str
    address: str | None
    place: Place
    cell: CellRef  # the deepest cell containing the place
    decision: Decision
    reporter: Principal
    observed_at: dt.datetime | None = None
    client_id: str | None = None
    self_handled: bool = False
    flags: list[str] = field(default_factory=list)
    round_id: int | None = None  # a campaign round's failure
    inspection: dict[str, Any] | None = None  # its point, item and visit, as the case shows them
    time_limit: tuple[int, str] | None = None  # (limit, unit) instead of the category's


def tracking_code(settings: Settings, now: dt.datetime) -> str:
    """``20261207-7KQ2MX``: the city's date and six characters read aloud without ambiguity."""
    today = now.astimezone(settings.workflow_tz)
    return f"{today:%Y%m%d}-" + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(6))


def new_case(settings: Settings, o: Opening, now: dt.datetime) -> Case:
    """The case in ``reported`` (not yet added to a session)."""
    decision, reporter = o.decision, o.reporter
    limit, unit = o.time_limit or (o.category.time_limit, o.category.time_unit)
    return Case(
        tracking_code=tracking_code(settings, now),
        status=Status.reported.value,
        source=o.source,
        category_code=o.category.code,
        description=o.description,
        address=o.address,
        lat=o.place.lat,
        lon=o.place.lon,
        reported_lat=o.place.reported_lat,
        reported_lon=o.place.reported_lon,
        coord_system=o.place.coord_system,
        location_source=o.place.location_source,
        grid_id=o.cell.id,
        grid_path=o.cell.path,
        unit_id=None,
        routing_rule=decision.rule.value,
        routing_assignment_id=decision.assignment_id,
        routing_cell_code=(decision.matched_cell or decision.cell).code,
        priority=o.category.priority,
        reporter_id=reporter.user.id if reporter.user else None,
        api_key_id=reporter.api_key.id if reporter.api_key else None,
        client_id=o.client_id,
        observed_at=o.observed_at,
        self_handled=o.self_handled,
        internal=o.category.veto,
        flags=list(o.flags),
        routed_unit_id=decision.unit_id,
        time_limit=limit,
        time_unit=unit,
        round_id=o.round_id,
        inspection=o.inspection,
        created_at=now,
        updated_at=now,
    )


async def take_filing_steps(
    session: AsyncSession,
    steps: ActionContext,
    case: Case,
    reporter: Principal,
    photos: Sequence[Ingested],
    after: Sequence[Ingested],
    decision: Decision,
    now: dt.datetime,
) -> None:
    """The case's first history row and photos, then the service's own steps (module docstring). The case
    must be flushed (it has its id)."""
    filed = new_event(
        case,
        "report",
        reporter,
        None,
        Status.reported.value,
        note=case.description[:500] or None,
        data={
            "location_source": case.location_source,
            "coord_system": case.coord_system,
            "photos": len(photos),
        },
        created_at=now,
    )
    session.add(filed)
    await session.flush()
    await steps.workshop.store(photos, steps.hooks, steps.db)
    await attach(
        session,
        case_id=case.id,
        photos=photos,
        stage="report",
        uploader_id=case.reporter_id,
        event_id=filed.id,
        point=(case.lat, case.lon),
        reported_at=now,
        settings=steps.settings,
    )
    if case.self_handled:
        note = "自处理: fixed on the spot by the reporter"
        await act(
            session,
            steps,
            reporter,
            case,
            Command(Action.self_handle, note=note),
            after,
            filing=True,
            now=now,
        )
    if case.internal:  # a veto item when filed
        alert = Command(Action.veto_alert, note="supervisors alerted (一票否决)")
        await act(session, steps, SYSTEM, case, alert, now=now)
    if decision.unit_id is not None and steps.settings.workflow.auto_dispatch and not case.self_handled:
        await act(
            session, steps, SYSTEM, case, Command(Action.register, note="auto: routing found a unit"), now=now
        )
        dispatch = Command(Action.dispatch, unit_id=decision.unit_id, note=decision.explanation("zh"))
        await act(session, steps, SYSTEM, case, dispatch, now=now)
