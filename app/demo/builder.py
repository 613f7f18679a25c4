"""The demo data set: a real district (崆峒区), its three urban 街道 and ~100 m unit cells.

Real inputs: the district boundary (DataV export, GCJ-02, converted to WGS-84) and the official
township codes (国家统计局 2023). No township polygons are public, so the three urban 街道 are strips
of a rectangle around the city centre (西郊 west, 中街 middle, 东关 east) and the unit cells are a
~100 m lattice clipped to them, coded as docs/domain.md says: 6-digit district + 3-digit street +
3-digit community (001: the street's cells, no community boundaries being public) + 3-digit
sequence numbered west to east, north to south.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import box, mapping
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.geo.coords import CoordSystem
from app.grids.models import GridCell
from app.grids.service import import_features
from app.units.book import changed as units_changed
from app.units.models import Assignment, Unit
from app.users.schemas import UserCreate
from app.users.service import create_user

DATA = Path(__file__).parent / "data"
DISTRICT_CODE = "620802"
# City centre of 平凉 (WGS-84), as lattice bounds: 57 x 29 cells of ~100 m.
WEST, NORTH = 106.6300, 35.5560
CELL_DLON = 100.0 / (111_320.0 * math.cos(math.radians(35.543)))  # ~0.0011 degree
CELL_DLAT = 100.0 / 110_574.0  # ~0.0009 degree
COLUMNS, ROWS = 57, 29
STREETS = (  # (code, first column, last column): west to east
    ("620802003", 0, 18),  # 西郊街道
    ("620802002", 19, 37),  # 中街街道
    ("620802001", 38, 56),  # 东关街道
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    note: str  # who they are (the user's display name)
    unit: str | None = None
    use: str = ""  # what to try with this login in the demo


DEMO_LOGINS = (  # the first nine as before (their ids stay), then the units that had no login
    DemoLogin(
        "admin",
        "demo-admin-2026",
        Role.admin,
        "系统管理员 system administrator",
        use="users, units and assignments, the grid, the catalogue, the holiday calendar, API keys",
    ),
    DemoLogin(
        "dispatcher",
        "demo-dispatcher-2026",
        Role.dispatcher,
        "指挥中心派遣员 dispatcher",
        use="the approval queue: ?pending=extension&pending=hold&pending=redispatch; ?status=reported "
        "to register or reject; dispatch, decide, resume, check self-handled cases",
    ),
    DemoLogin(
        "supervisor",
        "demo-supervisor-2026",
        Role.supervisor,
        "督查员 supervisor",
        use="red cases (?light=red) to urge; /stats/assessment, /stats/overview (the veto alert); exports",
    ),
    DemoLogin(
        "worker1",
        "demo-worker1-2026",
        Role.worker,
        "网格员 grid worker, 东关街道",
        use="a phone in 东关街道: file reports; verify or rework the resolved cases there",
    ),
    DemoLogin(
        "worker2",
        "demo-worker2-2026",
        Role.worker,
        "网格员 grid worker, 中街街道",
        use="a phone in 中街街道: file reports; verify or rework the resolved cases there",
    ),
    DemoLogin(
        "chengguan",
        "demo-chengguan-2026",
        Role.unit_staff,
        "城管局 staff",
        "崆峒区城市管理综合执法局",
        use="unit work: the district's general unit (outside the three 街道, and cases re-dispatched to it)",
    ),
    DemoLogin(
        "jiaojing",
        "demo-jiaojing-2026",
        Role.unit_staff,
        "交警大队 staff",
        "平凉市公安局交通警察支队崆峒大队",
        use="unit work: parking (09009, 09010) everywhere",
    ),
    DemoLogin(
        "minzheng",
        "demo-minzheng-2026",
        Role.unit_staff,
        "市民政局 staff",
        "市民政局",
        use="unit work: everything else in 东关街道 (worker1's area)",
    ),
    DemoLogin(
        "shilipu",
        "demo-shilipu-2026",
        Role.unit_staff,
        "十里铺村 staff",
        "十里铺村",
        use="unit work: everything else on the eastern edge of 东关街道",
    ),
    DemoLogin(
        "fulian",
        "demo-fulian-2026",
        Role.unit_staff,
        "市妇联 staff",
        "市妇联",
        use="unit work: everything else in 中街街道 (worker2's area)",
    ),
    DemoLogin(
        "shangwu",
        "demo-shangwu-2026",
        Role.unit_staff,
        "区商务局 staff",
        "区商务局",
        use="unit work: everything else in 西郊街道; markets (09020) everywhere",
    ),
    DemoLogin(
        "zhujian",
        "demo-zhujian-2026",
        Role.unit_staff,
        "住建局 staff",
        "崆峒区住房和城乡建设局",
        use="unit work: construction sites (class 08: dust, encroachment) everywhere",
    ),
    DemoLogin(
        "gongshui",
        "demo-gongshui-2026",
        Role.unit_staff,
        "供水总公司 staff",
        "平凉市供水总公司",
        use="unit work: water manhole covers (01001) and burst mains (10004) everywhere",
    ),
)


UNITS: list[dict[str, Any]] = [
    {
        "name": "崆峒区城市管理综合执法局",
        "kind": "bureau",
        "contact": "指挥中心值班室",
        "assign": [(DISTRICT_CODE, None)],
    },
    {
        "name": "平凉市公安局交通警察支队崆峒大队",
        "kind": "police",
        "contact": "秩序中队",
        "assign": [(DISTRICT_CODE, "09009"), (DISTRICT_CODE, "09010")],
    },
    {
        "name": "平凉市供水总公司",
        "kind": "enterprise",
        "contact": "抢修热线",
        "assign": [(DISTRICT_CODE, "01001"), (DISTRICT_CODE, "10004")],
    },
    {
        "name": "崆峒区住房和城乡建设局",
        "kind": "bureau",
        "contact": "建管科",
        "assign": [(DISTRICT_CODE, "08")],
    },
    {
        "name": "区商务局",
        "kind": "bureau",
        "contact": "市场科",
        "assign": [("620802003", None), (DISTRICT_CODE, "09020")],
    },
    {"name": "市妇联", "kind": "department", "contact": "办公室", "assign": [("620802002", None)]},
    {"name": "市民政局", "kind": "department", "contact": "办公室", "assign": [("620802001", None)]},
    {"name": "十里铺村", "kind": "village_committee", "contact": "村委会", "assign": [("SHILIPU", None)]},
]


def _streets() -> dict[str, str]:
    with open(DATA / "kongtong_codes.csv", encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def grid_features() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(streets, unit cells) as GeoJSON Features in WGS-84 with code/name/level/parent_code."""
    names = _streets()
    street_features, cell_features = [], []
    for code, first, last in STREETS:
        street = box(WEST + first * CELL_DLON, NORTH - ROWS * CELL_DLAT, WEST + (last + 1) * CELL_DLON, NORTH)
        street_features.append(
            {
                "type": "Feature",
                "geometry": mapping(street),
                "properties": {
                    "code": code,
                    "name": names[code],
                    "level": 2,
                    "kind": "street",
                    "parent_code": DISTRICT_CODE,
                },
            }
        )
        seq = 0
        for row in range(ROWS):  # north to south
            for col in range(first, last + 1):  # west to east
                cell = box(
                    WEST + col * CELL_DLON,
                    NORTH - (row + 1) * CELL_DLAT,
                    WEST + (col + 1) * CELL_DLON,
                    NORTH - row * CELL_DLAT,
                )
                clipped = shapely.intersection(cell, street)
                if clipped.is_empty or clipped.area < 0.5 * cell.area:
                    continue
                seq += 1
                cell_code = f"{code}001{seq:03d}"
                cell_features.append(
                    {
                        "type": "Feature",
                        "geometry": mapping(clipped),
                        "properties": {
                            "code": cell_code,
                            "name": f"{names[code]}第{seq:03d}网格",
                            "level": 3,
                            "kind": "grid",
                            "parent_code": code,
                            "column": col,
                            "row": row,
                        },
                    }
                )
    return street_features, cell_features


async def demo_present(session: AsyncSession) -> bool:
    return (
        await session.execute(select(GridCell.id).where(GridCell.code == DISTRICT_CODE))
    ).first() is not None


async def build_demo(session: AsyncSession) -> tuple[DemoLogin, ...]:
    """Load the demo grid, units, assignments and users (assumes the catalogue is loaded)."""
    district = json.loads((DATA / "620802.json").read_text(encoding="utf-8"))
    await import_features(session, district, CoordSystem.gcj02, 10)
    streets, cells = grid_features()
    await import_features(session, streets + cells, CoordSystem.wgs84, 100_000)
    ids = {code: cid for code, cid in await session.execute(select(GridCell.code, GridCell.id))}
    # 十里铺村 answers for the eastern edge of 东关街道 (the village lies east of the old city).
    east_cells = [f["properties"]["code"] for f in cells if f["properties"]["column"] >= COLUMNS - 4]
    unit_ids: dict[str, int] = {}
    for spec in UNITS:
        unit = Unit(name=spec["name"], kind=spec["kind"], contact=spec["contact"], active=True)
        session.add(unit)
        await session.flush()
        unit_ids[spec["name"]] = unit.id
        for grid_code, category in spec["assign"]:
            targets = east_cells if grid_code == "SHILIPU" else [grid_code]
            session.add_all(
                Assignment(unit_id=unit.id, grid_id=ids[g], category_code=category, scope_code=category or "")
                for g in targets
            )
    await session.flush()
    await units_changed(session)
    # Each demo worker patrols one 街道, and so every unit cell below it.
    grids_of = {"worker1": "620802001", "worker2": "620802002"}
    for login in DEMO_LOGINS:
        prefix = grids_of.get(login.username)
        await create_user(
            session,
            UserCreate(
                username=login.username,
                password=login.password,
                role=login.role,
                display_name=login.note[:128],
                unit_id=unit_ids[login.unit] if login.unit else None,
                grid_ids=[ids[prefix]] if prefix else [],
            ),
        )
    return DEMO_LOGINS


DEMO_LOGINS_HINT = "Demo logins (POST /api/v1/auth/token with username and password), and what each is for:"
