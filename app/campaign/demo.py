"""The campaign's demo: the real checklists (app/campaign/data/SOURCES.md), inspection points in 崆峒区's
three urban 街道 of the demo grid (app.demo.builder) with duties to its partner units, and one open mock
round whose visits go to worker2 (中街街道's points) and the supervisor (the others).

The places are made up on the demo's lattice, not surveyed: a market and a square with their outlines, a
second market, and three stops of one bus line across the three streets. Duties show the three routing rules
of a failure: an item's own unit (the market's parking to the traffic police), the point's unit, and
ordinary routing where no duty is set (two of the bus stops).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.auth.permissions import Principal
from app.campaign.checklists import demo_file, import_checklists
from app.campaign.models import Point, Visit
from app.campaign.points import create_point, set_duty
from app.campaign.round_schemas import RoundIn
from app.campaign.rounds import create_round, take_action
from app.campaign.schemas import DutyIn, PointIn
from app.grids.directory import directory
from app.grids.index import GridIndexCache
from app.units.models import Unit

CHENGGUAN, JIAOJING, SHANGWU, MINZHENG = (
    "崆峒区城市管理综合执法局",
    "平凉市公安局交通警察支队崆峒大队",
    "区商务局",
    "市民政局",
)


def _box(lon: float, lat: float, half_lon: float, half_lat: float) -> dict[str, Any]:
    ring = [
        [lon - half_lon, lat - half_lat],
        [lon + half_lon, lat - half_lat],
        [lon + half_lon, lat + half_lat],
        [lon - half_lon, lat + half_lat],
        [lon - half_lon, lat - half_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


# code, name, type, tier, address, where (geometry), duty: (point unit, lead unit, chief, phone, {item: unit})
POINTS: list[tuple[str, str, str, str, str, dict[str, Any], tuple[Any, ...]]] = [
    (
        "KT-NM-001",
        "中山街农贸市场",
        "NMSC",
        "key",
        "崆峒区中山街",
        _box(106.6655, 35.5431, 0.0004, 0.0003),
        (SHANGWU, CHENGGUAN, "王建国", "0933-8210001", {"NM-12": JIAOJING, "NM-13": CHENGGUAN}),
    ),
    (
        "KT-NM-002",
        "西郊农贸市场",
        "NMSC",
        "fixed",
        "崆峒区西郊路",
        {"type": "Point", "coordinates": [106.6405, 35.5452]},
        (SHANGWU, None, "李秀兰", "0933-8210002", {}),
    ),
    (
        "KT-GC-001",
        "东关广场",
        "GGGC",
        "key",
        "崆峒区东关大街",
        _box(106.6800, 35.5400, 0.0008, 0.0005),
        (CHENGGUAN, MINZHENG, "张志强", "0933-8210003", {"GC-12": JIAOJING}),
    ),
    (
        "KT-GJ-001",
        "1路公交 西郊站",
        "GJXL",
        "ordinary",
        "崆峒区西郊路口",
        {"type": "Point", "coordinates": [106.6450, 35.5425]},
        (None, None, None, None, {}),
    ),
    (
        "KT-GJ-002",
        "1路公交 中山街站",
        "GJXL",
        "ordinary",
        "崆峒区中山街口",
        {"type": "Point", "coordinates": [106.6620, 35.5425]},
        (None, None, None, None, {"GJ-05": JIAOJING}),
    ),
    (
        "KT-GJ-003",
        "1路公交 东关站",
        "GJXL",
        "ordinary",
        "崆峒区东关大街口",
        {"type": "Point", "coordinates": [106.6780, 35.5425]},
        (JIAOJING, None, "赵志刚", "0933-8210006", {}),
    ),
]


# What the demo loads between its points and the open round (app.demo.campaign: past published rounds).
Past = Callable[[AsyncSession, list[Point]], Awaitable[None]]


async def load_points(session: AsyncSession) -> list[Point]:
    """The real checklists and the demo's points with their duties, in :data:`POINTS`' order."""
    await import_checklists(session, demo_file())
    unit_ids: dict[str, int] = {name: uid for name, uid in await session.execute(select(Unit.name, Unit.id))}
    cache = GridIndexCache()
    points: list[Point] = []
    for code, name, type_code, tier, address, where, duty in POINTS:
        point = await create_point(
            session,
            cache,
            PointIn(
                code=code,
                name=name,
                type=type_code,
                geometry=where,
                address=address,
                tier=tier,
                reported=True,
            ),
        )
        unit, lead, chief, phone, items = duty
        await set_duty(
            session,
            point,
            DutyIn(
                unit_id=unit_ids[unit] if unit else None,
                lead_unit_id=unit_ids[lead] if lead else None,
                chief_name=chief,
                chief_phone=phone,
                items={item: unit_ids[u] for item, u in items.items()},
            ),
        )
        points.append(point)
    return points


async def load_campaign_demo(
    session: AsyncSession, today: dt.date | None = None, past: Past | None = None
) -> None:
    """Load the campaign's demo into the demo data set (app.demo.builder must have run: its grid, units and
    users): the points, then ``past`` (if given) over them, then the open mock round from ``today``.
    Flushes only; the caller commits."""
    points = await load_points(session)
    if past is not None:
        await past(session, points)
    users = {u.username: u for u in (await session.execute(select(User))).scalars()}
    supervisor = users["supervisor"]
    start = today or dt.date.today()
    district = (await directory(session)).by_code["620802"]
    round_ = await create_round(
        session,
        Principal(user=supervisor),
        RoundIn(
            kind="mock",
            title="模拟测评(演示)",
            period_from=start,
            period_to=start + dt.timedelta(days=13),
            grid_id=district.id,
            points=[p.id for p in points],
            pass_mark=85,
        ),
    )
    visits = (await session.execute(select(Visit).where(Visit.round_id == round_.id))).scalars()
    for visit in visits:
        if visit.inspector_id != users["worker2"].id:  # worker1's 东关 too: the supervisor inspects those
            visit.inspector_id = supervisor.id
    await take_action(session, round_, "open")
