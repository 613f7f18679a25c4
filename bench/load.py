"""Load: grid workers' phones filing photo reports and supervisors querying, against a real server process,
then the reconciliation of what the clients were told with the database and the photo storage.

Run: python bench/load.py [--seconds 60] [--phones 20] [--supervisors 4] [--workers 1] [--sqlite]
                          [--base-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

What it does, all on this machine (the server listens on 127.0.0.1 only):
1. Creates a scratch PostgreSQL database next to ``--base-url``'s (dropped at the end; ``--sqlite``: a
   scratch SQLite file instead) and a scratch photo directory; ``grid-inspector migrate`` and ``demo``.
2. Starts ``grid-inspector serve`` on a free port (one process), logs in worker1, worker2 and supervisor.
3. For ``--seconds``: ``--phones`` phones (bench/fleet.py) each file reports with 1-3 real photos at
   varied points inside the demo cell, one Idempotency-Key per report, retrying with the same key on
   network errors, 5xx and 429; ``--supervisors`` supervisors list cases, read the overview, the
   assessment per unit and single cases. Then new work stops, phones finish the report in hand, and the
   server is stopped with SIGTERM (background display copies finish).
4. Prints requests/s and p50/p95/p99 per kind over the 2xx answers only, every other outcome by kind and
   status, ERROR lines in the server log, and the reconciliation: 2xx creations == cases in the database,
   photos rows == photos sent in accepted reports, every case whole, every row's files present, no orphan
   file. Exits 1 when any of these differ, and when any request got anything but a 2xx (no fault is
   injected here, so a 4xx, a 5xx or a network error is a finding, even if a retry then succeeded).
Every rate limit is raised (still counted) so the bench measures the service, not the per-user limiter:
20 phones share two worker accounts here, where a city has one phone per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fleet import (
    TIMEOUT,
    Fleet,
    Record,
    cell_points,
    login,
    photo_library,
    print_latencies,
    print_unexpected,
    reconcile,
    successful,
)
from sqlalchemy import text
from support import (
    Service,
    cpu_seconds,
    drop_scratch,
    log,
    log_errors,
    prepare_database,
    scratch_database,
    service_env,
)

from app.core.db import create_engine

DEFAULT_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


async def drive(url: str, seconds: float, phones: int, supervisors: int) -> tuple[Record, float, Fleet]:
    """Run the fleet for ``seconds``; the record and the seconds from start to the last answer."""
    record = Record()
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as client:
        tokens = {u: await login(client, u) for u in ("worker1", "worker2", "supervisor")}
        points, chain = await cell_points(client, tokens["supervisor"], 500, random.Random(1))
    fleet = Fleet(url, record, tokens, points, chain, photo_library())
    t0 = time.perf_counter()
    fleet.give_up_at = t0 + seconds + 120
    tasks = [asyncio.create_task(fleet.phone(i)) for i in range(phones)]
    tasks += [asyncio.create_task(fleet.supervisor(i)) for i in range(supervisors)]
    await asyncio.sleep(seconds)
    fleet.stop.set()
    await asyncio.gather(*tasks)
    return record, time.perf_counter() - t0, fleet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--supervisors", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead of PostgreSQL")
    parser.add_argument(
        "--base-url", default=DEFAULT_BASE, help="PostgreSQL server to create the scratch database on"
    )
    args = parser.parse_args()
    ok = False
    with tempfile.TemporaryDirectory(prefix="gi-load-") as tmp:
        work = Path(tmp)
        storage = work / "storage"
        url, name = scratch_database(args.base_url, work, args.sqlite, prefix="gi_load")
        try:
            env = service_env(url, storage)
            log(f"database {'SQLite ' + url if args.sqlite else 'PostgreSQL ' + str(name)}: migrate, demo")
            prepare_database(env, work)
            before = int(asyncio.run(scalar(url, "SELECT count(*) FROM cases")) or 0)
            version = (
                "SQLite"
                if args.sqlite
                else "PostgreSQL " + str(asyncio.run(scalar(url, "SHOW server_version"))).split()[0]
            )
            server = Service(env, work, work / "server.log", workers=args.workers)
            log(
                f"server up on {server.url} in {server.start():.1f} s; {args.phones} phones, {args.supervisors} "
                f"supervisors for {args.seconds:.0f} s"
            )
            assert server.proc is not None
            cpu0, own0 = cpu_seconds(server.proc.pid), time.process_time()
            try:
                record, elapsed, fleet = asyncio.run(
                    drive(server.url, args.seconds, args.phones, args.supervisors)
                )
                cpu = cpu_seconds(server.proc.pid) - cpu0, time.process_time() - own0
            finally:
                t_stop = time.perf_counter()
                server.stop()
                log(f"server stopped (SIGTERM) in {time.perf_counter() - t_stop:.1f} s")
            answered = sum(isinstance(a[3], int) for a in record.attempts)
            ok_answers = sum(successful(a[0], a[3]) for a in record.attempts)
            accepted = sum(1 for s in record.reports if s.status and 200 <= s.status < 300)
            photos = sum(s.photos for s in record.reports if s.status and 200 <= s.status < 300)
            procs = (
                "one `grid-inspector serve` process"
                if args.workers == 1
                else f"`serve --workers {args.workers}`"
            )
            print(
                f"\n== load: {procs}, {version}, local photo storage; {args.phones} "
                f"phones (worker1/worker2, {len(fleet.library)} real photos, 1-3 per report), "
                f"{args.supervisors} supervisors, {args.seconds:.0f} s (+{elapsed - args.seconds:.1f} s to "
                "finish reports in hand)"
            )
            print(
                f"2xx answers: {ok_answers} of {answered} answered ({len(record.attempts)} sent) in "
                f"{elapsed:.1f} s = {ok_answers / elapsed:.1f} req/s; reports "
                f"accepted: {accepted} ({accepted / elapsed:.1f}/s) with {photos} photos "
                f"({photos / elapsed:.1f} photos/s)"
            )
            print(
                f"CPU: server {cpu[0]:.0f} s, bench clients {cpu[1]:.0f} s in {elapsed:.0f} s on {os.cpu_count()} "
                f"cores ({(cpu[0] + cpu[1]) / elapsed / (os.cpu_count() or 1):.0%} of the machine)"
            )
            print_latencies(record, elapsed)
            errors = log_errors(work / "server.log")
            print("server log errors: " + ("".join(f"\n  {e[:300]}" for e in errors[:8]) or "none"))
            recon = asyncio.run(reconcile(url, storage, record.reports, before))
            recon.print()
            unexpected = record.unexpected(successful)
            print_unexpected(unexpected, "anything but a 2xx")
            ok = recon.ok and not unexpected
        finally:
            drop_scratch(args.base_url, name)
    print(f"\nRESULT: {'counts match, every answer a 2xx' if ok else 'FAILED (see BAD above)'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
