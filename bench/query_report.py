"""The query bench's report: what a row measures (Scenario) and what it measured (Result), the
verdicts against the spec's targets, the table of 10k vs 1M, and for each miss the app's slowest
statement with EXPLAIN (ANALYZE, BUFFERS), custom and, when the app had switched to it, generic plan.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from support import asyncpg_dsn

PAGE_TARGET_MS, RATIO_TARGET, ASSESSMENT_TARGET_MS = 25.0, 1.5, 1000.0


@dataclass
class Scenario:
    name: str
    path: str
    params: list[tuple[str, str]]
    user: str = "supervisor"
    kind: str = "page"  # page (list), assessment, overview

    def pages(self) -> list[str]:
        return ["first", "deep"] if self.kind == "page" else ["-"]


@dataclass
class Result:
    samples: list[float]
    rows: int | None
    db_ms: float  # median time inside cursor.execute per request
    statements: list[
        tuple[float, str, tuple[Any, ...]]
    ]  # (median ms, sql, last params) per statement, slowest first
    plan_modes: dict[str, tuple[int, int]] = field(default_factory=dict)  # sql -> (generic, custom) plans

    def q(self, p: int) -> float:
        s = sorted(self.samples)
        if len(s) == 1:
            return s[0]
        return statistics.quantiles(s, n=100, method="inclusive")[p - 1]


def verdict(sc: Scenario, small: Result | None, big: Result) -> list[str]:
    misses = []
    if sc.kind == "page":
        if big.q(95) > PAGE_TARGET_MS:
            misses.append(f"p95>{PAGE_TARGET_MS:.0f}ms")
        if small is not None and big.q(95) / small.q(95) > RATIO_TARGET:
            misses.append(f"ratio>{RATIO_TARGET}")
    elif sc.kind == "assessment" and big.q(95) > ASSESSMENT_TARGET_MS:
        misses.append(f"p95>{ASSESSMENT_TARGET_MS / 1000:.0f}s")
    return misses


def print_table(
    scs: list[Scenario],
    small: dict[tuple[str, str], Result] | None,
    big: dict[tuple[str, str], Result],
    n_small: int,
    n_big: int,
) -> list[tuple[Scenario, str, list[str]]]:
    a, b = (
        f"{n_small // 1000}k" if small else "-",
        f"{n_big / 1e6:g}M" if n_big >= 1e6 else f"{n_big // 1000}k",
    )
    head = (
        f"{'endpoint / filter':38} {'page':5} {'p50 ' + a:>9} {'p95 ' + a:>9} {'p50 ' + b:>9} {'p95 ' + b:>9} "
        f"{'db50 ' + b:>9} {'r50':>5} {'r95':>5} {'rdb':>5} {'rows':>7}  verdict"
    )
    print("\n" + head + "\n" + "-" * len(head))
    misses = []
    for sc in scs:
        for page in sc.pages():
            s = small.get((sc.name, page)) if small else None
            g = big[(sc.name, page)]
            bad = verdict(sc, s, g)
            if bad:
                misses.append((sc, page, bad))
            target = {"page": "", "assessment": "", "overview": "(no target)"}[sc.kind]
            r50 = f"{g.q(50) / s.q(50):5.1f}" if s else "    -"
            r95 = f"{g.q(95) / s.q(95):5.1f}" if s else "    -"
            rdb = f"{g.db_ms / s.db_ms:5.1f}" if s else "    -"
            s50, s95 = (f"{s.q(50):9.1f}", f"{s.q(95):9.1f}") if s else (f"{'-':>9}", f"{'-':>9}")
            label = f"{'list ' if sc.kind == 'page' else ''}{sc.name}"
            rows = (
                f"{s.rows}/{g.rows}"
                if s and g.rows is not None
                else (str(g.rows) if g.rows is not None else "-")
            )
            print(
                f"{label[:38]:38} {page:5} {s50} {s95} {g.q(50):9.1f} {g.q(95):9.1f} {g.db_ms:9.1f} {r50} {r95} {rdb} "
                f"{rows:>7}  {'MISS ' + ', '.join(bad) if bad else 'ok'} {target}"
            )
    print(
        f"(ms; p50/p95 of the whole request in-process; db50 = median time inside the driver per request at {b}; "
        f"r = {b}/{a} of p50, p95 and db50; rows = items on the page at {a}/{b}; targets: page p95 <= "
        f"{PAGE_TARGET_MS:.0f} ms and ratio "
        f"<= {RATIO_TARGET}, assessment p95 <= {ASSESSMENT_TARGET_MS / 1000:.0f} s)"
    )
    return misses


def literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return f"({v!r})"
    if isinstance(v, dt.datetime):
        return f"'{v.isoformat()}'"
    if isinstance(v, (list, tuple)):
        return "ARRAY[" + ", ".join(literal(x) for x in v) + "]"
    return "'" + str(v).replace("'", "''") + "'"


def inline(sql: str, params: tuple[Any, ...]) -> str:
    return re.sub(r"\$(\d+)", lambda m: literal(params[int(m.group(1)) - 1]), sql)


async def explain_misses(
    url: str,
    misses: list[tuple[Scenario, str, list[str]]],
    small: dict[tuple[str, str], Result] | None,
    big: dict[tuple[str, str], Result],
) -> None:
    if not misses:
        print("\nEvery row meets its target at the large size.")
        return
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for sc, page, bad in misses:
            res = big[(sc.name, page)]
            print(
                f"\n=== MISS: {sc.name} ({page} page): {', '.join(bad)}; p95 {res.q(95):.1f} ms, "
                f"db p50 {res.db_ms:.1f} ms"
            )
            before = small.get((sc.name, page)) if small else None
            if (
                bad == [f"ratio>{RATIO_TARGET}"]
                and before is not None
                and res.db_ms <= RATIO_TARGET * before.db_ms
            ):
                print(
                    f"note: the database time per request did not grow ({before.db_ms:.1f} -> {res.db_ms:.1f} ms); "
                    "the latency ratio is the variance of the in-process request (Python, 2 cores shared with "
                    "PostgreSQL), not the query"
                )
            print(
                "statements per request (median ms): " + "; ".join(f"{ms:.1f}" for ms, _, _ in res.statements)
            )
            ms, sql, params = res.statements[0]
            generic, custom = res.plan_modes.get(sql, (0, 0))
            print(
                f"slowest statement ({ms:.1f} ms median; the app's prepared statement ran {generic} generic / "
                f"{custom} custom plans):\n{inline(sql, params)}"
            )
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + inline(sql, params))
            print("-- custom plan (the parameters' values known to the planner):")
            print("\n".join(r[0] for r in rows))
            if generic:
                await conn.execute("PREPARE bench_q AS " + sql)
                await conn.execute("SET plan_cache_mode = force_generic_plan")
                args = ", ".join(literal(p) for p in params)
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_q({args})")
                await conn.execute("RESET plan_cache_mode")
                await conn.execute("DEALLOCATE bench_q")
                print("-- generic plan (what the app's prepared statement runs after 5 executions):")
                print("\n".join(r[0] for r in rows))
    finally:
        await conn.close()
