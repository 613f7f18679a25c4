"""Faults: the server SIGKILLed in the middle of uploads, and PostgreSQL restarted under load.

Run: python bench/faults.py [--kills 10] [--phones 8] [--abandon 0.3] [--lose-answer 0.1] [--outage 10]
                           [--sqlite] [--skip-kills] [--skip-restart]

1. Kills (a scratch database on ``--base-url``'s server, or ``--sqlite``): start ``grid-inspector serve``,
   let phones upload (bench/fleet.py: real photos, one Idempotency-Key per report, retried with the same key
   until answered), SIGKILL the server (in turn: at a random moment; the instant a new photo original lands
   in storage, i.e. between a request's file writes and its commit; the instant a new case commits, i.e.
   maybe before its answer left), restart it, ``--kills`` times. A phone whose upload was cut retries it
   with the same key, or with probability ``--abandon`` drops it (the user deleted the draft): its files, if
   written, are the orphans the sweeper is for. With probability ``--lose-answer`` a phone acts as if a 2xx
   was lost on the radio and retries (it must get the same case back, as a replay). Then new reports stop,
   every phone's report in hand is retried to an answer, the server is stopped, and
   ``grid-inspector sweep-orphans --older-than 0`` runs (the server is down, so no upload is in flight).
   Checked: every report a phone got a 2xx for exists with its photos; no partial case (each case has its
   report event and that many photos rows; each row its original and thumbnail); no orphan file left.
2. PostgreSQL restart: a private throwaway cluster (``pg_createcluster 15 gibench<hex> -p <free port>``,
   trust auth, listening on localhost; the shared server on 5432 is never touched) under the server,
   phones, supervisors and a /readyz probe every 0.2 s; PostgreSQL is stopped (``-m fast``) for
   ``--outage`` seconds and started again. Recorded: what clients got while it was down (/readyz must be
   503; requests 503 problem+json, never a 500 and never a hang past the client's 30 s timeout) and how long
   after PostgreSQL was back the service answered again. The cluster is dropped at the end.
Every rate limit is raised (still counted), so no answer is a 429. An answer the fault does not explain is
counted and fails the part that saw it: in the kills, anything but a 2xx or a cut connection (a hang past
30 s included); in the restart, anything but a 2xx or a 503.
Exit status 1 when a check fails (the summary says which).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from fleet import (
    TIMEOUT,
    Fleet,
    Record,
    cell_points,
    login,
    photo_library,
    print_unexpected,
    reconcile,
    successful,
)
from sqlalchemy import text
from support import (
    Service,
    cli,
    drop_scratch,
    free_port,
    log,
    log_errors,
    prepare_database,
    scratch_database,
    service_env,
)

from app.core.db import create_engine
from app.photos.storage import TEMPORARY_PREFIX, LocalStorage

DEFAULT_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_VERSION = "15"
HANGS = {"ReadTimeout", "WriteTimeout", "PoolTimeout", "ConnectTimeout"}  # the client's 30 s ran out


def cut_or_success(kind: str, outcome: int | str) -> bool:
    """What a kill explains: a 2xx, or a connection refused or cut (never a hang, never an error answer)."""
    return successful(kind, outcome) or (isinstance(outcome, str) and outcome not in HANGS)


def success_or_unavailable(kind: str, outcome: int | str) -> bool:
    """What a database outage explains: a 2xx, or 503 while it is down (the server itself stays up)."""
    return successful(kind, outcome) or outcome == 503


async def make_fleet(server: Service, record: Record, seed: int) -> Fleet:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        tokens = {u: await login(client, u) for u in ("worker1", "worker2", "supervisor")}
        points, chain = await cell_points(client, tokens["supervisor"], 300, random.Random(seed))
    return Fleet(server.url, record, tokens, points, chain, photo_library(), seed=seed)


async def finish(fleet: Fleet, tasks: list[asyncio.Task[None]], grace: float = 120.0) -> None:
    """No new reports; the ones in hand are retried until answered (at most ``grace`` seconds)."""
    fleet.stop.set()
    fleet.give_up_at = time.perf_counter() + grace
    await asyncio.gather(*tasks)


def sweep(env: dict[str, str], work: Path) -> list[str]:
    """``sweep-orphans --older-than 0`` after a dry run; their printed lines."""
    dry = cli(
        env, work, "sweep-orphans", "--older-than", "0", "--dry-run", "--servers-stopped"
    ).stdout.splitlines()
    real = cli(env, work, "sweep-orphans", "--older-than", "0", "--servers-stopped").stdout.splitlines()
    return [*(f"dry run | {line}" for line in dry), *(f"sweep   | {line}" for line in real)]


# ------------------------------------------------------------------------------------------ 1. kills


def new_original(storage: Path, since: float, until: float, fire: Callable[[], None]) -> bool:
    """Blocking: poll until a photo original written after ``since`` (POSIX s) appears, then ``fire``; False
    when ``until`` (perf_counter s) came first. At that moment its request is between its file writes and its
    commit."""
    while time.perf_counter() < until:
        for entry in LocalStorage(storage).entries("originals"):
            if entry.modified > since and not entry.key.rpartition("/")[2].startswith(TEMPORARY_PREFIX):
                fire()
                return True
        time.sleep(0.002)
    return False


async def new_case(url: str, until: float, fire: Callable[[], None]) -> bool:
    """Poll the cases table until a new case commits, then ``fire`` at once: its request has committed and
    may not have answered yet (the phone's retry must then get the same case back, as a replay)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT max(id) FROM cases"))).scalar()
            await conn.rollback()
            while time.perf_counter() < until:
                if (await conn.execute(text("SELECT max(id) FROM cases"))).scalar() != first:
                    fire()
                    return True
                await conn.rollback()  # a fresh snapshot next time (SQLite)
                await asyncio.sleep(0.001)
    finally:
        await engine.dispose()
    return False


async def kill_rounds(
    server: Service,
    url: str,
    storage: Path,
    kills: int,
    phones: int,
    rng: random.Random,
    abandon: float,
    lose_answer: float,
) -> tuple[Record, list[str]]:
    """Kills in turn at a random moment, the instant a new original lands in storage (between a request's
    file writes and its commit), and the instant a new case commits (before or after its answer left). A
    phone whose upload was cut drops that report with probability ``abandon`` (else retries it with the
    same key, which also re-writes, and so adopts, any file the cut request left); with probability
    ``lose_answer`` a phone acts as if a 2xx never reached it and retries (it must get the same case back)."""
    record = Record()
    await asyncio.to_thread(server.start)
    fleet = await make_fleet(server, record, seed=11)
    fleet.abandon, fleet.lose_answer = abandon, lose_answer
    tasks = [asyncio.create_task(fleet.phone(i)) for i in range(phones)]
    rounds = []

    def fire() -> None:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGKILL)

    for number in range(1, kills + 1):
        await asyncio.sleep(rng.uniform(1.0, 5.0))
        mode, until = (
            ("at random", "on a file write", "on a commit")[(number - 1) % 3],
            time.perf_counter() + 10,
        )
        if mode == "on a file write":
            hit = await asyncio.to_thread(new_original, storage, time.time(), until, fire)
        elif mode == "on a commit":
            hit = await new_case(url, until, fire)
        else:
            hit = True
        mode += "" if hit else " (not seen in 10 s: at random)"
        killed_at = time.perf_counter()
        await asyncio.to_thread(server.kill)
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        took = await asyncio.to_thread(server.start)
        cut = [
            a
            for a in record.attempts
            if a[0] == "report" and a[1] < killed_at <= a[2] and isinstance(a[3], str)
        ]
        how = ", ".join(sorted({str(a[3]) for a in cut}))
        rounds.append(f"kill {number:2} {mode}: {len(cut)} uploads cut ({how}), restarted in {took:.1f} s")
        log(rounds[-1])
    await asyncio.sleep(2.0)
    await finish(fleet, tasks)
    return record, rounds


def run_kills(args: argparse.Namespace, rng: random.Random) -> bool:
    with tempfile.TemporaryDirectory(prefix="gi-faults-") as tmp:
        work = Path(tmp)
        url, name = scratch_database(args.base_url, work, args.sqlite, prefix="gi_faults")
        try:
            env = service_env(url, work / "storage")
            prepare_database(env, work)
            server = Service(env, work, work / "server.log")
            t0 = time.perf_counter()
            try:
                record, rounds = asyncio.run(
                    kill_rounds(
                        server,
                        url,
                        work / "storage",
                        args.kills,
                        args.phones,
                        rng,
                        args.abandon,
                        args.lose_answer,
                    )
                )
            finally:
                server.stop()
            elapsed = time.perf_counter() - t0
            swept = sweep(env, work)
            recon = asyncio.run(reconcile(url, work / "storage", record.reports))
        finally:
            drop_scratch(args.base_url, name)
    print(
        f"\n== 1. SIGKILL in the middle of uploads: {args.kills} kills, {args.phones} phones, "
        f"{'SQLite' if args.sqlite else 'PostgreSQL'}, {elapsed:.0f} s"
    )
    for line in rounds:
        print("  " + line)
    statuses = Counter(str(a[3]) for a in record.attempts)
    print(f"  report attempts by outcome: {dict(sorted(statuses.items()))}")
    for line in swept:
        print("  " + line)
    recon.print()
    unexpected = record.unexpected(cut_or_success)
    print_unexpected(unexpected, "neither a 2xx nor a cut connection")
    return recon.ok and not unexpected


# ------------------------------------------------------------------------------ 2. PostgreSQL restart


class Cluster:
    """A private PostgreSQL cluster for this run only (root runs pg_createcluster as the postgres user)."""

    def __init__(self) -> None:
        self.name, self.port = f"gibench{random.getrandbits(24):06x}", free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=120)

    def create(self) -> None:
        self.ctl(
            "pg_createcluster",
            PG_VERSION,
            self.name,
            "-p",
            str(self.port),
            "--start-conf=manual",
            "--start",
            "--",
            "--auth=trust",
        )

    def stop(self) -> None:
        self.ctl("pg_ctlcluster", PG_VERSION, self.name, "stop", "-m", "fast")

    def start(self) -> None:
        self.ctl("pg_ctlcluster", PG_VERSION, self.name, "start")

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", PG_VERSION, self.name], capture_output=True, timeout=120, check=False
        )


async def probe(record: Record, url: str, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as client:
        while not stop.is_set():
            await record.call(client, "readyz", "GET", "/readyz")
            await asyncio.sleep(0.2)


async def outage(
    server: Service, cluster: Cluster, args: argparse.Namespace
) -> tuple[Record, dict[str, float]]:
    record = Record()
    await asyncio.to_thread(server.start)
    fleet = await make_fleet(server, record, seed=23)
    tasks = [asyncio.create_task(fleet.phone(i)) for i in range(args.phones)]
    tasks += [asyncio.create_task(fleet.supervisor(i)) for i in range(2)]
    probe_stop = asyncio.Event()
    prober = asyncio.create_task(probe(record, server.url, probe_stop))
    await asyncio.sleep(8.0)
    marks = {"stop_sent": time.perf_counter()}
    log("PostgreSQL: stop -m fast")
    await asyncio.to_thread(cluster.stop)
    marks["down"] = time.perf_counter()
    await asyncio.sleep(args.outage)
    marks["start_sent"] = time.perf_counter()
    log("PostgreSQL: start")
    await asyncio.to_thread(cluster.start)
    marks["up"] = time.perf_counter()
    await asyncio.sleep(20.0)
    await finish(fleet, tasks)
    probe_stop.set()
    await prober
    return record, marks


def first_ok(record: Record, kind: str, after: float) -> float | None:
    ends = [
        a[2]
        for a in record.attempts
        if a[0] == kind and a[1] >= after and isinstance(a[3], int) and a[3] < 400
    ]
    return min(ends) - after if ends else None


def run_restart(args: argparse.Namespace) -> bool:
    cluster = Cluster()
    ok = True
    with tempfile.TemporaryDirectory(prefix="gi-pgrestart-") as tmp:
        work = Path(tmp)
        try:
            log(f"private cluster {PG_VERSION}/{cluster.name} on port {cluster.port}")
            cluster.create()
            url, _ = scratch_database(cluster.url, work, False, prefix="gi_restart")
            env = service_env(url, work / "storage")
            prepare_database(env, work)
            server = Service(env, work, work / "server.log")
            try:
                record, marks = asyncio.run(outage(server, cluster, args))
            finally:
                server.stop()
            swept = sweep(env, work)
            recon = asyncio.run(reconcile(url, work / "storage", record.reports))
            errors = log_errors(work / "server.log")
        finally:
            cluster.drop()
            log(f"private cluster {cluster.name} dropped")
    t0, down, start, up = marks["stop_sent"], marks["down"], marks["start_sent"], marks["up"]
    windows = {"stopping": (t0, down), "down": (down, start), "starting": (start, up)}
    fives = [a for a in record.attempts if a[3] == 500]
    hangs = [a for a in record.attempts if a[3] in HANGS]
    recovery = {k: first_ok(record, k, up) for k in ("readyz", "report", "list", "overview", "assessment")}
    not_problem = sum(record.not_problem.values())
    print(
        f"\n== 2. PostgreSQL stopped for {args.outage:.0f} s under load ({args.phones} phones, 2 supervisors, "
        "/readyz every 0.2 s); private cluster, dropped at the end"
    )
    print(f"  stop -m fast took {down - t0:.2f} s, start took {up - start:.2f} s")
    for label, (lo, hi) in windows.items():
        during = [a for a in record.attempts if lo <= a[2] < hi]
        counts = Counter((a[0], a[3]) for a in during)
        slowest = max(((a[2] - a[1]), a[0], a[3]) for a in during) if during else (0.0, "-", "-")
        print(
            f"  answers ending while PostgreSQL was {label} ({hi - lo:.1f} s): "
            + ", ".join(
                f"{k} {s}: {n}" for (k, s), n in sorted(counts.items(), key=lambda x: (x[0][0], str(x[0][1])))
            )
        )
        print(f"    slowest: {slowest[0]:.2f} s ({slowest[1]} -> {slowest[2]})")
    ready_down = Counter(a[3] for a in record.attempts if a[0] == "readyz" and down <= a[1] and a[2] <= start)
    print(f"  /readyz while down: {dict(ready_down)}")
    print(
        f"  500s: {len(fives)} ({dict(Counter(a[0] for a in fives))}); hangs (client timeout 30 s): {len(hangs)}; "
        f"errors not in problem+json: {not_problem} {dict(record.not_problem)}"
    )
    print(
        "  recovery after PostgreSQL was back (first success, s): "
        + ", ".join(f"{k} {v:.2f}" if v is not None else f"{k} never" for k, v in recovery.items())
    )
    print("  server log errors: " + ("".join(f"\n    {e[:300]}" for e in errors[:8]) or "none"))
    for line in swept:
        print("  " + line)
    recon.print()
    unexpected = record.unexpected(success_or_unavailable)
    print_unexpected(unexpected, "neither a 2xx nor a 503")
    if unexpected:
        ok = False
    if fives or hangs or not_problem:
        ok = False
        print("  BAD: clients saw 500s or hangs while the database was down (see the bug list)")
    if set(ready_down) - {503}:
        ok = False
        print(f"  BAD: /readyz answered {dict(ready_down)} while PostgreSQL was down (want only 503)")
    if recovery["readyz"] is None or recovery["readyz"] > 5 or recovery["report"] is None:
        ok = False
        print("  BAD: the service did not recover within 5 s of PostgreSQL coming back")
    return ok and recon.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--phones", type=int, default=8)
    parser.add_argument(
        "--abandon",
        type=float,
        default=0.3,
        help="probability that a phone drops a report whose upload a kill cut",
    )
    parser.add_argument(
        "--lose-answer",
        type=float,
        default=0.1,
        help="probability that a phone acts as if a 2xx was lost on the way back, and retries",
    )
    parser.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL stays down")
    parser.add_argument(
        "--sqlite", action="store_true", help="kills on a scratch SQLite file (no restart part)"
    )
    parser.add_argument("--skip-kills", action="store_true")
    parser.add_argument("--skip-restart", action="store_true")
    parser.add_argument(
        "--base-url", default=DEFAULT_BASE, help="PostgreSQL server for the kills' scratch database"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = {}
    if not args.skip_kills:
        results["kills"] = run_kills(args, rng)
    if not args.skip_restart and not args.sqlite:
        results["postgresql restart"] = run_restart(args)
    print("\nRESULT: " + ", ".join(f"{k}: {'ok' if v else 'FAILED'}" for k, v in results.items()))
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
