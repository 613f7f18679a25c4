"""The campaign's past in the demo: three monthly patrols (常态巡查) over the six demo points, submitted,
worked and published through the service's own code, before the open mock round of app.campaign.demo.

:func:`load_campaign` loads the points, then replays the past in time order, each step at its own past
instant: a round opens on the first of its month; the supervisor submits every visit
(:func:`app.campaign.submission.submit`: results, watermark photos taken at the point, a case per failure
or a repeat of the open one); the units accept and resolve the cases and the supervisor re-inspects them
(:func:`app.workflow.actions.act`); the round is published on the third of the next month
(:func:`app.campaign.rounds.take_action`). Every domain event goes to a bus with the service's own
subscriptions (app.subscriptions), so the boards, the rectification notices and their sign-offs are
what the service makes. Failures thin out month by month (about 18%, 13%, 10% of the items) so the trend
rises; one bus stop is unable (无法测评) once. The plan is a table: the same ``today``, the same data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.auth.permissions import Principal
from app.campaign.checklists import active_edition, checklists
from app.campaign.demo import load_campaign_demo
from app.campaign.models import Item, Notice, Point, Result, Round, Visit
from app.campaign.round_schemas import BoardIn, ResultIn, RoundIn, VisitIn
from app.campaign.rounds import create_round, take_action
from app.campaign.submission import submit
from app.cases.models import Case, Status
from app.core.config import Settings
from app.core.db import Database
from app.core.deps import Hooks
from app.core.events import EventBus
from app.deadlines.cache import calendar_for
from app.demo.photos import evidence_jpeg, real_photo
from app.grids.directory import directory
from app.grids.index import GridIndexCache
from app.photos.multipart import Part
from app.photos.service import PhotoWorkshop
from app.subscriptions import event_bus
from app.workflow.actions import ActionContext, Command, act
from app.workflow.rules import Action

BOARD = BoardIn(black_below=85, red_top=1, black_bottom=1, min_points=1)
PASS_MARK = 85.0

# The failures of each month, oldest first: point code -> (item, note, amount for a count item, pace of its
# case: PACES), or the reason of an unable visit. A failure of an item whose case at the point is still open
# adds to that case (a repeat: its pace is not used), as the police's bus stop case does in October. The 中街
# market's parking and stalls and its bus stop's queue (what scripts/campaign_walkthrough.py fails) are
# closed before today, so the walk-through opens new cases.
Failure = tuple[str, str, int | None, str]
Failures = dict[str, list[Failure] | str]
MONTHS: list[Failures] = [
    {
        "KT-NM-001": [
            ("NM-02", "公益广告仅3处", 3, "prompt"),
            ("NM-10", "东侧通道积水,垃圾桶满溢", None, "closed"),
            ("NM-12", "东门外机动车违停4辆", None, "prompt"),
            ("NM-13", "东门外两处占道卖菜", None, "late"),
            ("NM-14", "立柱上小广告多处", None, "closed"),
        ],
        "KT-NM-002": [
            ("NM-06", "出入口未设公平秤", None, "prompt"),
            ("NM-11", "公厕无人保洁,异味明显", None, "closed"),
            ("NM-13", "北门外流动摊贩占道", None, "late"),
        ],
        "KT-GC-001": [
            ("GC-08", "西北角积存垃圾", None, "prompt"),
            ("GC-09", "宣传栏乱张贴", None, "closed"),
            ("GC-12", "非机动车占用盲道停放", None, "closed"),
        ],
        "KT-GJ-001": [("GJ-09", "早高峰拥挤上车,无人引导", None, "late")],
        "KT-GJ-002": [("GJ-05", "公交车未进站停靠", None, "accepted")],
        "KT-GJ-003": [],
    },
    {
        "KT-NM-001": [
            ("NM-10", "地面油污未清理", None, "prompt"),
            ("NM-12", "东门外机动车违停2辆", None, "late"),
            ("NM-13", "东门外一处占道卖菜", None, "closed"),
        ],
        "KT-NM-002": [
            ("NM-11", "公厕洗手池无水", None, "resolved"),
            ("NM-14", "入口小广告乱发放", None, "prompt"),
        ],
        "KT-GC-001": [
            ("GC-05", "两处座椅损坏", None, "accepted"),
            ("GC-12", "机动车占用绿化带停放", None, "late"),
        ],
        "KT-GJ-001": [],
        "KT-GJ-002": [("GJ-05", "公交车违章停靠", None, "accepted")],
        "KT-GJ-003": "站台改造施工,围挡封闭,无法测评",
    },
    {
        "KT-NM-001": [
            ("NM-01", "核心价值观宣传仅1处", 1, "resolved"),
            ("NM-12", "东门外非机动车乱停", None, "prompt"),
        ],
        "KT-NM-002": [("NM-13", "北门外一处占道经营", None, "accepted")],
        "KT-GC-001": [
            ("GC-08", "垃圾清运不及时", None, "closed"),
            ("GC-11", "东侧楼道飞线充电", None, "dispatched"),
        ],
        "KT-GJ-001": [],
        "KT-GJ-002": [("GJ-09", "乘客争抢上车", None, "prompt")],
        "KT-GJ-003": [("GJ-07", "候车亭座椅破损", None, "accepted")],
    },
]
# How far a new case gets: its steps, each on a day after the
# visit's and at an hour (local): accepted by the unit, resolved with a photo, re-inspected (verified, closed)
# by the supervisor. Prompt cases close before their deadline; late ones after the round is published.
PACES: dict[str, list[tuple[int, int, Action]]] = {
    "prompt": [(0, 14, Action.accept), (1, 10, Action.resolve), (1, 16, Action.verify)],
    "closed": [(0, 16, Action.accept), (2, 11, Action.resolve), (3, 15, Action.verify)],
    "late": [(1, 10, Action.accept), (18, 11, Action.resolve), (25, 15, Action.verify)],
    "resolved": [(0, 15, Action.accept), (6, 11, Action.resolve)],
    "accepted": [(1, 9, Action.accept)],
    "dispatched": [],
}
VISIT_DAYS = (5, 6, 8, 12, 13, 15)  # the day of the month each point is visited, in POINTS' order
NOTES = {Action.accept: "已接单,安排整改", Action.resolve: "已整改完毕", Action.verify: "复查合格"}


@dataclass
class CampaignLoaded:
    """What :func:`load_campaign` loaded, for the command line's summary."""

    rounds: int = 0
    published: int = 0
    failures: int = 0
    cases: int = 0
    closed: int = 0
    notices: int = 0
    signed_off: int = 0
    photos: int = 0
    seconds: float = 0.0


def summary(loaded: CampaignLoaded) -> str:
    return (
        f"Demo campaign: {loaded.rounds} rounds ({loaded.published} monthly patrols published with boards, "
        f"one open mock round); {loaded.failures} failures opened {loaded.cases} cases ({loaded.closed} "
        f"closed); {loaded.notices} rectification notices ({loaded.signed_off} signed off); "
        f"{loaded.photos} photos; {loaded.seconds:.1f} s."
    )


def months_before(today: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The ``count`` calendar months before ``today``'s, oldest first, as (first day, last day)."""
    out = []
    end = today.replace(day=1) - dt.timedelta(days=1)
    for _ in range(count):
        out.append((end.replace(day=1), end))
        end = end.replace(day=1) - dt.timedelta(days=1)
    return out[::-1]


@dataclass(order=True)
class _Entry:
    at: dt.datetime
    seq: int
    run: Callable[[], Awaitable[None]] = field(compare=False)


class _Past:
    """Replays the past rounds in time order, as the supervisor, the units and the system."""

    def __init__(
        self, session: AsyncSession, settings: Settings, db: Database, bus: EventBus, cutoff: dt.datetime
    ) -> None:
        self.session, self.settings, self.bus, self.cutoff = session, settings, bus, cutoff
        self.tz = settings.workflow_tz
        self.workshop, self.hooks = PhotoWorkshop(settings), Hooks()
        self.db, self.cache = db, GridIndexCache()
        self.agenda: list[_Entry] = []
        self.seq = 0
        self.loaded = CampaignLoaded()

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), self.tz).astimezone(dt.UTC)

    def plan(self, at: dt.datetime, run: Callable[[], Awaitable[None]]) -> None:
        if at < self.cutoff:  # the past only: what would happen after today is left to the users
            self.seq += 1
            heapq.heappush(self.agenda, _Entry(at, self.seq, run))

    async def run(self) -> None:
        while self.agenda:
            entry = heapq.heappop(self.agenda)
            await entry.run()
            await self.hooks.publish(self.bus, self.session)  # as a request does before its commit

    async def context(self) -> ActionContext:
        return ActionContext(
            settings=self.settings,
            calendar=await calendar_for(self.session, self.settings),
            workshop=self.workshop,
            hooks=self.hooks,
            db=self.db,
        )

    def photo(self, point: Point, stage: str, at: dt.datetime, key: str, n: int = 1) -> Part:
        """A watermark photo a few metres from the point, taken two minutes before ``at``: the ``n``-th of a
        burst (names differ within a visit); ``key`` (no database id: the same on every database) seeds it."""
        self.loaded.photos += 1
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        local = (at - dt.timedelta(minutes=2)).astimezone(self.tz)
        lat, lon = point.lat + (seed % 11 - 5) * 1e-5, point.lon + (seed % 7 - 3) * 1e-5
        jpeg = evidence_jpeg(lat, lon, local, stage, seed)
        name = f"IMG_{local:%Y%m%d_%H%M%S}_{n}.jpg"
        return Part(name="photos", filename=name, content_type="image/jpeg", data=bytearray(jpeg))


async def _people(session: AsyncSession) -> tuple[Principal, Principal, dict[int, Principal]]:
    users = list((await session.execute(select(User))).scalars())
    by_name = {u.username: u for u in users}
    staff = {u.unit_id: Principal(user=u) for u in users if u.role == "unit_staff" and u.unit_id is not None}
    return Principal(user=by_name["supervisor"]), Principal(user=by_name["dispatcher"]), staff


async def _past_rounds(past: _Past, points: list[Point], today: dt.date) -> None:
    session = past.session
    supervisor, dispatcher, staff = await _people(session)
    district = (await directory(session)).by_code["620802"]
    items = await checklists(session, (await active_edition(session)).id, {p.type_code for p in points})
    ctx = await past.context()

    async def step(case: Case, point: Point, action: Action, at: dt.datetime) -> None:
        actor = supervisor if action is Action.verify else staff.get(case.unit_id or 0)
        if actor is None:
            return  # a unit without a demo login: the case waits there
        photos = []
        if action in (Action.resolve, Action.verify):
            stage = "resolution" if action is Action.resolve else "check"
            photos = await past.workshop.ingest(
                [past.photo(point, stage, at, f"{point.code}/{at:%Y%m%d%H}/{action.value}")]
            )
        await act(session, ctx, actor, case, Command(action, note=NOTES[action]), photos, now=at)
        if action is Action.verify:
            past.loaded.closed += 1

    def visit_of(m: int, point: Point, visit_id: int, at: dt.datetime) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            planned = MONTHS[m][point.code]
            failing = {} if isinstance(planned, str) else {f[0]: f for f in planned}
            data, parts = _visit(past, point, items[point.type_code].items, planned, at, f"{m}/{point.code}")
            await submit(session, ctx, past.cache, supervisor, visit_id, data, parts, None, now=at)
            opened = (
                await session.execute(
                    select(Result.case_id, Result.item_code)
                    .where(Result.visit_id == visit_id, Result.case_id.is_not(None), Result.repeat.is_(False))
                    .order_by(Result.id)
                )
            ).all()
            for case_id, item_code in opened:
                case = await session.get(Case, case_id)
                assert case is not None
                past.loaded.cases += 1
                if case.status == Status.reported.value and case.routed_unit_id is not None:
                    # without auto-dispatch the dispatcher registers and dispatches what routing found
                    later = at + dt.timedelta(minutes=20)
                    await act(session, ctx, dispatcher, case, Command(Action.register), now=later)
                    dispatch = Command(Action.dispatch, unit_id=case.routed_unit_id)
                    await act(session, ctx, dispatcher, case, dispatch, now=later)
                pace = failing[item_code][3]
                day = at.astimezone(past.tz).date()
                for days, hour, action in PACES[pace]:
                    when = past.at(day + dt.timedelta(days=days), hour)
                    past.plan(when, _bound(step, case, point, action, when))

        return run

    for m, (first, last) in enumerate(months_before(today, len(MONTHS))):
        created = past.at(first, 8) - dt.timedelta(days=2)
        round_ = await create_round(
            session,
            supervisor,
            RoundIn(
                kind="patrol",
                title=f"{first.year}年{first.month}月 常态巡查",
                period_from=first,
                period_to=last,
                grid_id=district.id,
                points=[p.id for p in points],
                pass_mark=PASS_MARK,
                board=BOARD,
            ),
        )
        round_.created_at = round_.updated_at = created
        visits = {
            v.point_id: v
            for v in (await session.execute(select(Visit).where(Visit.round_id == round_.id))).scalars()
        }
        for v in visits.values():  # the supervisor inspects every point of a patrol
            v.inspector_id, v.created_at, v.updated_at = (
                supervisor.user.id if supervisor.user else None,
                created,
                created,
            )
        past.loaded.rounds += 1
        past.plan(past.at(first, 8, 30), _action(session, past.hooks, round_, "open", past.at(first, 8, 30)))
        for n, point in enumerate(points):
            at = past.at(first.replace(day=VISIT_DAYS[n % len(VISIT_DAYS)]), 9 + n % 3, 10 * n % 60)
            past.plan(at, visit_of(m, point, visits[point.id].id, at))
        published = min(past.at(last + dt.timedelta(days=3), 10), past.cutoff - dt.timedelta(hours=1))
        past.plan(published, _action(session, past.hooks, round_, "publish", published))
        past.loaded.published += 1
    await past.run()


def _visit(
    past: _Past, point: Point, items: list[Item], planned: list[Failure] | str, at: dt.datetime, key: str
) -> tuple[VisitIn, list[Part]]:
    """The visit as the phone sends it: every item's result with a photo per failure, or unable with the
    real camera file (taken far from here: flagged)."""
    if isinstance(planned, str):
        past.loaded.photos += 1
        photo = real_photo("DSCN0012.jpg")
        part = Part(name="photos", filename="DSCN0012.jpg", content_type="image/jpeg", data=bytearray(photo))
        return VisitIn(unable=True, reason=planned, lat=point.lat, lon=point.lon, observed_at=at), [part]
    failing = {f[0]: f for f in planned}
    results: list[ResultIn] = []
    parts: list[Part] = []
    for item in items:
        if item.code in failing:
            _, note, amount, _ = failing[item.code]
            parts.append(past.photo(point, "report", at, f"{key}/{item.code}", len(parts) + 1))
            result = ResultIn(
                item=item.code, result="noncompliant", amount=amount, note=note, photos=[parts[-1].filename]
            )
            past.loaded.failures += 1
        elif item.answer_kind == "count_min":
            result = ResultIn(item=item.code, result="compliant", amount=item.threshold)
        elif item.answer_kind == "problem_count":
            result = ResultIn(item=item.code, result="compliant", amount=0)
        else:
            result = ResultIn(item=item.code, result="compliant")
        results.append(result)
    return VisitIn(results=results, lat=point.lat, lon=point.lon, observed_at=at), parts


def _bound(step: Callable[..., Awaitable[None]], *args: object) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await step(*args)

    return run


def _action(
    session: AsyncSession, hooks: Hooks, round_: Round, action: str, at: dt.datetime
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        _, events = await take_action(session, round_, action, now=at)
        hooks.collect(events)

    return run


async def load_campaign(
    session: AsyncSession, settings: Settings, db: Database, today: dt.date | None = None
) -> CampaignLoaded:
    """Load the campaign's demo (app.campaign.demo) with three published monthly patrols before its open
    mock round, in the session's transaction (app.demo.builder must have run). Photos are written to the
    settings' storage; on an error the files written are removed and the error raised."""
    started = time.perf_counter()
    today = today or dt.date.today()
    cutoff = dt.datetime.combine(today, dt.time(), settings.workflow_tz).astimezone(dt.UTC)
    past = _Past(session, settings, db, event_bus(settings), cutoff)

    async def load(session: AsyncSession, points: list[Point]) -> None:
        await _past_rounds(past, points, today)

    try:
        await load_campaign_demo(session, today, past=load)
    except BaseException:
        await Hooks.run(past.hooks.on_rollback)
        raise
    finally:
        past.workshop.close()
    loaded = past.loaded
    loaded.rounds += 1  # the open mock round
    loaded.notices = await session.scalar(select(func.count()).select_from(Notice)) or 0
    loaded.signed_off = (
        await session.scalar(select(func.count()).select_from(Notice).where(Notice.status == "signed_off"))
        or 0
    )
    loaded.seconds = time.perf_counter() - started
    return loaded
