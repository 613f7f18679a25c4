"""The read path against the bare stack (issue 13): requests/s of the product's read endpoints as a ratio to a
bare FastAPI + async SQLAlchemy primary-key read on the same database, measured in the same run.

Run: python bench/bench_read.py [--database sqlite|postgresql|both] [--seconds 10] [--warmup 2]
                                [--reports 200] [--base-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
                                [--show-sql]
Needs wrk (``apt-get install -y wrk``). Default: SQLite, then PostgreSQL, about 2.5 minutes each.

For each database (SQLite: a file in a temporary directory; PostgreSQL: a scratch database ``gi_read_*``
created on ``--base-url``'s server and dropped at the end, whatever happens; that URL's own database is
only used to issue CREATE and DROP DATABASE):
1. ``grid-inspector migrate`` and ``demo``; then two servers, one uvicorn process each, on 127.0.0.1: the
   product (``grid-inspector serve``, every rate limit off) and the bare app (bench/bare_app.py: the
   product's engine factory, one ``session.get()`` of a ``cases`` row by primary key, a small dict back).
2. Seeds through the product's HTTP API as the demo worker2 (中街街道): ``--reports`` reports at points
   inside the cell at lat 35.5428 lon 106.6652, every 40th with a real photo from tests/data/photos, so a
   list page of 50 is full and cases are dispatched. Any answer but 201 stops the bench.
3. Checks each endpoint answers 200 (the list page 50 items), then drives it with
   ``wrk -t2 -c32 -d{seconds}s --latency`` after a ``--warmup`` second run: ``GET /api/v1/reports/{id}``
   (a dispatched case with a photo, filed by worker2), ``GET /api/v1/me``, ``GET /api/v1/reports?limit=50``
   as worker2 (bearer token from ``POST /api/v1/auth/token``) and ``/healthz``, with the bare PK read
   before the first and after each, so every ratio is to the bare runs just around it (the machine is
   shared: a ratio whose two bare runs differ by more than 15 % is starred). A non-2xx answer or a socket
   error in any wrk run (warm-up included) stops the bench with wrk's report and the server's ERROR log
   lines: exit 1.
4. Counts SQL statements (BEGIN excluded) and pool checkouts per request of each endpoint with an
   in-process client (httpx ASGITransport) and SQLAlchemy cursor and pool events, warm (the third call).
5. Prints per database: endpoint, req/s, p50/p99 latency, ratio to the bare read (the mean of the runs around)
   next to the targets of issue 13 (``GET /reports/{id}`` >= 0.6x, ``GET /me`` >= 0.8x, a list page of 50
   >= 0.3x), ``MISSED`` where one is missed. Missing a target still exits 0: this is a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bare_app import create as create_bare
from fleet import CATEGORIES, cell_points, photo_library
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from support import (
    BENCH_SECRET,
    ROOT,
    Service,
    WrkRun,
    drop_scratch,
    log,
    log_errors,
    prepare_database,
    scratch_database,
    service_env,
    wrk,
)

from app.core.config import AuthSettings, DatabaseSettings, RateLimitSettings, Settings
from app.core.db import Database, create_engine
from app.demo.builder import DEMO_LOGINS
from app.main import create_app

DEFAULT_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# The demo's worker2 (app/demo/builder.py), who patrols 中街街道 around the centre cell the reports go to.
WORKER = next((d.username, d.password) for d in DEMO_LOGINS if d.username == "worker2")
PHOTO_EVERY = 40
NOISY = 0.15  # the bare runs around an endpoint differing by more than this flag its ratio
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class BenchFailure(Exception):
    """An unexpected answer: the figures would be wrong, so the bench stops (exit 1)."""


@dataclass
class Endpoint:
    label: str
    server: str  # "bare" or "product"
    path: str
    auth: bool = False
    target: float | None = None  # requests/s as a ratio to the bare read, issue 13
    runs: list[WrkRun] = field(default_factory=list)  # measured runs (warm-ups are only checked)
    around: list[float] = field(default_factory=list)  # the bare read's req/s just before and just after
    statements: int | None = None
    checkouts: int | None = None
    sql: list[str] = field(default_factory=list)


@dataclass
class Seeded:
    headers: dict[str, str]
    case_id: int
    statuses: Counter[str]
    photos: int


def endpoints(case_id: int) -> list[Endpoint]:
    bare = f"/cases/{case_id}"
    return [
        Endpoint("bare PK session.get()", "bare", bare),
        Endpoint("GET /api/v1/reports/{id}", "product", f"/api/v1/reports/{case_id}", True, 0.6),
        Endpoint("GET /api/v1/me", "product", "/api/v1/me", True, 0.8),
        Endpoint("GET /api/v1/reports?limit=50", "product", "/api/v1/reports?limit=50", True, 0.3),
        Endpoint("/healthz", "product", "/healthz"),
    ]


# ------------------------------------------------------------------------------------------- seeding


def expect(r: httpx.Response, status: int, what: str) -> httpx.Response:
    if r.status_code != status:
        raise BenchFailure(f"{what}: HTTP {r.status_code} (expected {status}): {r.text[:600]}")
    return r


def seed(url: str, reports: int) -> Seeded:
    """worker2 files ``reports`` reports (every ``PHOTO_EVERY``th with one real photo); the token and the
    case to read: the last one filed with a photo, preferably dispatched."""
    rng = random.Random(13)
    library = photo_library()
    statuses: Counter[str] = Counter()
    with_photo: list[tuple[int, str]] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        r = expect(
            client.post("/api/v1/auth/token", data=dict(zip(("username", "password"), WORKER, strict=True))),
            200,
            "login as worker2",
        )
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        points, _ = asyncio.run(_points(url, headers, reports, rng))
        for i, (lat, lon) in enumerate(points):
            body = {
                "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "category_code": CATEGORIES[i % len(CATEGORIES)],
                "description": f"bench_read 路面问题 {i}",
                "lat": lat,
                "lon": lon,
            }
            if i % PHOTO_EVERY == PHOTO_EVERY - 1:
                name, data = library[(i // PHOTO_EVERY) % len(library)]
                kind = "image/heic" if name.lower().endswith(".heic") else "image/jpeg"
                parts: list[tuple[str, tuple[str | None, str | bytes, str]]] = [
                    ("report", (None, json.dumps(body), "application/json")),
                    ("photos", (name, data, kind)),
                ]
                r = expect(client.post("/api/v1/reports", files=parts, headers=headers), 201, f"report {i}")
                with_photo.append((r.json()["id"], r.json()["status"]))
            else:
                r = expect(client.post("/api/v1/reports", json=body, headers=headers), 201, f"report {i}")
            statuses[r.json()["status"]] += 1
    if not with_photo:
        raise BenchFailure(f"no report with a photo among {reports}: use --reports {PHOTO_EVERY} or more")
    dispatched = [cid for cid, status in with_photo if status == "dispatched"]
    return Seeded(headers, (dispatched or [cid for cid, _ in with_photo])[-1], statuses, len(with_photo))


async def _points(url: str, headers: dict[str, str], n: int, rng: random.Random) -> tuple[list, list]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await cell_points(client, headers, n, rng)


# ----------------------------------------------------------------------------------------- measuring


def check_answers(urls: dict[str, str], seeded: Seeded, eps: list[Endpoint]) -> None:
    """Each endpoint once, before wrk (which counts only >= 400 as failures and reads no body)."""
    for ep in eps:
        r = httpx.get(urls[ep.server] + ep.path, headers=seeded.headers if ep.auth else {}, timeout=30)
        expect(r, 200, ep.label)
        if "limit=50" in ep.path and len(r.json()["items"]) != 50:
            raise BenchFailure(f"{ep.label}: {len(r.json()['items'])} items, not a full page of 50")
        if ep.path.endswith(f"/{seeded.case_id}") and r.json()["id"] != seeded.case_id:
            raise BenchFailure(f"{ep.label}: answered case {r.json()['id']}, not {seeded.case_id}")


def drive(urls: dict[str, str], seeded: Seeded, eps: list[Endpoint], args: argparse.Namespace) -> None:
    """The bare read, then each product endpoint followed by the bare read again: each ratio is to the bare
    runs just around it, so a neighbour's load that comes and goes moves both sides of the ratio."""

    def measure(ep: Endpoint) -> None:
        headers = seeded.headers if ep.auth else {}
        for seconds in (args.warmup, args.seconds):
            run = wrk(urls[ep.server] + ep.path, seconds, headers, args.threads, args.connections)
            if run.failed:
                raise BenchFailure(
                    f"{ep.label}: {run.non_2xx} non-2xx answers, socket errors {run.socket_errors} in "
                    f"{run.requests} requests ({'warm-up' if seconds == args.warmup else 'measured'} run):\n"
                    f"{run.output}"
                )
        ep.runs.append(run)
        log(f"  {ep.label:<32} {run.rps:9.1f} req/s  p99 {run.latency_ms[99]:7.1f} ms")

    bare, *products = eps
    measure(bare)
    for ep in products:
        measure(ep)
        measure(bare)
        ep.around = [r.rps for r in bare.runs[-2:]]


async def count_statements(url: str, seeded: Seeded, eps: list[Endpoint]) -> None:
    """SQL statements (transaction control left out) and pool checkouts of one warm request per endpoint,
    in-process, with the product's app over its own engine and the bare app over its lifespan's."""
    seen: list[str] = []
    checkouts = [0]

    def on_execute(conn, cursor, statement, parameters, context, many) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen.append(" ".join(statement.split()))

    def on_checkout(*_: object) -> None:
        checkouts[0] += 1

    engine = create_engine(url)
    settings = Settings(
        database=DatabaseSettings(database_url=url),
        auth=AuthSettings(secret_key=BENCH_SECRET),  # the token the servers signed works here too
        rate_limits=RateLimitSettings(
            login_per_username=0, login_per_address=0, reports_per_user=0, reports_per_api_key=0
        ),
    )
    apps = {"product": create_app(settings, database=Database(engine)), "bare": create_bare(url)}
    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Pool, "checkout", on_checkout)
    try:
        async with apps["bare"].router.lifespan_context(apps["bare"]):
            for ep in eps:
                transport = httpx.ASGITransport(app=apps[ep.server])
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                    for _ in range(3):  # the first calls fill caches (calendar, grid index, statements)
                        seen.clear()
                        checkouts[0] = 0
                        r = await client.get(ep.path, headers=seeded.headers if ep.auth else {})
                        expect(r, 200, f"{ep.label} (in-process)")
                ep.statements, ep.checkouts, ep.sql = len(seen), checkouts[0], list(seen)
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
        event.remove(Pool, "checkout", on_checkout)
        apps["product"].state.workshop.close()
        await engine.dispose()


# ------------------------------------------------------------------------------------------ one database


def run_database(kind: str, args: argparse.Namespace) -> tuple[list[Endpoint], tuple[float, float]]:
    sqlite = kind == "sqlite"
    with tempfile.TemporaryDirectory(prefix="gi-read-") as tmp:
        work = Path(tmp)
        url, name = scratch_database(args.base_url, work, sqlite, prefix="gi_read")
        servers: list[Service] = []
        try:
            env = service_env(url, work / "storage", rate_limit=0)  # 0: every limit off
            log(f"{kind}: {'file ' + url if sqlite else 'scratch database ' + str(name)}: migrate, demo")
            prepare_database(env, work)
            product = Service(env, work, work / "product.log")
            bare = Service(
                env,
                work,
                work / "bare.log",
                command=[
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bare_app:create",
                    "--factory",
                    "--app-dir",
                    str(ROOT / "bench"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "{port}",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
            )
            for server in (product, bare):
                servers.append(server)
                server.start()
            urls = {"product": product.url, "bare": bare.url}
            t0 = time.perf_counter()
            seeded = seed(product.url, args.reports)
            log(
                f"seeded {args.reports} reports as worker2 in {time.perf_counter() - t0:.1f} s "
                f"({seeded.photos} with a photo), statuses {dict(seeded.statuses)}; reading case {seeded.case_id}"
            )
            if not seeded.statuses.get("dispatched"):
                raise BenchFailure(f"no seeded case was dispatched: {dict(seeded.statuses)}")
            eps = endpoints(seeded.case_id)
            check_answers(urls, seeded, eps)
            load = os.getloadavg()[0]
            try:
                drive(urls, seeded, eps, args)
            except BenchFailure as exc:
                errors = log_errors(work / "product.log")
                tail = (work / "bare.log").read_text(errors="replace")[-2000:]
                raise BenchFailure(
                    f"{exc}\nproduct ERROR log lines: {errors[:10] or 'none'}\nbare log tail: {tail or '-'}"
                ) from exc
            load_after = os.getloadavg()[0]
            for server in servers:
                server.stop()
            errors = log_errors(work / "product.log")
            if errors:
                raise BenchFailure("the product logged errors while measured:\n" + "\n".join(errors[:10]))
            asyncio.run(count_statements(url, seeded, eps))
        finally:
            for server in servers:
                server.stop()
            drop_scratch(args.base_url, name)
    return eps, (load, load_after)


def report(kind: str, eps: list[Endpoint], args: argparse.Namespace, load: tuple[float, float]) -> None:
    bare = eps[0]
    print(
        f"\n== read path on {'SQLite (aiosqlite)' if kind == 'sqlite' else 'PostgreSQL (asyncpg)'}: one uvicorn "
        f"process per server, wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s after a "
        f"{args.warmup:g} s warm-up, {os.cpu_count()} cores shared with wrk and the database; load average "
        f"{load[0]:.1f} before, {load[1]:.1f} after"
    )
    print(
        f"{'endpoint':<30} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'bare around':>11} {'x bare':>7} "
        f"{'target':>8} {'':7} {'SQL/req':>7} {'conn/req':>8}"
    )
    noisy = False
    for ep in eps:
        rps = [r.rps for r in ep.runs]
        p50, p99 = (statistics.median(r.latency_ms[q] for r in ep.runs) for q in (50, 99))
        if ep is bare:
            label, around, ratio, verdict = (
                f"{ep.label} ({len(rps)} runs)",
                f"{min(rps):.0f}-{max(rps):.0f}",
                1.0,
                "",
            )
        else:
            label, around, ratio = (
                ep.label,
                "/".join(f"{r:.0f}" for r in ep.around),
                rps[0] / statistics.mean(ep.around),
            )
            verdict = "" if ep.target is None else ("ok" if ratio >= ep.target else "MISSED")
            if abs(ep.around[0] - ep.around[1]) > NOISY * statistics.mean(ep.around):
                verdict, noisy = verdict + "*", True
        print(
            f"{label:<30} {statistics.mean(rps):>8.1f} {p50:>7.2f} {p99:>7.2f} {around:>11} {ratio:>6.2f}x "
            f"{(f'>= {ep.target:.1f}x' if ep.target else '-'):>8} {verdict:7} "
            f"{ep.statements if ep.statements is not None else '-':>7} "
            f"{ep.checkouts if ep.checkouts is not None else '-':>8}"
        )
    print(
        "x bare: req/s over the mean of the bare runs just before and after (bare around); SQL/req: statements per "
        "request (BEGIN not counted), conn/req: pool checkouts, warm, in-process"
    )
    if noisy:
        print(
            f"* the bare read moved by more than {NOISY:.0%} around this endpoint: something else used the cores "
            "meanwhile, so this ratio is rough; rerun on a quiet machine"
        )
    if args.show_sql:
        for ep in eps:
            print(f"\n{ep.label}: statements {ep.statements}")
            for sql in ep.sql:
                print(f"  {sql[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per endpoint")
    parser.add_argument("--reports", type=int, default=200, help="reports worker2 files before measuring")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--base-url", default=DEFAULT_BASE, help="PostgreSQL server for the scratch database")
    parser.add_argument("--show-sql", action="store_true", help="print each endpoint's statements")
    args = parser.parse_args()
    if args.reports < max(50, PHOTO_EVERY):
        parser.error(f"--reports must be at least {max(50, PHOTO_EVERY)} (a full list page, a photo)")
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        try:
            eps, load = run_database(kind, args)
        except (BenchFailure, RuntimeError) as exc:  # RuntimeError: a server or wrk did not run
            print(f"\nFAILED on {kind}: {exc}", file=sys.stderr)
            sys.exit(1)
        report(kind, eps, args, load)


if __name__ == "__main__":
    main()
