"""The query bench's cases: the Simulator walks each case through the real loop (report, dispatch,
returns, accept, extensions, holds, urges, resolve, verify or rework, reject, self-handling) with the
deadline clock of app.deadlines.clock, cut at "now"; load_cases COPYs the cases, their case_events and
veto alerts in chunks; describe_data summarises what was loaded. With the constants they use (COPY
columns, phrases, roads, tracking-code alphabet).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import asyncpg
import numpy as np
from casegen_world import SEED, TZ, Timeline, World
from support import log, pg_us

CHUNK = 25_000  # cases per COPY batch
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as app.reports.intake
PHRASES = [
    ("影响行人通行", 8),
    ("居民多次反映", 6),
    ("存在安全隐患", 6),
    ("夜间尤为明显", 3),
    ("已拍照取证", 6),
    ("请尽快处理", 8),
    ("位于小区入口", 4),
    ("靠近学校门口", 0.6),
    ("在公交站旁", 3),
    ("沿街商铺前", 5),
    ("持续数日", 4),
    ("雨后加重", 2),
    ("周末较多", 2),
    ("早高峰时段", 3),
    ("面积较大", 3),
]
Q_WORD = "学校"  # appears only in one rare phrase (about 1 % of descriptions)
ROADS = [
    "西大街",
    "东大街",
    "中山街",
    "解放路",
    "新民路",
    "崆峒大道",
    "宝塔梁路",
    "红旗街",
    "南门什字",
    "北门什字",
]
CASE_COLUMNS = [
    "id",
    "tracking_code",
    "status",
    "source",
    "category_code",
    "description",
    "address",
    "lat",
    "lon",
    "reported_lat",
    "reported_lon",
    "coord_system",
    "location_source",
    "grid_id",
    "grid_path",
    "unit_id",
    "routing_rule",
    "routing_assignment_id",
    "routing_cell_code",
    "priority",
    "reporter_id",
    "api_key_id",
    "client_id",
    "observed_at",
    "self_handled",
    "flags",
    "routed_unit_id",
    "time_limit",
    "time_unit",
    "limit_seconds",
    "used_seconds",
    "clock_started_at",
    "pending_extension_hours",
    "pending_hold",
    "return_count",
    "rework_count",
    "urge_count",
    "extension_count",
    "hold_count",
    "dispatched_at",
    "due_at",
    "yellow_at",
    "resolved_at",
    "resolved_on_time",
    "closed_at",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_reason",
]
EVENT_COLUMNS = [
    "case_id",
    "action",
    "actor_id",
    "actor_kind",
    "from_status",
    "to_status",
    "unit_id",
    "note",
    "reason",
    "data",
    "created_at",
]
ALERT_COLUMNS = ["case_id", "kind", "message", "created_at", "acknowledged_at"]
PRIORITIES = ("low", "normal", "high", "urgent")


class _Cut(Exception):
    """The case's next step lies in the future: it stays as it is now."""


class Simulator:
    """One case at a time: its history up to now (events) and the row it leaves (the case)."""

    def __init__(self, world: World, timeline: Timeline) -> None:
        self.w, self.tl, self.now = world, timeline, timeline.now
        self.unit_ids = sorted(world.units)
        # A dispatcher's override or a re-dispatch after a return goes mostly to the city bureau.
        self.other_weights = [5.0 if u == min(self.unit_ids) else 1.0 for u in self.unit_ids]
        self.street_names = [s[3] for s in world.streets]

    def chunk_draws(self, chunk: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([SEED, 2, chunk])
        return rng.random((CHUNK, 64)), rng.standard_normal((CHUNK, 48))

    def simulate(
        self, idx: int, uniforms: list[float], normals: list[float]
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...] | None]:
        w, now = self.w, self.now
        u, z = iter(uniforms).__next__, iter(normals).__next__
        cid = idx + 1
        t0 = float(self.tl.created[idx])
        ci, ki = int(self.tl.cell[idx]), int(self.tl.cat[idx])
        street = w.cell_street[ci]
        rule, assignment_id, routed_unit, routing_cell = w.routing[(ci, ki)]
        limit0, fac = w.cat_limit_s[ki], w.cat_factor[ki]
        veto = w.cat_veto[ki]
        home = w.worker_of_street.get(street)
        if home is not None and u() < 0.85:
            reporter = home
        else:
            reporter = w.workers[int(u() * len(w.workers))]

        def lognorm(median: float, sigma: float) -> float:
            return median * math.exp(sigma * z())

        def other_unit(not_: int | None) -> int:
            choices = [(x, wt) for x, wt in zip(self.unit_ids, self.other_weights, strict=True) if x != not_]
            r = u() * sum(wt for _, wt in choices)
            for x, wt in choices:
                r -= wt
                if r <= 0:
                    return x
            return choices[-1][0]

        c: dict[str, Any] = {  # the case as it stands
            "status": "reported",
            "unit_id": None,
            "limit_seconds": None,
            "used_seconds": 0.0,
            "clock": None,
            "due": None,
            "yellow": None,
            "dispatched_at": None,
            "resolved_at": None,
            "on_time": None,
            "closed_at": None,
            "pending_ext": None,
            "pending_hold": False,
            "returns": 0,
            "reworks": 0,
            "urges": 0,
            "extensions": 0,
            "holds": 0,
            "priority": w.cat_priority[ki],
            "version": 1,
            "updated": t0,
        }
        events: list[tuple[Any, ...]] = []
        alert = None

        def at(t: float) -> float:
            if t > now:
                raise _Cut
            return t

        def ev(
            t: float,
            action: str,
            to: str | None,
            actor: int | None,
            kind: str = "user",
            unit: int | None = None,
            reason: str | None = None,
            data: str = "{}",
            note: str | None = None,
            change: bool = True,
        ) -> None:
            # As the app writes them: an action that leaves the state records it as both from and to.
            frm = None if action in ("report", "veto_alert") else c["status"]
            to_status = None if action == "veto_alert" else (to or c["status"])
            events.append((cid, action, actor, kind, frm, to_status, unit, note, reason, data, pg_us(t)))
            if to is not None:
                c["status"] = to
            if change:
                c["version"] += 1
                c["updated"] = t

        def staff(unit: int | None) -> int:
            return w.staff_of_unit.get(unit or 0, w.dispatcher_id)

        # The deadline clock, as app.deadlines.clock (wall time = limit seconds x factor).
        def restart(t: float) -> None:
            c["clock"] = t
            rem = (c["limit_seconds"] or 0.0) - c["used_seconds"]
            c["due"] = t + max(rem, 0.0) * fac
            c["yellow"] = t + max(rem - 0.2 * (c["limit_seconds"] or 0.0), 0.0) * fac

        def start(t: float) -> None:
            c["limit_seconds"], c["used_seconds"], c["dispatched_at"] = limit0, 0.0, t
            restart(t)

        def stop(t: float) -> None:
            if c["clock"] is not None:
                c["used_seconds"] += (t - c["clock"]) / fac
            c["clock"] = c["due"] = c["yellow"] = None

        def dispatch(t: float, unit: int, actor: int | None) -> None:
            data = f'{{"unit_name":"{w.units[unit]}","routed":{"true" if unit == routed_unit else "false"}}}'
            ev(t, "dispatch", "dispatched", actor, "user" if actor else "system", unit=unit, data=data)
            c["unit_id"] = unit
            start(t)

        def resolve_and_verify(t: float, median_frac: float) -> float:
            neglected = u() < 0.0002
            duration = math.inf if neglected else lognorm(median_frac * limit0 * fac, 0.7)
            if c["due"] is not None and t + duration > c["due"] and u() < 0.5:
                urge_t = c["due"] + lognorm(2 * 3600, 1.0)
                if urge_t < t + duration:
                    at(urge_t)
                    c["urges"] += 1
                    c["priority"] = PRIORITIES[min(PRIORITIES.index(c["priority"]) + 1, 3)]
                    ev(urge_t, "urge", None, w.supervisor_id, unit=c["unit_id"], note="请加快处置")
            t = at(t + duration)
            c["resolved_at"], c["on_time"] = t, c["due"] is None or t <= c["due"]
            ev(t, "resolve", "resolved", staff(c["unit_id"]), unit=c["unit_id"])
            stop(t)
            return t

        self_handled = False
        try:
            ev(
                t0,
                "report",
                "reported",
                reporter,
                data='{"location_source":"client","coord_system":"wgs84","photos":1}',
                change=False,
            )
            if veto:
                alert_ack = t0 + lognorm(1800, 0.8)
                alert = [
                    cid,
                    "veto",
                    f"一票否决事项 {w.cat_code[ki]} {w.cat_name[ki]}",
                    pg_us(t0),
                    pg_us(alert_ack) if alert_ack < now else None,
                ]
                ev(
                    t0,
                    "veto_alert",
                    None,
                    None,
                    "system",
                    note="supervisors alerted (一票否决)",
                    change=False,
                )
            self_handled = not veto and u() < 0.04
            if self_handled:
                ev(t0, "self_handle", "resolved", reporter, note="自处理: fixed on the spot by the reporter")
                c["resolved_at"], c["on_time"] = t0, True
                t = at(t0 + lognorm(6 * 3600, 1.0))
                ev(t, "verify", "closed", w.dispatcher_id, unit=None)
                c["closed_at"] = t
                raise _Cut
            if u() < 0.05:  # rejected: a duplicate, outside the remit, not a problem
                t = at(t0 + lognorm(3600, 1.0))
                ev(
                    t,
                    "reject",
                    "rejected",
                    w.dispatcher_id,
                    reason=("重复上报", "不属于受理范围", "现场无此问题")[int(u() * 3)],
                )
                c["closed_at"] = t
                raise _Cut
            if routed_unit is not None and u() < 0.85:  # auto-dispatch at intake (app.reports.intake)
                ev(t0, "register", "registered", None, "system", note="auto: routing found a unit")
                dispatch(t0, routed_unit, None)
                t = t0
            else:
                t = at(t0 + lognorm(20 * 60, 1.0))
                ev(t, "register", "registered", w.dispatcher_id)
                t = at(t + lognorm(30 * 60, 1.0))
                dispatch(
                    t,
                    routed_unit if routed_unit is not None and u() < 0.9 else other_unit(None),
                    w.dispatcher_id,
                )
            p_return = 0.05
            while (
                c["returns"] < 3 and u() < p_return
            ):  # "not ours": back to the dispatchers, then to another unit
                t = at(t + lognorm(3 * 3600, 1.0))
                returned = c["unit_id"]
                ev(t, "return", "registered", staff(returned), unit=returned, reason="不属于本单位职责")
                c["returns"] += 1
                stop(t)
                c["unit_id"] = None
                c["pending_ext"], c["pending_hold"] = None, False
                t = at(t + lognorm(3600, 1.0))
                dispatch(t, other_unit(returned), w.dispatcher_id)
                p_return = 0.15
            t = at(t + lognorm(40 * 60, 1.0))
            ev(t, "accept", "in_progress", staff(c["unit_id"]), unit=c["unit_id"])
            if u() < 0.05:  # extension (延期)
                t = at(t + lognorm(0.3 * limit0 * fac, 0.5))
                hours = (24, 48, 72)[int(u() * 3)]
                ev(
                    t,
                    "request_extension",
                    None,
                    staff(c["unit_id"]),
                    unit=c["unit_id"],
                    reason="需协调多部门",
                    data=f'{{"hours":{hours}}}',
                )
                c["pending_ext"] = hours
                t = at(t + lognorm(2 * 3600, 1.0))
                approve = u() < 0.9
                ev(
                    t,
                    "decide_extension",
                    None,
                    w.dispatcher_id,
                    unit=c["unit_id"],
                    data=f'{{"hours":{hours},"approve":{"true" if approve else "false"}}}',
                )
                c["pending_ext"] = None
                if approve:
                    c["extensions"] += 1
                    c["limit_seconds"] += hours * 3600.0
                    if c["clock"] is not None:
                        banked = c["used_seconds"] + (t - c["clock"]) / fac
                        c["due"] = t + max(c["limit_seconds"] - banked, 0.0) * fac
                        c["yellow"] = (
                            t + max(0.8 * c["limit_seconds"] - banked, 0.0) * fac
                            if banked < 0.8 * c["limit_seconds"]
                            else t
                        )
            if u() < 0.08:  # hold (挂账): weeks, sometimes months
                t = at(t + lognorm(0.2 * limit0 * fac, 0.5))
                ev(t, "request_hold", None, staff(c["unit_id"]), unit=c["unit_id"], reason="需等待施工条件")
                c["pending_hold"] = True
                t = at(t + lognorm(3 * 3600, 1.0))
                approve = u() < 0.85
                c["pending_hold"] = False
                ev(
                    t,
                    "decide_hold",
                    "on_hold" if approve else None,
                    w.dispatcher_id,
                    unit=c["unit_id"],
                    data=f'{{"approve":{"true" if approve else "false"}}}',
                )
                if approve:
                    c["holds"] += 1
                    stop(t)
                    t = at(t + lognorm(30 * 86400, 1.0))
                    ev(t, "resume", "dispatched", w.dispatcher_id, unit=c["unit_id"])
                    restart(t)
                    t = at(t + lognorm(30 * 60, 1.0))
                    ev(t, "accept", "in_progress", staff(c["unit_id"]), unit=c["unit_id"])
            t = resolve_and_verify(t, 0.3)
            while True:
                t = at(t + lognorm(2 * 86400, 1.2))  # the grid worker checks on a patrol round
                checker = w.worker_of_street.get(street, w.supervisor_id)
                if c["reworks"] < 2 and u() < 0.03:  # the on-site check fails: rework (返工)
                    ev(t, "rework", "in_progress", checker, unit=c["unit_id"], reason="现场核查未整改到位")
                    c["reworks"] += 1
                    c["resolved_at"] = c["on_time"] = None
                    restart(t)
                    t = resolve_and_verify(t, 0.3)
                    continue
                ev(t, "verify", "closed", checker, unit=c["unit_id"])
                c["closed_at"] = t
                break
        except _Cut:
            pass

        deleted = u() < 0.0002
        deleted_at = min(t0 + lognorm(86400, 1.0), now - 1) if deleted else None
        if deleted_at is not None:
            c["updated"] = max(c["updated"], deleted_at)
        lon, lat = float(self.tl.lonlat[idx, 0]), float(self.tl.lonlat[idx, 1])
        local = dt.datetime.fromtimestamp(t0, TZ)
        code = (cid * 0x2F0A7B1D) % (
            32**6
        )  # an odd multiplier: a bijection on [0, 32^6), so codes are unique
        suffix = "".join(TRACKING_ALPHABET[(code >> (5 * k)) & 31] for k in range(6))
        p1 = PHRASES[self._phrase(u())][0]
        p2 = PHRASES[self._phrase(u())][0]
        addr = (
            f"平凉市崆峒区{ROADS[int(u() * len(ROADS))]}{1 + int(u() * 300)}号"
            if u() < 0.6
            else f"{self.street_names[street]}{w.cell_code[ci][-3:]}网格"
        )
        client_id = None
        if u() < 0.8:
            h = (cid * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128)
            s = f"{h:032x}"
            client_id = f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"
        observed = t0 - u() * 900 if u() < 0.7 else None
        row = (
            cid,
            f"{local:%Y%m%d}-{suffix}",
            c["status"],
            "app",
            w.cat_code[ki],
            f"{w.cat_name[ki]}，{p1}，{p2}。",
            addr,
            lat,
            lon,
            lat,
            lon,
            "wgs84",
            "client",
            w.cell_id[ci],
            w.cell_path[ci],
            c["unit_id"],
            rule,
            assignment_id,
            routing_cell,
            c["priority"],
            reporter,
            None,
            client_id,
            pg_us(observed),
            self_handled,
            "[]",
            routed_unit,
            w.cat_limit[ki],
            w.cat_unit[ki],
            c["limit_seconds"],
            c["used_seconds"],
            pg_us(c["clock"]),
            c["pending_ext"],
            c["pending_hold"],
            c["returns"],
            c["reworks"],
            c["urges"],
            c["extensions"],
            c["holds"],
            pg_us(c["dispatched_at"]),
            pg_us(c["due"]),
            pg_us(c["yellow"]),
            pg_us(c["resolved_at"]),
            c["on_time"],
            pg_us(c["closed_at"]),
            c["version"],
            pg_us(t0),
            pg_us(c["updated"]),
            pg_us(deleted_at),
            "重复上报，管理员删除" if deleted else None,
        )
        return row, events, tuple(alert) if alert else None

    _cum = np.cumsum([wt for _, wt in PHRASES]) / sum(wt for _, wt in PHRASES)

    def _phrase(self, r: float) -> int:
        return int(np.searchsorted(self._cum, r))


async def load_cases(dsn: str, sim: Simulator, indices: np.ndarray, label: str) -> dict[str, float]:
    """COPY the cases at ``indices`` (sorted positions in the timeline) with their events and alerts."""
    conn = await asyncpg.connect(dsn)
    # Timestamps go to COPY as microseconds since 2000-01-01 (no datetime objects: 5x faster to build).
    await conn.set_type_codec(
        "timestamptz", schema="pg_catalog", encoder=lambda us: (us,), decoder=lambda v: v[0], format="tuple"
    )
    # Foreign keys are valid by construction (ids read from the database); skip their per-row triggers.
    await conn.execute("SET session_replication_role = replica")
    t_start = time.perf_counter()
    gen_s = copy_s = 0.0
    n_cases = n_events = n_alerts = 0
    chunks = indices // CHUNK
    try:
        for chunk in np.unique(chunks):
            t0 = time.perf_counter()
            mine = indices[chunks == chunk]
            U, Z = sim.chunk_draws(int(chunk))
            rows_u = U[mine - chunk * CHUNK].tolist()
            rows_z = Z[mine - chunk * CHUNK].tolist()
            cases, events, alerts = [], [], []
            for idx, ru, rz in zip(mine.tolist(), rows_u, rows_z, strict=True):
                row, evs, alert = sim.simulate(idx, ru, rz)
                cases.append(row)
                events.extend(evs)
                if alert:
                    alerts.append(alert)
            t1 = time.perf_counter()
            async with conn.transaction():
                await conn.copy_records_to_table("cases", records=cases, columns=CASE_COLUMNS)
                await conn.copy_records_to_table("case_events", records=events, columns=EVENT_COLUMNS)
                if alerts:
                    await conn.copy_records_to_table("alerts", records=alerts, columns=ALERT_COLUMNS)
            t2 = time.perf_counter()
            gen_s += t1 - t0
            copy_s += t2 - t1
            n_cases, n_events, n_alerts = n_cases + len(cases), n_events + len(events), n_alerts + len(alerts)
            if len(indices) > 100_000 and (chunk % 8 == 7 or chunk == chunks[-1]):
                el = time.perf_counter() - t_start
                log(
                    f"  {label}: {n_cases:,}/{len(indices):,} cases, {n_events:,} events, {el:.0f} s "
                    f"({n_cases / el:,.0f} cases/s; simulate {gen_s:.0f} s, COPY {copy_s:.0f} s)"
                )
        t3 = time.perf_counter()
        await conn.execute("RESET session_replication_role")
        for table in ("cases", "case_events", "alerts"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        await conn.execute("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
        await conn.execute("SELECT setval('case_events_id_seq', (SELECT max(id) FROM case_events))")
        await conn.execute("SELECT setval('alerts_id_seq', greatest((SELECT max(id) FROM alerts), 1))")
        vacuum_s = time.perf_counter() - t3
        orphans = await conn.fetchval(
            "SELECT (SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM grid_cells g WHERE g.id = c.grid_id))"
            " + (SELECT count(*) FROM cases c WHERE c.unit_id IS NOT NULL AND NOT EXISTS "
            "    (SELECT 1 FROM units u WHERE u.id = c.unit_id))"
            " + (SELECT count(*) FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id))"
        )
        if orphans:
            raise SystemExit(f"{orphans} rows break a foreign key: the generator is wrong")
    finally:
        await conn.close()
    total = time.perf_counter() - t_start
    log(
        f"{label}: {n_cases:,} cases, {n_events:,} events, {n_alerts:,} alerts in {total:.1f} s "
        f"({n_cases / total:,.0f} cases/s, {(n_cases + n_events) / total:,.0f} rows/s): simulate {gen_s:.1f} s, "
        f"COPY {copy_s:.1f} s, VACUUM ANALYZE + checks {vacuum_s:.1f} s"
    )
    return {
        "cases": n_cases,
        "events": n_events,
        "seconds": total,
        "simulate": gen_s,
        "copy": copy_s,
        "vacuum": vacuum_s,
    }


async def describe_data(dsn: str, now: float) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        total = await conn.fetchval("SELECT count(*) FROM cases")
        states = dict(await conn.fetch("SELECT status, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC"))
        recent = await conn.fetchval(
            "SELECT count(*) FROM cases WHERE status NOT IN ('closed', 'rejected') "
            "AND created_at > now() - interval '28 days'"
        )
        running = await conn.fetchrow(
            "SELECT count(*) AS n, count(*) FILTER (WHERE due_at < now()) AS red "
            "FROM cases WHERE clock_started_at IS NOT NULL"
        )
        q_hits = await conn.fetchval("SELECT count(*) FROM cases WHERE description LIKE $1", f"%{Q_WORD}%")
        sizes = await conn.fetchrow(
            "SELECT pg_size_pretty(pg_total_relation_size('cases')) AS cases, "
            "pg_size_pretty(pg_total_relation_size('case_events')) AS events"
        )
        counters = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE return_count > 0) AS ret, "
            "count(*) FILTER (WHERE rework_count > 0) AS rew, "
            "count(*) FILTER (WHERE extension_count > 0) AS ext, "
            "count(*) FILTER (WHERE hold_count > 0) AS hold, "
            "count(*) FILTER (WHERE urge_count > 0) AS urge, "
            "count(*) FILTER (WHERE self_handled) AS self, "
            "count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM cases"
        )
    finally:
        await conn.close()
    open_n = sum(v for k, v in states.items() if k not in ("closed", "rejected"))
    share = ", ".join(f"{k} {v / total:.2%}" for k, v in states.items())
    log(f"data: {total:,} cases ({sizes['cases']}), events {sizes['events']}; {share}")
    log(
        f"  open {open_n:,}, of which {recent:,} ({recent / max(open_n, 1):.0%}) filed in the last 28 days; "
        f"clock running {running['n']:,}, overdue {running['red']:,} ({running['red'] / max(running['n'], 1):.0%}); "
        f"q={Q_WORD!r} in {q_hits:,} ({q_hits / total:.2%}); returned {counters['ret']:,}, reworked "
        f"{counters['rew']:,}, extended {counters['ext']:,}, held {counters['hold']:,}, urged {counters['urge']:,}, "
        f"self-handled {counters['self']:,}, deleted {counters['deleted']:,}"
    )
    return {"total": total, "states": states}
