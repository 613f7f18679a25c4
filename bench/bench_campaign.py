"""A year of campaign data on PostgreSQL (issue 18): scores by each grouping and a board timed against a
baseline measured in the same run, and a round's CSV export checked for constant memory.

Run: python bench/bench_campaign.py [--fresh] [--requests 200] [--concurrency 4] [--cap 90]
                                    [--points 2000] [--rounds 12] [--database gi_bench_campaign]
                                    [--base-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
                                    [--replay-published] [--no-export]

1. Data (bench/campaign_data.py says what and how): the database ``--database`` on ``--base-url``'s server
   is kept between runs. When its comment says it holds this generation (points, rounds, seed) the data is
   reused; otherwise, or with ``--fresh``, it is dropped, created, migrated, loaded with the demo and
   generated (5 to 8 minutes a monthly round for 2,000 points on a shared two-core machine: about an hour),
   and the time it took is printed. An interrupted generation (marker ending in "incomplete") is resumed
   by the next run: points and published rounds are kept, a round left open is finished. Photos (the one after photo) go to ``$TMPDIR/gi_bench_campaign_storage``. Reused data is
   migrated first (tables merged since); ``--replay-published`` hands ``RoundPublished`` of every published
   round to the app's handlers again, for data made before the boards' or notices' code was merged.
2. Timing: ``grid-inspector serve`` (one process, every rate limit off) on that database; as the
   supervisor, ``--requests`` requests per endpoint (fewer when they take over ``--cap`` seconds, 90 by
   default: the table gives how many), ``--concurrency`` at a time after 5 warm-up requests:
   ``GET /api/v1/me`` (the baseline: authentication and one user row through the same stack), then
   ``GET /api/v1/campaign/scores?round=R&group_by=X`` for X in point, point_type, grid, unit and
   ``GET /api/v1/campaign/boards?round=R&kind=unit`` for R the latest published monthly round (2,000 visits),
   the baseline again after them; the table gives p50/p95/max in ms, p95 as a ratio to the baseline's
   p95 (the mean of its two runs) and PASS/FAIL against issue 18's 200 ms p95. A route answering 404 is
   "not available" (its branch is not merged yet); another non-200 answer is printed as a failure.
3. Export: ``GET /api/v1/campaign/export?round=R&format=csv`` of the recheck round (a tenth of the points)
   and of the monthly round R, streamed in 64 KiB chunks while the server's RSS (its process and children,
   /proc) is sampled every 10 ms; after one warm-up download of the small round, each download's peak RSS
   growth over the RSS just before it. Constant memory: the full round (about ten times the rows) grows no
   more than the small one plus 16 MiB. Rows, bytes, seconds, MiB/s and growth are printed.

Exit 0 whatever the figures (a measurement); 1 when the data or the server could not be made.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from support import (
    ROOT,
    Service,
    asyncpg_dsn,
    cli,
    log,
    log_errors,
    pg_admin,
    server_settings,
    service_env,
)

DEFAULT_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SUPERVISOR = ("supervisor", "demo-supervisor-2026")
TARGET_P95_MS = 200.0
GROUPINGS = ("point", "point_type", "grid", "unit")
GENERATION = 1  # bump when bench/campaign_data.py makes different data: the marker then asks for a rebuild
SLACK_MIB = 16.0
INCOMPLETE = "incomplete"  # the marker's suffix while generating: a later run resumes instead of rebuilding


# ------------------------------------------------------------------------------------------------ data


def marker(args: argparse.Namespace) -> str:
    return (
        f"bench_campaign generation={GENERATION} points={args.points} rounds={args.rounds} seed={args.seed}"
    )


async def _comment(base_url: str, name: str) -> str | None:
    conn = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        return await conn.fetchval(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1",
            name,
        )
    finally:
        await conn.close()


async def _generate(url: str, args: argparse.Namespace) -> str:
    from campaign_data import Generator, counts

    from app.core.config import get_settings
    from app.core.db import Database, create_engine
    from app.main import create_app

    settings = get_settings()
    engine = create_engine(url)
    try:
        db = Database(engine)
        bus = create_app(settings, database=db).state.bus  # the handlers a request's events reach
        stats = await Generator(db, settings, bus, args.points, args.rounds, args.seed).run()
        async with db.sessionmaker() as session:
            found = await counts(session)
    finally:
        await engine.dispose()
    return f"{stats.line()}\n  database: {found}"


async def _counts(url: str) -> dict[str, int]:
    from campaign_data import counts

    from app.core.db import Database, create_engine

    engine = create_engine(url)
    try:
        async with Database(engine).sessionmaker() as session:
            return await counts(session)
    finally:
        await engine.dispose()


async def _replay_published(url: str) -> list[int]:
    """Hand ``RoundPublished`` of every published round to the app's handlers again, one transaction each:
    for data generated before the code that handles it (boards, notices) was merged."""
    from sqlalchemy import select

    from app.campaign.events import RoundPublished
    from app.campaign.models import Round
    from app.core.config import get_settings
    from app.core.db import Database, create_engine
    from app.main import create_app

    engine = create_engine(url)
    try:
        db = Database(engine)
        bus = create_app(get_settings(), database=db).state.bus
        async with db.write_sessionmaker() as session:
            rounds = (
                await session.execute(
                    select(Round.id, Round.published_at).where(Round.status == "published").order_by(Round.id)
                )
            ).all()
        for round_id, published_at in rounds:
            async with db.write_sessionmaker() as session:
                await bus.publish(session, [RoundPublished(round_id=round_id, published_at=published_at)])
                await session.commit()
    finally:
        await engine.dispose()
    return [r for r, _ in rounds]


def ensure_data(args: argparse.Namespace, url: str, env: dict[str, str]) -> None:
    """Reuse the database when its comment is this generation's marker; else build it (module docstring)."""
    want = marker(args)
    found = asyncio.run(_comment(args.base_url, args.database))
    if found == want and not args.fresh:
        cli(env, ROOT, "migrate")  # tables merged since the data was made (e.g. the boards') exist then too
        log(f"reusing database {args.database} ({want}): {asyncio.run(_counts(url))}")
        if args.replay_published:
            os.environ.update(env)
            log(
                f"RoundPublished handed to the handlers again for rounds {asyncio.run(_replay_published(url))}"
            )
        return
    t0 = time.perf_counter()
    if found == f"{want} {INCOMPLETE}" and not args.fresh:
        log(f"resuming the interrupted generation in {args.database}")
        cli(env, ROOT, "migrate")
    else:
        why = (
            "--fresh"
            if args.fresh
            else ("no database" if found is None else f"marker {found or 'missing'!r}")
        )
        log(f"building database {args.database} ({why}); this takes a while")
        asyncio.run(pg_admin(args.base_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        asyncio.run(pg_admin(args.base_url, f'CREATE DATABASE "{args.database}"'))
        asyncio.run(
            pg_admin(args.base_url, f"COMMENT ON DATABASE \"{args.database}\" IS '{want} {INCOMPLETE}'")
        )
        cli(env, ROOT, "migrate")
        cli(env, ROOT, "demo", "--no-history")
        log(f"migrated and loaded the demo in {time.perf_counter() - t0:.1f} s; generating")
    os.environ.update(env)  # the in-process generator reads the same settings as the server
    summary = asyncio.run(_generate(url, args))
    asyncio.run(pg_admin(args.base_url, f"COMMENT ON DATABASE \"{args.database}\" IS '{want}'"))
    asyncio.run(pg_admin(url, "VACUUM ANALYZE"))
    log(f"generated in {time.perf_counter() - t0:.1f} s: {summary}")


# ---------------------------------------------------------------------------------------------- timing


@dataclass
class Timed:
    label: str
    path: str
    latencies: list[float] = field(default_factory=list)  # ms
    status: int | None = None  # the first non-200 answer, if any
    detail: str = ""

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _drive(
    url: str, headers: dict[str, str], ep: Timed, requests: int, concurrency: int, cap_s: float
) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        first = await client.get(ep.path)
        if first.status_code != 200:
            ep.status, ep.detail = first.status_code, first.text[:300]
            return
        for _ in range(4):
            await client.get(ep.path)
        queue = list(range(requests))
        start = time.perf_counter()

        async def worker() -> None:
            while queue and time.perf_counter() - start < cap_s:
                queue.pop()
                t0 = time.perf_counter()
                r = await client.get(ep.path)
                ep.latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200 and ep.status is None:
                    ep.status, ep.detail = r.status_code, r.text[:300]

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def token(url: str) -> dict[str, str]:
    r = httpx.post(
        f"{url}/api/v1/auth/token",
        data=dict(zip(("username", "password"), SUPERVISOR, strict=True)),
        timeout=30,
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def rounds_of(url: str, headers: dict[str, str]) -> tuple[int, int | None, str]:
    """(the latest published monthly round, the published recheck round or None, its title)."""
    r = httpx.get(f"{url}/api/v1/campaign/rounds?status=published&limit=100", headers=headers, timeout=30)
    r.raise_for_status()
    items = r.json()["items"]
    monthly = next(i for i in items if i["kind"] == "patrol")
    recheck = next((i["id"] for i in items if i["kind"] == "recheck"), None)
    return monthly["id"], recheck, monthly["title"]


def timing(url: str, headers: dict[str, str], round_id: int, args: argparse.Namespace) -> list[Timed]:
    base = [Timed("GET /api/v1/me (baseline)", "/api/v1/me")]
    eps = [
        Timed(f"scores group_by={g}", f"/api/v1/campaign/scores?round={round_id}&group_by={g}")
        for g in GROUPINGS
    ]
    eps.append(Timed("boards kind=unit", f"/api/v1/campaign/boards?round={round_id}&kind=unit"))
    after = Timed("GET /api/v1/me (baseline, again)", "/api/v1/me")
    for ep in [*base, *eps, after]:
        asyncio.run(_drive(url, headers, ep, args.requests, args.concurrency, args.cap))
        if ep.latencies:
            log(f"  {ep.label:<34} p50 {ep.pct(0.5):7.1f} ms  p95 {ep.pct(0.95):7.1f} ms")
        else:
            log(f"  {ep.label:<34} HTTP {ep.status}")
    return [*base, *eps, after]


def print_timing(timed: list[Timed], args: argparse.Namespace, round_title: str) -> None:
    baseline = [t for t in timed if "baseline" in t.label and t.latencies]
    ref = statistics.mean(t.pct(0.95) for t in baseline) if baseline else None
    print(
        f"\n== {round_title}: {args.requests} requests each, {args.concurrency} concurrent, one server process "
        f"(target p95 <= {TARGET_P95_MS:.0f} ms; ratio = p95 / baseline p95)"
    )
    print(f"{'endpoint':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'ratio':>7}  verdict")
    for t in timed:
        if not t.latencies:
            what = "not available (404)" if t.status == 404 else f"FAILED: HTTP {t.status} {t.detail[:120]}"
            print(f"{t.label:<34} {0:>5} {'-':>8} {'-':>8} {'-':>8} {'-':>7}  {what}")
            continue
        p95 = t.pct(0.95)
        ratio = f"{p95 / ref:6.1f}x" if ref else "-"
        if "baseline" in t.label:
            verdict = ""
        elif t.status is not None:
            verdict = f"FAILED: HTTP {t.status} on some requests"
        else:
            verdict = "PASS" if p95 <= TARGET_P95_MS else "FAIL"
        print(
            f"{t.label:<34} {len(t.latencies):>5} {t.pct(0.5):8.1f} {p95:8.1f} {max(t.latencies):8.1f} {ratio:>7}  {verdict}"
        )


# ---------------------------------------------------------------------------------------------- export


def rss_tree_kb(pid: int) -> int:
    """VmRSS of ``pid`` and its children (uvicorn's workers), from /proc."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if status.parent.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


@dataclass
class Download:
    label: str
    status: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    before_kb: int = 0
    peak_kb: int = 0
    first_line: str = ""

    @property
    def growth_mib(self) -> float:
        return (self.peak_kb - self.before_kb) / 1024


def download(url: str, headers: dict[str, str], pid: int, label: str, round_id: int) -> Download:
    out = Download(label)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            out.peak_kb = max(out.peak_kb, rss_tree_kb(pid))
            stop.wait(0.01)

    time.sleep(0.5)
    out.before_kb = out.peak_kb = rss_tree_kb(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    newlines, tail = 0, b""
    try:
        with httpx.stream(
            "GET", f"{url}/api/v1/campaign/export?round={round_id}&format=csv", headers=headers, timeout=600
        ) as r:
            out.status = r.status_code
            for chunk in r.iter_bytes(65536):
                if not out.bytes:
                    out.first_line = chunk.split(b"\n", 1)[0].decode("utf-8", "replace")[:200]
                out.bytes += len(chunk)
                newlines += chunk.count(b"\n")
                tail = chunk[-1:]
    finally:
        out.seconds = time.perf_counter() - t0
        time.sleep(0.1)
        stop.set()
        sampler.join()
    lines = newlines + (1 if tail and tail != b"\n" else 0)
    out.rows = max(lines - 1, 0)  # the header line; a cell with a line break would count twice (none here)
    return out


def export(url: str, headers: dict[str, str], pid: int, full: int, small: int | None) -> list[Download]:
    if small is None:
        log("no published recheck round: the export is compared with nothing")
    first = download(url, headers, pid, "warm-up (small round)", small or full)
    if first.status == 404:
        return [first]
    runs = [download(url, headers, pid, "small round (recheck)", small)] if small else []
    runs.append(download(url, headers, pid, "full round (monthly)", full))
    return runs


def print_export(runs: list[Download]) -> None:
    print("\n== CSV export, streamed: server RSS growth during the download (peak minus just before)")
    if runs[0].status == 404:
        print("GET /api/v1/campaign/export: not available (404)")
        return
    print(
        f"{'download':<24} {'HTTP':>4} {'rows':>8} {'MiB':>7} {'s':>6} {'MiB/s':>6} {'RSS before':>10} {'growth':>8}"
    )
    for d in runs:
        print(
            f"{d.label:<24} {d.status:>4} {d.rows:>8} {d.bytes / 2**20:7.2f} {d.seconds:6.2f} "
            f"{d.bytes / 2**20 / max(d.seconds, 1e-9):6.1f} {d.before_kb / 1024:8.1f}Mi {d.growth_mib:6.1f}Mi"
        )
    if len(runs) == 2 and all(d.status == 200 for d in runs):
        small, full = runs
        verdict = "PASS" if full.growth_mib <= small.growth_mib + SLACK_MIB else "FAIL"
        print(
            f"rows x{full.rows / max(small.rows, 1):.1f}, RSS growth {small.growth_mib:.1f} -> "
            f"{full.growth_mib:.1f} MiB: {verdict} (constant memory: full <= small + {SLACK_MIB:.0f} MiB)"
        )
        print(f"header: {full.first_line}")


# ------------------------------------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fresh", action="store_true", help="rebuild the data even when the database has it")
    ap.add_argument("--requests", type=int, default=200, help="measured requests per endpoint")
    ap.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    ap.add_argument(
        "--cap", type=float, default=90.0, help="seconds per endpoint at most (fewer requests if slower)"
    )
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=12, help="monthly rounds, the current month's last")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--database", default="gi_bench_campaign", help="kept between runs")
    ap.add_argument("--base-url", default=DEFAULT_BASE, help="PostgreSQL server (its database only for DDL)")
    ap.add_argument(
        "--replay-published",
        action="store_true",
        help="reusing the data: hand RoundPublished of each published round to the handlers again (boards "
        "and notices of code merged after the data was generated)",
    )
    ap.add_argument("--no-export", action="store_true", help="skip the export part")
    args = ap.parse_args()
    if args.rounds < 2:
        ap.error("--rounds must be at least 2 (one published, the current one open)")
    url = make_url(args.base_url).set(database=args.database).render_as_string(hide_password=False)
    storage = Path(tempfile.gettempdir()) / "gi_bench_campaign_storage"
    env = service_env(url, storage, rate_limit=0)
    try:
        ensure_data(args, url, env)
    except Exception as exc:  # whatever stopped it, the data is unusable: say so, exit 1
        print(f"\nFAILED making the data: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(asyncio.run(server_settings(asyncpg_dsn(url))))
    work = Path(tempfile.mkdtemp(prefix="gi-campaign-"))
    server = Service(env, ROOT, work / "serve.log")
    server.start()
    try:
        headers = token(server.url)
        full, small, title = rounds_of(server.url, headers)
        log(f"round {full} ({title}); recheck round {small}; timing {args.requests} requests per endpoint")
        timed = timing(server.url, headers, full, args)
        runs = [] if args.no_export else export(server.url, headers, server.proc.pid, full, small)  # type: ignore[union-attr]
    finally:
        server.stop()
    print_timing(timed, args, title)
    if runs:
        print_export(runs)
    errors = log_errors(work / "serve.log")
    if errors:
        print("\nserver ERROR log lines:", *errors[:10], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
