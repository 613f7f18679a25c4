"""A year of campaign data for bench/bench_campaign.py (issue 18): 2,000 inspection points over the demo grid,
12 monthly rounds each visiting every point, about 15 % of the items failing, their cases worked through the
workflow, the first 11 rounds published.

Everything goes through the service code the API calls, in-process, each step at its own past instant:

- the demo (grid, units, users, the real checklists of app/campaign/data/checklists.json imported by
  app.campaign.checklists, and the campaign demo's six points and open round) by ``grid-inspector migrate``
  and ``grid-inspector demo --no-history``;
- points by app.campaign.points ``create_point`` and ``set_duty`` (types: bus stops 60 %, markets 25 %,
  squares 15 %; tiers key 10 %, fixed 30 %, ordinary 60 %; each at a random place in a random unit cell of
  the demo grid; duties: markets to 区商务局 (a third with NM-12 to 交警), squares to 城管局, bus stops to the
  street's unit or, for 30 %, none so that ordinary routing answers);
- rounds by app.campaign.rounds ``create_round`` (every point listed, the district as scope, the patrolling
  worker as inspector) and ``take_action`` (open, publish);
- visits by what ``app.campaign.submission.submit`` does after reading the request: the answers are checked
  by app.campaign.answers, then ``submission._answer`` writes results, scores and the failures' cases
  (app.campaign.failures: routing by duty, the repeat rule, filing through app.reports.opening with the
  system's register and dispatch). **Photos are bypassed**: every item of the real checklists has
  ``photo_on_fail``, so the API would want a photo per failure; the answers are checked with that flag off
  and the cases open without photos (the code path of a failure whose photos are missing is the same one,
  with an empty photo list). 0.5 % of visits are unable (无法测评), also without their photo;
- rectification by app.workflow.actions ``act`` as the unit's demo login (accept, resolve) and the
  supervisor (verify, sometimes rework first): 90 % of the cases of a past round are closed, 80 % of those
  on time; the rest stay open, so a later failure of the item at the point is a repeat (多次整改). Resolving
  needs an after photo for most categories: one JPEG drawn by app.demo.photos is ingested once and attached
  to each resolution. The current month's round is left open with its cases dispatched.

Domain events go through the app's own bus (``create_app(...).state.bus``) before each commit, as a request
would hand them over, so the boards and notices made on ``RoundPublished`` exist.

Every item fails with the point's own propensity (Beta(1.5, 8.5), mean 0.15) times a factor falling from
1.15 to 0.85 over the year; 3 % of answers are not applicable. Seeded: the same arguments give the same data.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User, WorkerGrid
from app.auth.permissions import Principal
from app.campaign import answers, submission
from app.campaign.checklists import active_edition, checklists
from app.campaign.models import Item, Point, Round, Visit
from app.campaign.points import create_point, set_duty
from app.campaign.round_schemas import BoardIn, RoundIn, VisitIn
from app.campaign.rounds import create_round, take_action
from app.campaign.schemas import DutyIn, PointIn
from app.cases.models import Case, Status
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.deps import Hooks
from app.core.events import EventBus
from app.deadlines.cache import calendar_for
from app.demo.builder import grid_features
from app.demo.photos import evidence_jpeg
from app.grids.directory import directory
from app.grids.index import GridIndexCache
from app.photos.multipart import Part
from app.photos.service import Ingested, PhotoWorkshop
from app.units.models import Unit
from app.workflow.actions import ActionContext, Command, act
from app.workflow.rules import Action

TYPES = (("GJXL", 0.60), ("NMSC", 0.25), ("GGGC", 0.15))
TIERS = (("key", 0.10), ("fixed", 0.30), ("ordinary", 0.60))
STREET_UNIT = {"620802001": "市民政局", "620802002": "市妇联", "620802003": "区商务局"}
SHANGWU, CHENGGUAN, JIAOJING = "区商务局", "崆峒区城市管理综合执法局", "平凉市公安局交通警察支队崆峒大队"
BOARD = BoardIn(black_below=85, red_top=3, black_bottom=3, min_points=20)
RECTIFY_HOURS = 40  # working hours a failure gets (5 working days)
VISITS_PER_COMMIT = 100
TITLE_PREFIX = "基准测评"  # the rounds this generator makes: "基准测评 2026-01"
H = dt.timedelta(hours=1)


def _pick(rng: random.Random, choices: Iterable[tuple[str, float]]) -> str:
    items = list(choices)
    return rng.choices([c for c, _ in items], [w for _, w in items])[0]


@dataclass
class Stats:
    points: int = 0
    visits: int = 0
    unable: int = 0
    results: int = 0
    failures: int = 0
    cases: int = 0
    repeats: int = 0
    closed: int = 0
    late: int = 0
    reworked: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items())
        return (
            f"{self.points} points, {self.visits} visits ({self.unable} unable), {self.results} results, "
            f"{self.failures} failures ({self.failures / max(self.results, 1):.1%}): {self.cases} cases, "
            f"{self.repeats} repeats; {self.closed} closed ({self.late} late, {self.reworked} reworked first); {parts}"
        )


class Generator:
    """The generation (module docstring) over ``db``, as the demo's people; :meth:`run` does it all."""

    def __init__(self, db: Database, settings: Settings, bus: EventBus, points: int, rounds: int, seed: int):
        self.db, self.settings, self.bus = db, settings, bus
        self.n_points, self.n_rounds = points, rounds
        self.rng, self.seed = random.Random(seed), seed
        self.stats = Stats()
        self.workshop = PhotoWorkshop(settings)
        self.propensity: dict[int, float] = {}
        self.after_photo: list[Ingested] = []
        self.now = utcnow()

    # ---------------------------------------------------------------------------------------- people

    async def _people(self, session: AsyncSession) -> None:
        users = {u.username: u for u in (await session.execute(select(User))).scalars()}
        cells: dict[int, set[int]] = {}
        for user_id, grid_id in await session.execute(select(WorkerGrid.user_id, WorkerGrid.grid_id)):
            cells.setdefault(user_id, set()).add(grid_id)
        self.by_id = {
            u.id: Principal(user=u, grid_ids=frozenset(cells.get(u.id, ()))) for u in users.values()
        }
        self.supervisor = self.by_id[users["supervisor"].id]
        self.staff = {p.user.unit_id: p for p in self.by_id.values() if p.user and p.user.unit_id is not None}
        self.units = {name: uid for name, uid in await session.execute(select(Unit.name, Unit.id))}

    async def _context(self, session: AsyncSession) -> ActionContext:
        calendar = await calendar_for(session, self.settings)
        return ActionContext(self.settings, calendar, self.workshop, Hooks(), self.db)

    async def _commit(self, session: AsyncSession, ctx: ActionContext) -> None:
        await ctx.hooks.publish(self.bus, session)  # as a request does before its commit
        await session.commit()
        await Hooks.run(ctx.hooks.after_commit)
        ctx.hooks.after_commit.clear()

    # ---------------------------------------------------------------------------------------- points

    async def make_points(self) -> list[int]:
        t0 = time.perf_counter()
        _, cells = grid_features()
        shapes = [(f["properties"]["parent_code"], shape(f["geometry"])) for f in cells]
        cache = GridIndexCache()
        ids: list[int] = []
        async with self.db.write_sessionmaker() as session:
            await self._people(session)
            for n in range(1, self.n_points + 1):
                street, cell = self.rng.choice(shapes)
                west, south, east, north = cell.bounds
                while True:  # a place well inside the cell, so the point lands in it
                    lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
                    if cell.buffer(-1e-5).contains(ShapelyPoint(lon, lat)):
                        break
                type_code, tier = _pick(self.rng, TYPES), _pick(self.rng, TIERS)
                name = {
                    "GJXL": f"{self.rng.randint(1, 40)}路公交 第{n}站",
                    "NMSC": f"{STREET_UNIT[street][:2]}片区农贸市场 {n}号",
                    "GGGC": f"市民广场 {n}号",
                }[type_code]
                point = await create_point(
                    session,
                    cache,
                    PointIn(
                        code=f"BC-{type_code}-{n:04d}",
                        name=name,
                        type=type_code,
                        lat=round(lat, 6),
                        lon=round(lon, 6),
                        tier=tier,
                        reported=tier != "ordinary",
                        address=f"崆峒区 {name}",
                    ),
                )
                await set_duty(session, point, self._duty(type_code, street))
                ids.append(point.id)
                if n % 500 == 0:
                    await session.commit()
            await session.commit()
        self.stats.points = len(ids)
        self.stats.seconds["points"] = time.perf_counter() - t0
        return ids

    def _duty(self, type_code: str, street: str) -> DutyIn:
        if type_code == "NMSC":
            items = {"NM-12": self.units[JIAOJING]} if self.rng.random() < 1 / 3 else {}
            return DutyIn(unit_id=self.units[SHANGWU], lead_unit_id=self.units[CHENGGUAN], items=items)
        if type_code == "GGGC":
            return DutyIn(unit_id=self.units[CHENGGUAN])
        return DutyIn(unit_id=self.units[STREET_UNIT[street]] if self.rng.random() < 0.7 else None)

    # ---------------------------------------------------------------------------------------- rounds

    def months(self) -> list[dt.date]:
        """The first day of each of the last ``n_rounds`` months, the current one last."""
        tz = self.settings.workflow_tz
        first = self.now.astimezone(tz).date().replace(day=1)
        out = []
        for _ in range(self.n_rounds):
            out.append(first)
            first = (first - dt.timedelta(days=1)).replace(day=1)
        return out[::-1]

    async def _existing(self) -> tuple[list[int], dict[str, tuple[int, str]]]:
        """What an interrupted run left: the generated points' ids and the rounds by title (id, status)."""
        async with self.db.sessionmaker() as session:
            ids = list(
                (
                    await session.execute(
                        select(Point.id)
                        .where(Point.code.like("BC-%"), Point.deleted_at.is_(None))
                        .order_by(Point.id)
                    )
                ).scalars()
            )
            rounds = {
                title: (rid, status)
                for rid, title, status in await session.execute(
                    select(Round.id, Round.title, Round.status).where(Round.title.like(f"{TITLE_PREFIX}%"))
                )
            }
        return ids, rounds

    async def run(self) -> Stats:
        """Generate, or resume an interrupted generation: points made and rounds published are kept; a round
        left open is finished (its pending visits submitted, its dispatched cases worked)."""
        ids, made = await self._existing()
        if not ids:
            ids = await self.make_points()
        self.propensity = {i: random.Random(self.seed * 1_000_003 + i).betavariate(1.5, 8.5) for i in ids}
        jpeg = evidence_jpeg(
            35.5425, 106.6650, self.now.astimezone(self.settings.workflow_tz), "resolution", 18
        )
        self.after_photo = await self.workshop.ingest(
            [Part(name="photos", filename="after.jpg", content_type="image/jpeg", data=bytearray(jpeg))]
        )
        months = self.months()
        for k, month in enumerate(months):
            last, progress = k == len(months) - 1, k / max(len(months) - 1, 1)
            t0 = time.perf_counter()
            await self.one_round(made, month, ids, "patrol", progress, last)
            if k == len(months) - 2:  # a recheck (复查) late in the month: the export's smaller round
                sample = sorted(random.Random(self.seed).sample(ids, max(len(ids) // 10, 1)))
                await self.one_round(made, month + dt.timedelta(days=19), sample, "recheck", progress, False)
            print(
                f"  round {month:%Y-%m}: {time.perf_counter() - t0:.0f} s; so far {self.stats.line()}",
                flush=True,
            )
        self.workshop.close()
        return self.stats

    async def one_round(
        self,
        made: dict[str, tuple[int, str]],
        start: dt.date,
        ids: list[int],
        kind: str,
        progress: float,
        last: bool,
    ) -> None:
        """Make (or finish) one round: open, visits, rectification, published unless ``last``."""
        title = f"{TITLE_PREFIX} {start:%Y-%m}" + (" 复查" if kind == "recheck" else "")
        round_id, status = made.get(title, (None, None))
        if status not in (None, "open"):
            return
        t0 = time.perf_counter()
        if round_id is None:
            round_id = await self.make_round(start, ids, kind, title)
        await self.visit_all(round_id, start, progress, days=10 if kind == "patrol" else 5)
        t1 = time.perf_counter()
        await self.rectify(round_id=round_id, last=last)
        label = "visits" if kind == "patrol" else "recheck"
        self.stats.seconds[label] = self.stats.seconds.get(label, 0) + t1 - t0
        self.stats.seconds["workflow"] = self.stats.seconds.get("workflow", 0) + time.perf_counter() - t1
        if not last:
            await self.publish(round_id)

    async def make_round(self, start: dt.date, ids: list[int], kind: str, title: str) -> int:
        """Create and open a round from ``start``; its id."""
        async with self.db.write_sessionmaker() as session:
            await self._people(session)
            district = (await directory(session)).by_code["620802"]
            round_ = await create_round(
                session,
                self.supervisor,
                RoundIn(
                    kind=kind,
                    title=title,
                    period_from=start,
                    period_to=start + dt.timedelta(days=13 if kind == "patrol" else 6),
                    grid_id=district.id,
                    points=ids,
                    pass_mark=85,
                    rectify_hours=RECTIFY_HOURS,
                    board=BOARD,
                ),
            )
            ctx = await self._context(session)
            _, events = await take_action(session, round_, "open")
            ctx.hooks.collect(events)
            round_id = round_.id
            await self._commit(session, ctx)
        return round_id

    def _observed(self, start: dt.date, days: int) -> dt.datetime:
        tz = self.settings.workflow_tz
        day = start + dt.timedelta(days=self.rng.randrange(days))
        at = dt.datetime.combine(day, dt.time(8), tzinfo=tz) + dt.timedelta(
            seconds=self.rng.randrange(9 * 3600)
        )
        return min(at.astimezone(dt.UTC), self.now - 2 * H - dt.timedelta(seconds=self.rng.randrange(3600)))

    def _answers(self, items: list[Item], p: float) -> list[dict[str, Any]]:
        out = []
        for item in items:
            roll = self.rng.random()
            if roll < 0.03:
                row: dict[str, Any] = {"item": item.code, "result": "not_applicable"}
            elif roll < 0.03 + p:
                row = {"item": item.code, "result": "noncompliant", "note": "现场发现问题"}
                if item.answer_kind == "count_min":
                    row["amount"] = self.rng.randrange(item.threshold or 1)
                elif item.answer_kind == "problem_count":
                    row["amount"] = self.rng.randint(1, 5)
            else:
                row = {"item": item.code, "result": "compliant"}
                if item.answer_kind == "count_min":
                    row["amount"] = (item.threshold or 0) + self.rng.randrange(3)
                elif item.answer_kind == "problem_count":
                    row["amount"] = 0
            out.append(row)
        return out

    async def visit_all(self, round_id: int, start: dt.date, progress: float, days: int = 10) -> None:
        """Submit every visit of the round in observed order (module docstring)."""
        trend = 1.15 - 0.30 * progress
        cache = GridIndexCache()
        async with self.db.write_sessionmaker() as session:
            await self._people(session)
            round_ = await session.get(Round, round_id)
            assert round_ is not None
            lists = await checklists(session, (await active_edition(session)).id)
            visits = list(
                (
                    await session.execute(
                        select(Visit.id).where(Visit.round_id == round_id, Visit.status == "pending")
                    )
                ).scalars()
            )
            elapsed = (self.now.astimezone(self.settings.workflow_tz).date() - start).days
            days = max(1, min(days, elapsed))  # the current month's round: visits up to yesterday
            planned = sorted((self._observed(start, days), v) for v in visits)
            ctx = await self._context(session)
            for n, (observed, visit_id) in enumerate(planned, 1):
                await self._submit(session, ctx, cache, visit_id, observed, lists, trend)
                if n % VISITS_PER_COMMIT == 0:
                    await self._commit(session, ctx)
            await self._commit(session, ctx)

    async def _submit(
        self,
        session: AsyncSession,
        ctx: ActionContext,
        cache: GridIndexCache,
        visit_id: int,
        observed: dt.datetime,
        lists: dict[str, Any],
        trend: float,
    ) -> None:
        visit, round_, point = await submission._locked(session, visit_id)
        principal = self.by_id.get(visit.inspector_id or 0, self.supervisor)
        now = observed + dt.timedelta(minutes=self.rng.randint(1, 30))
        now = min(now, self.now - H)
        self.stats.visits += 1
        if self.rng.random() < 0.005:
            visit.status, visit.unable_reason = "unable", "施工围挡，无法进入"
            self.stats.unable += 1
        else:
            items: list[Item] = lists[point.type_code].items
            p = min(self.propensity.get(point.id, 0.15) * trend, 0.95)
            data = VisitIn(
                results=self._answers(items, p), lat=point.lat, lon=point.lon, observed_at=observed
            )
            expected = [
                answers.Expected(i.code, i.answer_kind, i.threshold, False, i.note_on_fail) for i in items
            ]
            problems = answers.problems(data, expected, [])
            if problems:
                raise RuntimeError(f"the generated answers do not fit: {problems[:3]}")
            visit.status = "submitted"
            await submission._answer(
                session, ctx, cache, principal, data, {}, (visit, round_, point), items, now
            )
            failed = [r for r in data.results if r.result == "noncompliant"]
            self.stats.results += len(data.results)
            self.stats.failures += len(failed)
        visit.observed_at, visit.submitted_at, visit.updated_at = observed, now, now
        visit.submitted_by_id = principal.user.id if principal.user else None
        if visit.status == "submitted":
            visit.lat, visit.lon, visit.coord_system = point.lat, point.lon, "wgs84"
        await session.flush()

    # ----------------------------------------------------------------------------------- rectification

    async def rectify(self, round_id: int, last: bool) -> None:
        """Work the cases the round opened (module docstring); actions never later than now."""
        async with self.db.write_sessionmaker() as session:
            await self._people(session)
            ctx = await self._context(session)
            cases = list(
                (
                    await session.execute(select(Case).where(Case.round_id == round_id).order_by(Case.id))
                ).scalars()
            )
            self.stats.cases += len(cases)
            self.stats.repeats = self.stats.failures - self.stats.cases
            for n, case in enumerate(cases, 1):
                await self._work(session, ctx, case, last)
                if n % VISITS_PER_COMMIT == 0:
                    await self._commit(session, ctx)
            await self._commit(session, ctx)

    async def _work(self, session: AsyncSession, ctx: ActionContext, case: Case, last: bool) -> None:
        if case.status != Status.dispatched.value or case.unit_id not in self.staff:
            return
        staff, roll = self.staff[case.unit_id], self.rng.random()
        at = case.updated_at + dt.timedelta(minutes=self.rng.randint(20, 600))
        close = roll < (0.35 if last else 0.90)
        if at >= self.now or (last and roll > 0.6):
            return
        await act(session, ctx, staff, case, Command(Action.accept), now=at)
        if not close:
            return
        due = case.due_at or at + 48 * H
        late = self.rng.random() < 0.20
        if late:
            resolved = due + dt.timedelta(hours=self.rng.uniform(2, 96))
        else:
            resolved = at + (due - at) * self.rng.uniform(0.1, 0.9)
        checked = resolved + dt.timedelta(hours=self.rng.uniform(1, 30))
        if checked >= self.now:
            return
        await act(
            session, ctx, staff, case, Command(Action.resolve, note="已整改"), self.after_photo, now=resolved
        )
        if self.rng.random() < 0.08:
            reason = Command(Action.rework, reason="复查仍有问题")
            await act(session, ctx, self.supervisor, case, reason, now=checked)
            resolved = checked + dt.timedelta(hours=self.rng.uniform(2, 24))
            checked = resolved + dt.timedelta(hours=self.rng.uniform(1, 24))
            if checked >= self.now:
                return
            self.stats.reworked += 1
            await act(
                session,
                ctx,
                staff,
                case,
                Command(Action.resolve, note="已再次整改"),
                self.after_photo,
                now=resolved,
            )
        await act(session, ctx, self.supervisor, case, Command(Action.verify, note="复查合格"), now=checked)
        self.stats.closed += 1
        self.stats.late += int(bool(case.resolved_on_time is False))

    async def publish(self, round_id: int) -> None:
        async with self.db.write_sessionmaker() as session:
            ctx = await self._context(session)
            round_ = await session.get(Round, round_id)
            assert round_ is not None
            _, events = await take_action(session, round_, "publish")
            ctx.hooks.collect(events)
            await self._commit(session, ctx)


async def counts(session: AsyncSession) -> dict[str, int]:
    """What the database holds of the campaign (printed after generating or finding the data)."""
    from app.campaign.models import Result

    out = {}
    for label, query in (
        ("points", select(func.count()).select_from(Point).where(Point.code.like("BC-%"))),
        ("rounds", select(func.count()).select_from(Round).where(Round.title.like(f"{TITLE_PREFIX}%"))),
        ("visits", select(func.count()).select_from(Visit)),
        ("results", select(func.count()).select_from(Result)),
        ("failures", select(func.count()).select_from(Result).where(Result.result == "noncompliant")),
        ("inspection cases", select(func.count()).select_from(Case).where(Case.source == "inspection")),
        (
            "closed cases",
            select(func.count())
            .select_from(Case)
            .where(Case.source == "inspection", Case.status == "closed"),
        ),
    ):
        out[label] = int(await session.scalar(query) or 0)
    return out
