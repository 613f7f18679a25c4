"""Scratch database and the world the query bench's cases live in: dropping and recreating the
``gi_bench*`` database, ``alembic upgrade head`` and ``grid-inspector demo`` on it, the World (the demo's
cells, categories, units, users and routing, read back from the database) and the Timeline (every case's
creation time, cell, category and position, seeded and vectorised), with the constants they use.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
from sqlalchemy.engine import make_url
from support import BIN, ROOT, asyncpg_dsn, log

from app.deadlines.calendar import WorkCalendar
from app.routing.rules import Candidate, ChainCell, route

SEED = 20261201
TZ = ZoneInfo("Asia/Shanghai")
CENTRE = (106.6652, 35.5428)  # lon, lat: 平凉 city centre
YEARS = 3

# Share of reports by major class (大类); within a class the categories get seeded log-normal weights.
MAJOR_WEIGHTS = {
    "01": 0.08,
    "02": 0.05,
    "03": 0.08,
    "04": 0.05,
    "05": 0.01,
    "06": 0.30,
    "07": 0.07,
    "08": 0.05,
    "09": 0.25,
    "10": 0.03,
    "90": 0.03,
    "91": 0.001,
}


# ---------------------------------------------------------------------------------------------- set-up


async def recreate_database(url: str) -> None:
    name = make_url(url).database or ""
    if not name.startswith("gi_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the scratch database's name must start with gi_bench")
    admin = await asyncpg.connect(asyncpg_dsn(make_url(url).set(database="postgres").render_as_string(False)))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def prepare_schema_and_demo(url: str) -> None:
    env = {**os.environ, "GRID_DATABASE_URL": url, "GRID_ENV": "development"}
    for cmd in (
        [str(BIN / "alembic"), "upgrade", "head"],
        [str(BIN / "grid-inspector"), "demo", "--no-history"],
    ):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
        log(
            f"{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}: {time.perf_counter() - t0:.1f} s"
        )


@dataclass
class World:
    """The demo data the cases are spread over, read back from the database."""

    cell_id: list[int]
    cell_code: list[str]
    cell_path: list[str]
    cell_bbox: np.ndarray  # (n, 4): min_lon, min_lat, max_lon, max_lat
    cell_street: list[int]  # index into streets
    streets: list[tuple[int, str, str, str]]  # id, code, path, name
    cat_code: list[str]
    cat_name: list[str]
    cat_priority: list[str]
    cat_limit: list[int]
    cat_unit: list[str]
    cat_veto: list[bool]
    cat_limit_s: list[float]  # in the limit's own seconds (working or natural), as app.deadlines.calendar
    cat_factor: list[float]  # wall-clock seconds per second of the limit
    units: dict[int, str]
    staff_of_unit: dict[int, int]
    workers: list[int]  # users of role worker
    worker_of_street: dict[int, int]  # street index -> the worker patrolling it
    dispatcher_id: int
    supervisor_id: int
    routing: dict[tuple[int, int], tuple[str, int | None, int | None, str]] = field(default_factory=dict)


async def read_world(conn: asyncpg.Connection) -> World:
    streets = [
        tuple(r)
        for r in await conn.fetch("SELECT id, code, path, name FROM grid_cells WHERE level = 2 ORDER BY code")
    ]
    district = await conn.fetchrow("SELECT id, code, name, level FROM grid_cells WHERE level = 1")
    cells = await conn.fetch(
        "SELECT id, code, name, path, parent_id, min_lon, min_lat, max_lon, max_lat FROM grid_cells "
        "WHERE length(code) = 15 ORDER BY id"
    )
    street_index = {s[0]: i for i, s in enumerate(streets)}
    cats = await conn.fetch(
        "SELECT code, name_zh, priority, time_limit, time_unit, veto FROM categories "
        "WHERE active ORDER BY code"
    )
    units = {
        r["id"]: r["name"] for r in await conn.fetch("SELECT id, name FROM units WHERE active ORDER BY id")
    }
    users = await conn.fetch("SELECT id, username, role, unit_id FROM users ORDER BY id")
    worker_grids = await conn.fetch(
        "SELECT w.user_id, w.grid_id FROM worker_grids w JOIN users u ON u.id = w.user_id "
        "WHERE u.role = 'worker'"
    )
    assignments = await conn.fetch(
        "SELECT a.id, a.unit_id, a.grid_id, a.category_code, u.name FROM assignments a "
        "JOIN units u ON u.id = a.unit_id WHERE u.active"
    )
    spd = WorkCalendar(tz=TZ).seconds_per_day
    working_factor = 7 * 86400 / (5 * spd)  # wall-clock per working second, 5 working days a week
    world = World(
        cell_id=[r["id"] for r in cells],
        cell_code=[r["code"] for r in cells],
        cell_path=[r["path"] for r in cells],
        cell_bbox=np.array([[r["min_lon"], r["min_lat"], r["max_lon"], r["max_lat"]] for r in cells]),
        cell_street=[street_index[r["parent_id"]] for r in cells],
        streets=streets,  # type: ignore[arg-type]
        cat_code=[r["code"] for r in cats],
        cat_name=[r["name_zh"] for r in cats],
        cat_priority=[r["priority"] for r in cats],
        cat_limit=[r["time_limit"] for r in cats],
        cat_unit=[r["time_unit"] for r in cats],
        cat_veto=[r["veto"] for r in cats],
        cat_limit_s=[r["time_limit"] * (spd if r["time_unit"] == "working_days" else 3600.0) for r in cats],
        cat_factor=[1.0 if r["time_unit"] == "natural_hours" else working_factor for r in cats],
        units=units,
        staff_of_unit={r["unit_id"]: r["id"] for r in users if r["role"] == "unit_staff"},
        workers=[r["id"] for r in users if r["role"] == "worker"],
        worker_of_street={street_index[g]: u for u, g in worker_grids if g in street_index},
        dispatcher_id=next(r["id"] for r in users if r["role"] == "dispatcher"),
        supervisor_id=next(r["id"] for r in users if r["role"] == "supervisor"),
    )
    # Routing with the application's own rules (app.routing.rules.route), per cell and category.
    by_grid: dict[int, list[Candidate]] = {}
    for a in assignments:
        by_grid.setdefault(a["grid_id"], []).append(
            Candidate(a["id"], a["unit_id"], a["name"], a["grid_id"], a["category_code"])
        )
    dist = ChainCell(district["id"], district["code"], district["name"], district["level"])
    street_cells = [ChainCell(s[0], s[1], s[3], 2) for s in streets]
    for ci, c in enumerate(cells):
        chain = [ChainCell(c["id"], c["code"], c["name"], 3), street_cells[world.cell_street[ci]], dist]
        for ki, code in enumerate(world.cat_code):
            d = route(chain, code, by_grid)
            world.routing[(ci, ki)] = (
                d.rule.value,
                d.assignment_id,
                d.unit_id,
                (d.matched_cell or d.cell).code,
            )
    return world


# ------------------------------------------------------------------------------------------ the cases


@dataclass
class Timeline:
    """Every case's creation time, cell and category (vectorised, seeded), ids 1..n in time order."""

    now: float
    created: np.ndarray
    cell: np.ndarray
    cat: np.ndarray
    lonlat: np.ndarray


def make_timeline(world: World, n: int, now: float) -> Timeline:
    # One generator per attribute, so that where and what a case is do not depend on when the bench runs.
    rng_t, rng_cell, rng_cat, rng_xy = (np.random.default_rng([SEED, 1, k]) for k in range(4))
    span = YEARS * 365.25 * 86400
    # Intake grows (the service is adopted over time): the rate at the end is twice that at the start.
    x = -1 + np.sqrt(1 + 3 * rng_t.random(n))  # inverse CDF of the density (1 + x) / 1.5 on [0, 1]
    created = now - span + x * span
    # Office-hours pattern in local time: two humps around 10:00 and 15:30.
    local_day = np.floor((created + 8 * 3600) / 86400) * 86400 - 8 * 3600
    hours = np.where(rng_t.random(n) < 0.55, rng_t.normal(10.0, 2.0, n), rng_t.normal(15.5, 2.5, n)).clip(
        6.5, 22.5
    )
    created = local_day + hours * 3600
    late = created > now - 60  # today's office hours not yet reached: earlier today instead
    created = np.where(late, now - 60 - rng_t.random(n) * 6 * 3600, created)
    created.sort()
    # Where: hot spots near the centre, plus seeded per-cell variation.
    bbox = world.cell_bbox
    cx, cy = (bbox[:, 0] + bbox[:, 2]) / 2, (bbox[:, 1] + bbox[:, 3]) / 2
    d = np.hypot((cx - CENTRE[0]) * 111_320 * math.cos(math.radians(CENTRE[1])), (cy - CENTRE[1]) * 110_574)
    w = rng_cell.lognormal(0, 0.7, len(cx)) * (0.3 + np.exp(-((d / 900) ** 2)))
    cell = rng_cell.choice(len(cx), size=n, p=w / w.sum())
    # What: major classes by MAJOR_WEIGHTS, categories within by seeded log-normal weights.
    cw = np.array([MAJOR_WEIGHTS.get(code[:2], 0.01) for code in world.cat_code])
    cw *= rng_cat.lognormal(0, 1.0, len(world.cat_code))
    majors = Counter(code[:2] for code in world.cat_code)
    for i, code in enumerate(world.cat_code):  # a class's share does not depend on how many codes it has
        cw[i] /= majors[code[:2]]
    cat = rng_cat.choice(len(cw), size=n, p=cw / cw.sum())
    r = rng_xy.random((n, 2))
    lon = bbox[cell, 0] + r[:, 0] * (bbox[cell, 2] - bbox[cell, 0])
    lat = bbox[cell, 1] + r[:, 1] * (bbox[cell, 3] - bbox[cell, 1])
    return Timeline(now=now, created=created, cell=cell, cat=cat, lonlat=np.stack([lon, lat], axis=1))
