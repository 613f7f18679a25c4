"""The demo history as a script: who files what, where and when, and every step taken after (pure).

:func:`plan_history` turns a seed and an instant ("now") into :class:`CasePlan` s: a filing and the
workflow steps that follow it, each at its own instant, written as the people of the demo would take
them (a grid worker files, the routed unit accepts and resolves, the worker checks on site...). Nothing
here touches a database; app.demo.history replays a plan through the service's own filing and actions,
so the states, deadlines, lights and figures are the service's, not the plan's.

A step the plan places after "now" has not happened yet: the case stays where the earlier steps left it,
so recent cases are open as they would be in a real command centre. The cases that must exist *now*
(red, yellow, pending, returned, held...) are written backwards from "now" by app.demo.scenes. The same
seed, "now", calendar and catalogue give the same plan.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace

from app.deadlines.calendar import WorkCalendar
from app.demo.builder import CELL_DLAT, CELL_DLON, COLUMNS, NORTH, STREETS, WEST
from app.demo.texts import (
    COMMENTS,
    DUPLICATE_RETURN,
    EXTENSION_REASONS,
    HOLD_REASONS,
    RETURN_ANY,
    RETURNS,
    URGE_NOTES,
    VERIFY_NOTES,
    Kind,
)
from app.workflow.rules import Action

UNIT = "@unit"  # the staff of the unit that holds the case when the step is taken
OPEN311 = "@open311"  # the citizens' app (随手拍), filing with the demo's Open311 API key
CHENGGUAN = "崆峒区城市管理综合执法局"
WORKER_OF_STREET = {"620802001": "worker1", "620802002": "worker2"}  # 西郊 has no demo grid worker
# Places just outside the three 街道 but inside 崆峒区 (WGS-84): the district's general unit answers there.
SUBURBS = ((35.5220, 106.6550), (35.5250, 106.6750), (35.5480, 106.7050), (35.5630, 106.6450))
# County seats of 平凉's other counties (no unit is assigned there: their reports wait for a dispatcher).
COUNTIES = (("泾川县", 35.3353, 107.3652), ("崇信县", 35.3045, 107.0313), ("华亭市", 35.2153, 106.6493))
DAYS = 90


@dataclass(frozen=True)
class Limit:
    """A category's handling limit as the catalogue in the database has it."""

    seconds: float  # in the limit's own kind of time
    natural: bool  # natural hours (else working time)
    after_photo: bool  # resolving needs an after-photo


@dataclass(frozen=True)
class Spot:
    """Where a case is: WGS-84 degrees, its 街道 code (None outside the three), a county outside 崆峒区."""

    lat: float
    lon: float
    street: str | None = None
    county: str | None = None

    @property
    def checker(self) -> str:
        """Who checks a fixed case on site: the street's grid worker, else a supervisor."""
        return WORKER_OF_STREET.get(self.street or "", "supervisor")


@dataclass(frozen=True)
class Step:
    """One workflow action at ``at``; ``actor`` a demo username or :data:`UNIT`."""

    at: dt.datetime
    actor: str
    action: Action
    note: str | None = None
    reason: str | None = None
    hours: int | None = None
    approve: bool | None = None
    unit: str | None = None  # dispatch: the unit's name
    duplicate_of: int | None = None  # reject: the index of the plan whose case this one repeats
    photo: bool = False  # a photo of the stage the action implies (after-photo, check photo)


@dataclass(frozen=True)
class Filing:
    at: dt.datetime
    reporter: str  # a demo username or OPEN311
    category: str
    spot: Spot
    description: str
    photos: tuple[str, ...] = ()  # "": taken on the spot (generated); else a shipped real photo's file name
    self_handled: bool = False


@dataclass(frozen=True)
class CasePlan:
    index: int
    filing: Filing
    steps: tuple[Step, ...] = ()


class Timeline:
    """Instants on the city's calendar: working time for working-time limits, clock time for natural ones."""

    def __init__(self, calendar: WorkCalendar, now: dt.datetime, limits: Mapping[str, Limit]) -> None:
        self.calendar, self.now, self.limits = calendar, now, limits

    def after(self, at: dt.datetime, seconds: float, natural: bool = False) -> dt.datetime:
        if natural:
            return at + dt.timedelta(seconds=max(seconds, 60.0))
        return self.calendar.add_working_seconds(at, max(seconds, 60.0))

    def spent(self, start: dt.datetime, end: dt.datetime, natural: bool) -> float:
        if natural:
            return max(0.0, (end - start).total_seconds())
        return self.calendar.working_seconds_between(start, end)

    def back(self, hours: float, end: dt.datetime | None = None) -> dt.datetime:
        """The instant from which ``hours`` of working time run until ``end`` (default now)."""
        cal, remaining = self.calendar, hours * 3600.0
        local = (end or self.now).astimezone(cal.tz)
        day = local.date()
        for _ in range(3 * 366):
            if cal.is_workday(day):
                for start, stop in reversed(cal.periods):
                    begin = dt.datetime.combine(day, start, cal.tz)
                    finish = min(dt.datetime.combine(day, stop, cal.tz), local)
                    available = (finish - begin).total_seconds()
                    if available <= 0:
                        continue
                    if remaining <= available:
                        return (finish - dt.timedelta(seconds=remaining)).astimezone(dt.UTC)
                    remaining -= available
            day -= dt.timedelta(days=1)
        raise ValueError("no working time found within three years")

    def local(self, day: dt.date, hour: float) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), self.calendar.tz) + dt.timedelta(hours=hour)


class Life:
    """Writes one case's steps in time order; ``natural`` for natural-hours categories."""

    def __init__(self, rng: random.Random, tl: Timeline, start: dt.datetime, natural: bool) -> None:
        self.rng, self.tl, self.t, self.natural = rng, tl, start, natural
        self.steps: list[Step] = []

    def wait(self, low_min: float, high_min: float, natural: bool | None = None) -> dt.datetime:
        minutes = self.rng.uniform(low_min, high_min)
        self.t = self.tl.after(self.t, minutes * 60, self.natural if natural is None else natural)
        return self.t

    def until(self, at: dt.datetime) -> None:
        self.t = max(at, self.t + dt.timedelta(minutes=1))

    def add(self, actor: str, action: Action, **fields: object) -> None:
        self.steps.append(Step(self.t, actor, action, **fields))  # type: ignore[arg-type]


def street_spot(rng: random.Random, street: str | None = None, east_edge: bool = False) -> Spot:
    """A point well inside a unit cell of a 街道 (the old town 中街 busiest); ``east_edge``: in the four
    eastern columns of 东关, where 十里铺村 answers."""
    if street is None:
        street = rng.choices([s[0] for s in STREETS], weights=[0.25, 0.4, 0.35])[0]
    _, first, last = next(s for s in STREETS if s[0] == street)
    if street == "620802001":
        first, last = (COLUMNS - 4, last) if east_edge else (first, COLUMNS - 5)
    col, row = rng.randint(first, last), rng.randint(0, 28)
    lon = WEST + (col + rng.uniform(0.2, 0.8)) * CELL_DLON
    lat = NORTH - (row + rng.uniform(0.2, 0.8)) * CELL_DLAT
    return Spot(round(lat, 6), round(lon, 6), street)


def near(rng: random.Random, spot: Spot, metres: float) -> Spot:
    """A point within ``metres`` of ``spot`` (a second report of the same problem)."""
    lat = spot.lat + rng.uniform(-0.7, 0.7) * metres / 110_574.0
    lon = spot.lon + rng.uniform(-0.7, 0.7) * metres / 90_600.0
    return replace(spot, lat=round(lat, 6), lon=round(lon, 6))


def handled(
    rng: random.Random,
    tl: Timeline,
    kind: Kind,
    spot: Spot,
    dispatched: dt.datetime,
    *,
    returned: bool = False,
) -> list[Step]:
    """The life of a dispatched case in the proportions a district command centre sees: most are accepted
    and resolved within the limit and pass the check; some are returned and re-dispatched, extended, held,
    late (and urged), reworked."""
    limit = tl.limits[kind.code]
    life = Life(rng, tl, dispatched, limit.natural)
    if returned:
        reason, target = RETURNS.get(kind.code, RETURN_ANY)
        life.wait(10, 90)
        life.add(UNIT, Action.return_, reason=reason)
        life.wait(10, 120, natural=False)
        life.add("dispatcher", Action.dispatch, unit=target, note="请按职责处置")
    run_start, remaining = life.t, limit.seconds
    life.wait(5, 45)
    life.add(UNIT, Action.accept)
    if rng.random() < 0.05:
        life.wait(10, 60, natural=False)
        life.add("dispatcher", Action.comment, note=rng.choice(COMMENTS))
    draw = rng.random()
    if draw < 0.07:  # an extension (延期), approved three times in four
        approve = rng.random() < 0.75
        life.until(tl.after(run_start, 0.55 * remaining, limit.natural))
        hours = rng.choice((4, 8, 14)) if not limit.natural else rng.choice((2, 4))
        life.add(UNIT, Action.request_extension, reason=rng.choice(EXTENSION_REASONS), hours=hours)
        life.wait(15, 120, natural=False)
        life.add(
            "dispatcher",
            Action.decide_extension,
            approve=approve,
            note="同意延期" if approve else "理由不充分，请按期处置",
        )
        remaining += hours * 3600.0 if approve else 0.0
    elif draw < 0.105:  # a hold (挂账), approved seven times in ten; most held cases resume later
        approve = rng.random() < 0.7
        life.until(tl.after(run_start, 0.4 * remaining, limit.natural))
        life.add(UNIT, Action.request_hold, reason=rng.choice(HOLD_REASONS))
        life.wait(30, 240, natural=False)
        life.add(
            "dispatcher", Action.decide_hold, approve=approve, note="同意挂账" if approve else "请先行处置"
        )
        if approve:
            remaining -= tl.spent(run_start, life.t, limit.natural)
            if rng.random() < 0.3:
                return life.steps  # still held
            life.until(tl.after(life.t + dt.timedelta(days=rng.randint(3, 20)), 1800))
            life.add("dispatcher", Action.resume, note="挂账原因已消除，恢复处置")
            run_start = life.t
            life.wait(10, 60)
            life.add(UNIT, Action.accept)
    late = rng.random() < 0.12
    resolve_at = tl.after(
        run_start,
        rng.uniform(1.1, 1.8) * remaining if late else rng.uniform(0.25, 0.9) * remaining,
        limit.natural,
    )
    if late and rng.random() < 0.6:
        urge_at = tl.after(tl.after(run_start, remaining, limit.natural), rng.uniform(10, 90) * 60, False)
        if life.t < urge_at < resolve_at:
            life.until(urge_at)
            life.add("supervisor", Action.urge, note=rng.choice(URGE_NOTES))
    life.until(resolve_at)
    life.add(UNIT, Action.resolve, note=rng.choice(kind.done), photo=limit.after_photo or rng.random() < 0.1)
    if rng.random() < 0.045:  # the on-site check fails: the same unit goes on with the time that was left
        remaining -= tl.spent(run_start, life.t, limit.natural)
        life.wait(30, 420, natural=False)
        life.add(spot.checker, Action.rework, reason=kind.rework, photo=rng.random() < 0.4)
        run_start = life.t
        life.until(tl.after(run_start, rng.uniform(0.2, 0.8) * max(remaining, 1800.0), limit.natural))
        life.add(UNIT, Action.resolve, note=rng.choice(kind.done), photo=limit.after_photo)
    life.wait(30, 600, natural=False)
    life.add(spot.checker, Action.verify, note=rng.choice(VERIFY_NOTES), photo=rng.random() < 0.05)
    return life.steps


def self_handled(rng: random.Random, tl: Timeline, kind: Kind, filed: dt.datetime) -> list[Step]:
    """A case the reporter fixed on the spot (自处理): the command centre checks it; now and then the check
    fails and the case goes to the dispatchers, who send it to the district's enforcement bureau."""
    life = Life(rng, tl, filed, False)
    life.wait(30, 300)
    checker = rng.choice(("dispatcher", "supervisor"))
    if rng.random() < 0.1:
        life.add(checker, Action.rework, reason=kind.rework)
        life.wait(10, 90)
        life.add("dispatcher", Action.dispatch, unit=CHENGGUAN, note="自处理未到位，请城管局处置")
        # A worker never checks a self-handled case of their cell: the spot's checker is a supervisor.
        return life.steps + handled(rng, tl, kind, Spot(0.0, 0.0), life.t)
    life.add(checker, Action.verify, note=rng.choice(VERIFY_NOTES))
    return life.steps


def refused(
    rng: random.Random, tl: Timeline, filed: dt.datetime, reason: str, duplicate_of: int | None
) -> list[Step]:
    """A case its unit sends back as no case at all (a duplicate, private property), then rejected."""
    life = Life(rng, tl, filed, False)
    life.wait(10, 60)
    life.add(UNIT, Action.return_, reason=DUPLICATE_RETURN if duplicate_of is not None else reason)
    life.wait(5, 60)
    life.add(
        "dispatcher",
        Action.reject,
        reason="重复上报" if duplicate_of is not None else "不属于城市管理范畴，不予立案",
        duplicate_of=duplicate_of,
    )
    return life.steps
