"""Supervisors' queries at scale: case list pages per filter, assessment and overview, at 10k and 1M cases,
and the memory of a streamed export at 1M.

Run: python bench/bench_queries.py [--cases 1000000] [--small 10000] [--repeat 30]
                                   [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/gi_bench]
                                   [--no-export]

What it does, all on this machine:
1. Drops and recreates the scratch PostgreSQL database (its name must start with ``gi_bench``), runs
   ``alembic upgrade head`` and ``grid-inspector demo`` on it (崆峒区, 3 街道, 1,653 unit cells, units, users).
2. Simulates ``--cases`` cases over three years (seeded, so every run builds the same data): each case
   walks the real loop (report, auto or manual dispatch to the routed unit, returns, accept, extensions,
   holds, urges, resolve, verify or rework, reject, self-handling) with the deadline clock of
   app.deadlines.clock, and is cut at "now", so its state, counters, clock and light follow from its age.
   Cases and their case_events (and veto alerts) are bulk-loaded with COPY. Ids increase with
   created_at. First a 1-in-N sample (``--small`` cases, same ids and timeline) is loaded and measured,
   then the rest, so the same database grows to ``--cases``.
3. Measures, against the real application in-process (httpx + ASGITransport, a real asyncpg engine),
   p50/p95 of ``GET /api/v1/reports`` (limit 50) for each supervisor filter, first page and a deep page
   (cursor after the id 90 % through the id range; for delta sync, 90 % through the window's changes in
   their (updated_at, id) order), of worker and unit-staff views, of the assessment
   for last month (by unit, grid, category) and of the overview. Each row: a warm-up, then ``--repeat``
   timed requests (stopping early, after at least 5, once a row has used 20 s).
4. Prints the table (10k vs 1M, ratios of p50, p95 and of the time spent in the database), marks the rows
   that miss the spec's targets (a list page: p95 <= 25 ms at 1M and p95(1M)/p95(10k) <= 1.5; the
   assessment for a month: p95 <= 1 s; the overview has none), and for each miss prints the app's slowest
   statement (captured with SQLAlchemy cursor events) with EXPLAIN (ANALYZE, BUFFERS): the custom plan,
   and the generic plan too when the app's prepared statement had switched to it.
5. Starts ``grid-inspector serve`` on a free port against the 1M database (every rate limit off) and
   downloads ``/api/v1/reports/export?format=csv`` and ``format=geojson`` to nowhere, sampling the
   server's RSS every 0.5 s: rows/s, bytes, RSS at start, peak, and at 10 %, 50 %, 100 % of the bytes.
Any answer but a 200 stops the bench (exit 1), and so does an export whose row count is not the number of
cases in the database (a stream that broke after its 200 ends short); missed targets do not (a measurement).

The database is left in place for inspection (it is dropped at the start of the next run). A full run at
1M takes about 7 minutes on 2 cores (simulating and loading 1M cases and 6.2M events: about 2 minutes).
PostgreSQL's configuration is printed and left as it is (this bench measures the queries, not tuning).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import math
import statistics
import time
from typing import Any

import asyncpg
import httpx
import numpy as np
from casegen import Q_WORD, Simulator, describe_data, load_cases
from casegen_world import (
    CENTRE,
    TZ,
    Timeline,
    World,
    make_timeline,
    prepare_schema_and_demo,
    read_world,
    recreate_database,
)
from query_export import export_memory
from query_report import Result, Scenario, explain_misses, print_table
from sqlalchemy import event
from sqlalchemy.engine import make_url
from support import asyncpg_dsn, log, server_settings

from app.core.config import DatabaseSettings, RateLimitSettings, Settings
from app.core.db import Database, create_engine
from app.core.deps import encode_cursor
from app.main import create_app

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/gi_bench"
ROW_BUDGET_S = 20.0
LOGINS = {
    "supervisor": "demo-supervisor-2026",
    "worker2": "demo-worker2-2026",
    "jiaojing": "demo-jiaojing-2026",
}


# ---------------------------------------------------------------------------------------- measuring


class SqlCapture:
    """Every statement the engine runs, with its time in the driver (SQLAlchemy cursor events)."""

    def __init__(self, engine: Any) -> None:
        self.log: list[tuple[float, str, tuple[Any, ...]]] = []
        self._t0 = 0.0
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self._t0 = time.perf_counter()

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.log.append(((time.perf_counter() - self._t0) * 1000, statement, tuple(parameters or ())))


def scenarios(ids: dict[str, Any]) -> list[Scenario]:
    month_from, month_to = ids["month"]
    S = "/api/v1/reports"
    rows = [
        Scenario("no filter", S, []),
        Scenario("status=in_progress", S, [("status", "in_progress")]),
        Scenario("status=closed", S, [("status", "closed")]),
        Scenario("status=dispatched+in_progress", S, [("status", "dispatched"), ("status", "in_progress")]),
        Scenario(f"category={ids['category']}", S, [("category", ids["category"])]),
        Scenario(f"category={ids['major']} (major)", S, [("category", ids["major"])]),
        *[Scenario(f"grid={gid} (街道 {code})", S, [("grid", str(gid))]) for gid, code in ids["streets"]],
        Scenario(f"grid={ids['cell'][0]} (cell {ids['cell'][1]})", S, [("grid", str(ids["cell"][0]))]),
        Scenario(f"unit={ids['unit']}", S, [("unit", str(ids["unit"]))]),
        Scenario(f"reporter={ids['reporter']} (worker2)", S, [("reporter", str(ids["reporter"]))]),
        Scenario("light=red", S, [("light", "red")]),
        Scenario("overdue=true", S, [("overdue", "true")]),
        Scenario("bbox 500 m (centre)", S, [("bbox", ids["bbox"])]),
        Scenario(
            f"created {month_from[:7]}",
            S,
            [("created_from", ids["created"][0]), ("created_to", ids["created"][1])],
        ),
        Scenario("updated_since 7 days", S, [("updated_since", ids["updated_since"])]),
        Scenario(f"q={Q_WORD}", S, [("q", Q_WORD)]),
        Scenario("as worker2 (no filter)", S, [], user="worker2"),
        Scenario("as jiaojing (unit staff)", S, [], user="jiaojing"),
        Scenario(
            f"in_progress+街道+major {ids['major']}",
            S,
            [("status", "in_progress"), ("grid", str(ids["streets"][1][0])), ("category", ids["major"])],
        ),
        *[
            Scenario(
                f"assessment by {g} ({month_from[:7]})",
                "/api/v1/stats/assessment",
                [("group_by", g), ("from", month_from), ("to", month_to)],
                kind="assessment",
            )
            for g in ("unit", "grid", "category")
        ],
        Scenario("overview", "/api/v1/stats/overview", [], kind="overview"),
    ]
    for s in rows:
        if s.kind == "page":
            s.params = [*s.params, ("limit", "50")]
    return rows


async def pick_ids(dsn: str, world: World, timeline: Timeline) -> dict[str, Any]:
    """The concrete values the filters use (the same at 10k and 1M)."""
    conn = await asyncpg.connect(dsn)
    try:
        reporter = await conn.fetchval("SELECT id FROM users WHERE username = 'worker2'")
        unit = await conn.fetchval("SELECT unit_id FROM users WHERE username = 'jiaojing'")
        cell = await conn.fetchrow(
            "SELECT id, code FROM grid_cells WHERE length(code) = 15 AND min_lon <= $1 AND "
            "max_lon >= $1 AND min_lat <= $2 AND max_lat >= $2 ORDER BY id LIMIT 1",
            *CENTRE,
        )
    finally:
        await conn.close()
    counts = np.bincount(timeline.cat, minlength=len(world.cat_code)) / len(timeline.cat)
    category = world.cat_code[int(np.argmin(np.abs(counts - 0.02)))]  # a 5-digit code with ~2 % of cases
    now_local = dt.datetime.fromtimestamp(timeline.now, TZ)
    this_month = now_local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    half_lat, half_lon = 250 / 110_574, 250 / (111_320 * math.cos(math.radians(CENTRE[1])))
    return {
        "reporter": reporter,
        "unit": unit,
        "cell": (cell["id"], cell["code"]),
        "category": category,
        "major": "09",
        "streets": [(s[0], s[1]) for s in world.streets],
        "bbox": f"{CENTRE[0] - half_lon:.6f},{CENTRE[1] - half_lat:.6f},{CENTRE[0] + half_lon:.6f},"
        f"{CENTRE[1] + half_lat:.6f}",
        "created": (last_month.isoformat(), this_month.isoformat()),
        "month": (last_month.date().isoformat(), (this_month - dt.timedelta(days=1)).date().isoformat()),
        "updated_since": (dt.datetime.fromtimestamp(timeline.now, dt.UTC) - dt.timedelta(days=7)).isoformat(),
    }


async def prepared_plan_modes(engine: Any) -> dict[str, tuple[int, int]]:
    """generic/custom plan counts of the prepared statements on every pooled connection."""
    out: dict[str, tuple[int, int]] = {}
    conns = []
    try:
        for _ in range(max(engine.pool.checkedin(), 1)):
            conns.append(await engine.connect())
        for conn in conns:
            for sql, generic, custom in (
                await conn.exec_driver_sql(
                    "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                )
            ).all():
                g, cu = out.get(sql, (0, 0))
                out[sql] = (g + generic, cu + custom)
    finally:
        for conn in conns:
            await conn.close()
    return out


async def measure(url: str, repeat: int, ids: dict[str, Any], label: str) -> dict[tuple[str, str], Result]:
    # The bench's own heap (timeline, routing table) must not make the app's garbage collections slower.
    gc.collect()
    gc.freeze()
    # Every limit off: the bench logs in three users per measured size, and its figures must not depend on
    # how many runs came before within a limit's window.
    settings = Settings(
        env="development",
        database=DatabaseSettings(database_url=url),
        rate_limits=RateLimitSettings(
            login_per_username=0, login_per_address=0, reports_per_user=0, reports_per_api_key=0
        ),
    )
    engine = create_engine(url, pool_size=5)
    capture = SqlCapture(engine)
    app = create_app(settings, database=Database(engine))
    out: dict[tuple[str, str], Result] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    ) as client:
        tokens = {}
        for user, password in LOGINS.items():
            r = await client.post("/api/v1/auth/token", data={"username": user, "password": password})
            r.raise_for_status()
            tokens[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        conn = await asyncpg.connect(asyncpg_dsn(url))
        lo, hi = await conn.fetchrow("SELECT min(id), max(id) FROM cases")
        # Delta sync pages in the order of changes: its deep page starts 90 % through the window's changes.
        since = dt.datetime.fromisoformat(ids["updated_since"])
        changed = await conn.fetchval("SELECT count(*) FROM cases WHERE updated_at >= $1", since)
        mark = await conn.fetchrow(
            "SELECT id, updated_at FROM cases WHERE updated_at >= $1 ORDER BY updated_at, id "
            "OFFSET $2 LIMIT 1",
            since,
            int(0.9 * changed),
        )
        await conn.close()
        deep = encode_cursor({"after": int(lo + 0.9 * (hi - lo))})
        deep_delta = encode_cursor(
            {
                "after": mark["id"],
                "u": mark["updated_at"].isoformat(),
                "sync": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        t_phase = time.perf_counter()
        for sc in scenarios(ids):
            for page in sc.pages():
                cursor = deep_delta if any(k == "updated_since" for k, _ in sc.params) else deep
                params = [*sc.params, *([("cursor", cursor)] if page == "deep" else [])]

                async def call(
                    sc: Scenario = sc, params: list[tuple[str, str]] = params, page: str = page
                ) -> httpx.Response:
                    r = await client.get(sc.path, params=params, headers=tokens[sc.user])
                    if r.status_code != 200:
                        raise SystemExit(f"{sc.name} ({page}): HTTP {r.status_code} {r.text[:500]}")
                    return r

                for _ in range(3):  # warm-up: caches, prepared statements, the calendar
                    r = await call()
                rows = len(r.json()["items"]) if sc.kind == "page" else None
                samples, db_times = [], []
                started = time.perf_counter()
                per_sql: dict[str, list[float]] = {}
                last_params: dict[str, tuple[Any, ...]] = {}
                for i in range(repeat):
                    capture.log = []
                    t0 = time.perf_counter()
                    await call()
                    samples.append((time.perf_counter() - t0) * 1000)
                    db_times.append(sum(ms for ms, _, _ in capture.log))
                    for ms, sql, args in capture.log:
                        per_sql.setdefault(sql, []).append(ms)
                        last_params[sql] = args
                    if i >= 4 and time.perf_counter() - started > ROW_BUDGET_S:
                        break
                statements = sorted(
                    ((statistics.median(v), sql, last_params[sql]) for sql, v in per_sql.items()),
                    key=lambda st: -st[0],
                )
                res = Result(samples, rows, statistics.median(db_times), statements)
                modes = await prepared_plan_modes(engine)
                res.plan_modes = {sql: modes[sql] for _, sql, _ in statements if sql in modes}
                out[(sc.name, page)] = res
                print(
                    f"    {label} {sc.name:34} {page:5} n={len(samples):2} p50 {res.q(50):8.1f} ms  "
                    f"p95 {res.q(95):8.1f} ms  db {res.db_ms:7.1f} ms  rows {rows if rows is not None else '-'}",
                    flush=True,
                )
        log(f"{label}: measured in {time.perf_counter() - t_phase:.0f} s")
    app.state.workshop.close()
    await engine.dispose()
    return out


# --------------------------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> None:
    url, dsn = args.database_url, asyncpg_dsn(args.database_url)
    total, small = args.cases, min(args.small, args.cases)
    t_run = time.perf_counter()
    log(f"scratch database {make_url(url).database}: drop, create, migrate, demo")
    await recreate_database(url)
    prepare_schema_and_demo(url)
    log(await server_settings(dsn))
    conn = await asyncpg.connect(dsn)
    world = await read_world(conn)
    await conn.close()
    now = time.time()
    timeline = make_timeline(world, total, now)
    sim = Simulator(world, timeline)
    log(
        f"world: {len(world.cell_id)} unit cells, {len(world.cat_code)} categories, {len(world.units)} units, "
        f"workers {world.workers}; timeline of {total:,} cases from "
        f"{dt.datetime.fromtimestamp(timeline.created[0], TZ):%Y-%m-%d} to {dt.datetime.fromtimestamp(now, TZ):%Y-%m-%d %H:%M}"
    )
    ids = await pick_ids(dsn, world, timeline)
    scs = scenarios(ids)
    # The small set is an even 1-in-N sample of the same timeline (same ids), so the database then grows.
    small_idx = (
        np.unique(np.linspace(0, total - 1, small).round().astype(np.int64)) if small < total else None
    )
    results_small = None
    loads = []
    if small_idx is not None:
        loads.append(await load_cases(dsn, sim, small_idx, f"load {len(small_idx):,}"))
        await describe_data(dsn, now)
        results_small = await measure(url, args.repeat, ids, f"{len(small_idx) // 1000}k")
        rest = np.setdiff1d(np.arange(total, dtype=np.int64), small_idx)
    else:
        rest = np.arange(total, dtype=np.int64)
    loads.append(await load_cases(dsn, sim, rest, f"grow to {total:,}"))
    await describe_data(dsn, now)
    results_big = await measure(url, args.repeat, ids, f"{total // 1000}k")
    print(f"\n== GET list pages / stats, in-process app on {await server_settings(dsn)}")
    print(f"filters: {ids}")
    misses = print_table(
        scs, results_small, results_big, len(small_idx) if small_idx is not None else 0, total
    )
    gen = sum(x["seconds"] for x in loads)
    print(
        f"\ngeneration: {sum(x['cases'] for x in loads):,} cases + {sum(x['events'] for x in loads):,} events in "
        f"{gen:.0f} s (simulate {sum(x['simulate'] for x in loads):.0f} s, COPY {sum(x['copy'] for x in loads):.0f} s, "
        f"VACUUM ANALYZE {sum(x['vacuum'] for x in loads):.0f} s)"
    )
    await explain_misses(url, misses, results_small, results_big)
    failures = []
    if not args.no_export:
        conn = await asyncpg.connect(dsn)
        alive = await conn.fetchval("SELECT count(*) FROM cases WHERE deleted_at IS NULL")
        await conn.close()
        failures = export_memory(url, alive)
    log(f"done in {time.perf_counter() - t_run:.0f} s; database {make_url(url).database} left for inspection")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--no-export", action="store_true", help="skip the export memory measurement")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
