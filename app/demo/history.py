"""Load the demo history: three months of cases, filed and worked through the service's own workflow.

:func:`load_history` replays the plan of app.demo.story in time order, as the demo's people: every report
goes through :func:`app.reports.intake.file_report` (placement, routing, the veto alert, auto-dispatch,
self-handling) and every later step through :func:`app.workflow.actions.act`, each at its own past
instant. So the history rows, deadlines on the working calendar, lights, the dispatcher's approval queue,
the assessment figures and the exports are what the service computes, not values written here.

Before the cases, it imports 平凉's six other counties (no unit is assigned there, so citizens' reports
from them wait for a dispatcher in ``reported``) and creates the Open311 key of the citizens' app
(:data:`DEMO_API_KEY`, public like the demo passwords). It loads nothing into a database that has cases
already, so loading twice never doubles the history. Everything happens in the caller's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey, User, WorkerGrid
from app.auth.permissions import Principal
from app.cases.models import Case, Status
from app.cases.queries import light_condition
from app.categories.book import book
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.deps import Hooks
from app.core.security import hash_api_key
from app.deadlines.cache import calendar_for
from app.deadlines.calendar import WorkCalendar, limit_seconds
from app.demo.builder import DATA, DEMO_LOGINS
from app.demo.photos import evidence_jpeg, real_photo
from app.demo.plan import OPEN311, UNIT, CasePlan, Limit, Step
from app.demo.story import plan_history
from app.demo.texts import BY_CODE
from app.geo.coords import CoordSystem
from app.grids.index import GridIndexCache
from app.grids.service import import_features
from app.open311.attributes import validate
from app.photos.multipart import Part
from app.photos.service import PhotoWorkshop
from app.reports.intake import IntakeContext, file_report
from app.reports.schemas import ReportIn
from app.units.book import units
from app.workflow.actions import ActionContext, Command, act
from app.workflow.rules import Action

DEMO_SEED = 14
DEMO_CASES = 215  # ordinary cases drawn; the scenes add 27
# The citizens' app's Open311 key: public, like the demo passwords (serve refuses production while it works).
DEMO_API_KEY = "gik_demo0311_suishoupai-demo-key-public-never-use-in-production"
DEMO_API_KEY_NAME = "市民随手拍 (demo)"
PHOTO_STAGE = {Action.resolve: "resolution", Action.verify: "check", Action.rework: "check"}


@dataclass(frozen=True)
class Loaded:
    """What :func:`load_history` loaded: cases by state, how many are red and waiting now, photos, time."""

    states: dict[str, int]
    red: int
    pending: int
    photos: int
    seconds: float

    @property
    def cases(self) -> int:
        return sum(self.states.values())


async def history_present(session: AsyncSession) -> bool:
    """Whether the database has any case (then no history is loaded: it would mix with real cases)."""
    return (await session.execute(select(Case.id).limit(1))).first() is not None


async def load_history(
    session: AsyncSession,
    settings: Settings,
    db: Database,
    *,
    now: dt.datetime | None = None,
    seed: int = DEMO_SEED,
    cases: int = DEMO_CASES,
) -> Loaded | None:
    """Load the history planned from ``seed`` (about ``cases`` ordinary cases and the scenes) up to ``now``
    (default: the clock's now) into the demo (app.demo.builder must have run), in the session's transaction;
    None when the database has cases already. Photos are written to the settings' storage. Raises what
    filing or an action raises (the plan and the demo data disagree), after removing the photo files it
    wrote."""
    if await history_present(session):
        return None
    started = time.perf_counter()
    now = now or utcnow()
    # One transaction, all or nothing (outside a request, filing never ends the session's transaction early).
    workshop, hooks = PhotoWorkshop(settings), Hooks()
    try:
        await import_features(
            session,
            json.loads((DATA / "620800.json").read_text("utf-8")),
            CoordSystem.gcj02,
            10,
            on_existing="skip",
        )
        calendar = await calendar_for(session, settings)
        people = await _people(session)
        limits = await catalogue_limits(session, calendar)
        ctx = IntakeContext(settings, GridIndexCache(), workshop, calendar, db, hooks, "zh")
        replay = _Replay(session, ctx, people, {u.name: u.id for u in (await units(session)).values()})
        for plan in plan_history(seed, now, calendar, limits, cases):
            replay.queue(plan)
        await replay.run()
    except BaseException:
        await Hooks.run(hooks.on_rollback)  # the files written for rows that will not be kept
        raise
    finally:
        workshop.close()
    states = dict((await session.execute(select(Case.status, func.count()).group_by(Case.status))).all())
    red = await session.scalar(select(func.count()).select_from(Case).where(light_condition("red", now)))
    pending = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.pending_extension_hours.is_not(None) | Case.pending_hold.is_(True))
    )
    return Loaded(states, red or 0, pending or 0, replay.photos, time.perf_counter() - started)


@dataclass
class _People:
    users: dict[str, Principal]
    unit_staff: dict[int, Principal]  # by unit id: the unit's demo login
    open311: Principal


async def _people(session: AsyncSession) -> _People:
    names = [login.username for login in DEMO_LOGINS]
    found = {
        u.username: u for u in (await session.execute(select(User).where(User.username.in_(names)))).scalars()
    }
    cells: dict[int, set[int]] = {}
    for user_id, grid_id in await session.execute(select(WorkerGrid.user_id, WorkerGrid.grid_id)):
        cells.setdefault(user_id, set()).add(grid_id)
    users = {n: Principal(user=u, grid_ids=frozenset(cells.get(u.id, ()))) for n, u in found.items()}
    staff = {p.user.unit_id: p for p in users.values() if p.user and p.user.unit_id is not None}
    key = (await session.execute(select(ApiKey).where(ApiKey.prefix == DEMO_API_KEY.split("_")[1]))).scalar()
    if key is None:
        key = ApiKey(
            name=DEMO_API_KEY_NAME,
            prefix=DEMO_API_KEY.split("_")[1],
            key_hash=hash_api_key(DEMO_API_KEY),
            created_by_id=users["admin"].user.id if users["admin"].user else None,
        )
        session.add(key)
        await session.flush()
    return _People(users, staff, Principal(api_key=key))


async def catalogue_limits(session: AsyncSession, calendar: WorkCalendar) -> dict[str, Limit]:
    """Each category's handling limit as the catalogue in the database has it, for the plan."""
    return {
        c.code: Limit(
            limit_seconds(calendar, c.time_limit, c.time_unit),
            c.time_unit == "natural_hours",
            c.after_photo_required,
        )
        for c in (await book(session)).categories.values()
    }


class _Replay:
    """Files and acts in time order across all plans, as the demo's people."""

    def __init__(
        self, session: AsyncSession, ctx: IntakeContext, people: _People, unit_ids: dict[str, int]
    ) -> None:
        self.session, self.ctx, self.people, self.unit_ids = session, ctx, people, unit_ids
        self.actions: ActionContext = ctx.actions
        self.agenda: list[tuple[dt.datetime, int, int, CasePlan]] = []
        self.cases: dict[int, Case] = {}
        self.photos = 0

    def queue(self, plan: CasePlan) -> None:
        self.agenda.append((plan.filing.at, plan.index, -1, plan))
        self.agenda += [(step.at, plan.index, n, plan) for n, step in enumerate(plan.steps)]

    async def run(self) -> None:
        for _, _, n, plan in sorted(self.agenda, key=lambda entry: entry[:3]):
            if n < 0:
                await self._file(plan)
            else:
                await self._step(plan, n, plan.steps[n])

    def _photo(self, plan: CasePlan, n: int, stage: str, at: dt.datetime, name: str = "") -> Part:
        self.photos += 1
        if name:
            return Part(
                name="photos", filename=name, content_type="image/jpeg", data=bytearray(real_photo(name))
            )
        spot = plan.filing.spot
        seed = int.from_bytes(hashlib.sha256(f"{plan.index}/{n}/{stage}".encode()).digest()[:8], "big")
        local = (at - dt.timedelta(minutes=2)).astimezone(self.ctx.calendar.tz)
        jpeg = evidence_jpeg(
            spot.lat + (seed % 17 - 8) * 1e-5, spot.lon + (seed % 13 - 6) * 1e-5, local, stage, seed
        )
        return Part(
            name="photos",
            filename=f"IMG_{local:%Y%m%d_%H%M%S}.jpg",
            content_type="image/jpeg",
            data=bytearray(jpeg),
        )

    async def _file(self, plan: CasePlan) -> None:
        f = plan.filing
        citizen = f.reporter == OPEN311
        principal = self.people.open311 if citizen else self.people.users[f.reporter]
        photos = [self._photo(plan, -1, "report", f.at, name) for name in f.photos]
        limit = (await book(self.session)).categories[f.category]
        after = (
            [self._photo(plan, -2, "resolution", f.at)]
            if f.self_handled and limit.after_photo_required
            else []
        )
        data = ReportIn(
            category_code=f.category,
            description=f.description,
            lat=f.spot.lat,
            lon=f.spot.lon,
            observed_at=None if citizen else f.at - dt.timedelta(minutes=3),
            self_handled=f.self_handled,
        )
        ctx = dataclasses.replace(self.ctx, now=f.at)
        filed = await file_report(
            self.session, ctx, principal, data, photos, None, "open311" if citizen else "app", after
        )
        case = await self.session.get(Case, filed.case_id)
        assert case is not None
        if case.status == Status.reported.value and case.routed_unit_id is not None:
            # GRID_AUTO_DISPATCH is off: the dispatcher registers and dispatches what routing found, at once.
            dispatcher, at = self.people.users["dispatcher"], f.at + dt.timedelta(seconds=20)
            await act(self.session, self.actions, dispatcher, case, Command(Action.register), now=at)
            dispatch = Command(Action.dispatch, unit_id=case.routed_unit_id)
            await act(self.session, self.actions, dispatcher, case, dispatch, now=at)
        if citizen:  # what the Open311 intake keeps besides the report (app.open311.intake)
            values, problems = validate(f.category, BY_CODE[f.category].attributes)
            if problems:
                raise ValueError(f"demo attributes of {f.category}: {problems}")
            case.attributes = values or None
        self.cases[plan.index] = case

    async def _step(self, plan: CasePlan, n: int, step: Step) -> None:
        case = self.cases[plan.index]
        if step.actor == UNIT:
            if case.unit_id not in self.people.unit_staff:
                raise ValueError(
                    f"no demo login for unit {case.unit_id} (case {case.id}, step {step.action.value})"
                )
            actor = self.people.unit_staff[case.unit_id]
        else:
            actor = self.people.users[step.actor]
        command = Command(
            step.action,
            note=step.note,
            reason=step.reason,
            unit_id=self.unit_ids[step.unit] if step.unit else None,
            hours=step.hours,
            approve=step.approve,
            duplicate_of=self.cases[step.duplicate_of].id if step.duplicate_of is not None else None,
        )
        photos = []
        if step.photo:
            photos = await self.ctx.workshop.ingest(
                [self._photo(plan, n, PHOTO_STAGE.get(step.action, "report"), step.at)]
            )
        await act(self.session, self.actions, actor, case, command, photos, now=step.at)


def summary(loaded: Loaded) -> str:
    """One paragraph for the command line: the cases by state, red now, waiting for the dispatcher."""
    order = [s.value for s in Status]
    states = ", ".join(f"{loaded.states[s]} {s}" for s in order if loaded.states.get(s))
    return (
        f"Demo history: {loaded.cases} cases over the last 90 days ({states}); {loaded.red} red now, "
        f"{loaded.pending} requests waiting for the dispatcher; {loaded.photos} photos; {loaded.seconds:.1f} s."
    )
