"""Notifications under faults: two ``grid-inspector serve`` processes on PostgreSQL deliver the webhooks of
hundreds of dispatches to receivers that fail at random, while one process is killed with SIGKILL mid-run.
Every event must reach every endpoint that hears it exactly once after the receiver drops duplicates by
``webhook-id``; also measured: filing a report with notification endpoints set up against without any.

Run: python bench/bench_notify.py [--dispatches 500] [--fail-rate 0.3] [--clients 8]
         [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
Everything listens on 127.0.0.1; the scratch database is dropped at the end. Exit 1 when an event is lost,
invented, or a delivery did not end delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg
import httpx
from support import (
    ROOT,
    Service,
    asyncpg_dsn,
    drop_scratch,
    log,
    log_errors,
    prepare_database,
    scratch_database,
    service_env,
)

STREETS = {"worker1": (106.6715, 106.6925), "worker2": (106.6520, 106.6715)}  # 东关, 中街 (lon ranges)
CATEGORIES = ["06010", "09006", "09009", "07001", "06013", "01001"]


class Receivers:
    """An HTTP server in a thread of its own: ``/e/{n}`` is endpoint n's receiver; answers 500 at random."""

    def __init__(self, fail_rate: float, seed: int) -> None:
        self.fail_rate, self.random = fail_rate, random.Random(seed)
        self.got: dict[str, list[str]] = defaultdict(list)  # path -> webhook-ids in arrival order
        self.failed = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                fail = self.random.random() < self.fail_rate
                if fail:
                    self.failed += 1
                else:
                    self.got[path].append(headers["webhook-id"])
                status = "500 Oops" if fail else "204 No Content"
                writer.write(f"HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        async def main() -> None:
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.ready.set()
            await server.serve_forever()

        self.loop.run_until_complete(main())


def token(base: str, user: str, password: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": user, "password": password}, timeout=30)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def file_reports(
    bases: list[str], heads: dict[str, dict[str, str]], n: int, clients: int, seed: int, on_progress=None
) -> list[float]:  # type: ignore[no-untyped-def]
    """File ``n`` reports (each auto-dispatched) through the servers in turn; latencies in ms of the 201s.
    A connection cut by the kill is retried with the same Idempotency-Key; any other non-201 stops the bench."""
    rnd = random.Random(seed)
    jobs = []
    for i in range(n):
        user = rnd.choice(list(STREETS))
        west, east = STREETS[user]
        body = {
            "category_code": rnd.choice(CATEGORIES),
            "description": f"压测第{i}件",
            "lat": round(rnd.uniform(35.5320, 35.5540), 6),
            "lon": round(rnd.uniform(west, east), 6),
        }
        jobs.append((i, user, body, f"bench-notify-{seed}-{i}"))
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[int, str, dict[str, object], str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    done = 0

    async def client(k: int) -> None:
        nonlocal done
        async with httpx.AsyncClient(timeout=60) as http:
            while not queue.empty():
                i, user, body, key = await queue.get()
                for attempt in range(40):
                    base = bases[(i + attempt) % len(bases)]
                    t0 = time.perf_counter()
                    try:
                        r = await http.post(
                            f"{base}/api/v1/reports",
                            json=body,
                            headers={**heads[user], "Idempotency-Key": key},
                        )
                    except httpx.HTTPError:
                        await asyncio.sleep(0.5)  # the server was killed: retry elsewhere, same key
                        continue
                    if r.status_code == 201:
                        latencies.append((time.perf_counter() - t0) * 1000)
                        break
                    if r.status_code == 503:
                        await asyncio.sleep(0.5)
                        continue
                    raise SystemExit(f"filing answered {r.status_code}: {r.text[:300]}")
                else:
                    raise SystemExit(f"report {i} was never filed")
                done += 1
                if on_progress:
                    on_progress(done)

    await asyncio.gather(*(client(k) for k in range(clients)))
    return latencies


async def settled(dsn: str, timeout: float) -> dict[str, int]:
    """Wait until no delivery is pending or sending; the deliveries by status."""
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        while True:
            rows = dict(await conn.fetch("SELECT status, count(*) FROM notify_deliveries GROUP BY status"))
            if not rows.get("pending") and not rows.get("sending"):
                return rows
            if time.perf_counter() - t0 > timeout:
                return rows
            await asyncio.sleep(1)
    finally:
        await conn.close()


async def expected(dsn: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT d.endpoint_id, e.message_id FROM notify_deliveries d JOIN notify_events e ON e.id = d.event_id"
        )
    finally:
        await conn.close()
    out: dict[str, set[str]] = defaultdict(set)
    for endpoint_id, message_id in rows:
        out[str(endpoint_id)].add(message_id)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dispatches", type=int, default=500)
    ap.add_argument("--fail-rate", type=float, default=0.3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--compare", type=int, default=60, help="reports filed for the with/without comparison")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gi-notify-"))
    url, name = scratch_database(args.database_url, work, sqlite=False, prefix="gi_notify")
    receivers = Receivers(args.fail_rate, args.seed)
    env = service_env(
        url,
        work / "storage",
        rate_limit=0,
        GRID_NOTIFY_ALLOW_NETWORKS='["127.0.0.0/8"]',
        GRID_NOTIFY_RETRY_S="[0, 1, 1, 2, 2, 3, 3, 5, 5, 8, 8, 13, 13, 21]",
        GRID_NOTIFY_POLL_S="0.2",
        GRID_NOTIFY_TIMEOUT_S="2",
        GRID_NOTIFY_SWEEP_S="3600",
    )
    servers = [Service(env, ROOT, work / f"serve-{k}.log") for k in ("a", "b")]
    # The with/without comparison runs on a server of its own that sends nothing (and alone on the machine),
    # so it measures what filing costs, not the sending that follows it.
    quiet = Service({**env, "GRID_NOTIFY_WORKER": "false"}, ROOT, work / "serve-quiet.log")
    failures: list[str] = []
    try:
        prepare_database(env, ROOT)
        quiet.start()
        heads = {u: token(quiet.url, u, f"demo-{u}-2026") for u in STREETS}
        admin = token(quiet.url, "admin", "demo-admin-2026")
        units = httpx.get(f"{quiet.url}/api/v1/units?limit=200", headers=admin).json()["items"]
        base = f"http://127.0.0.1:{receivers.port}"
        made = []
        for unit in [*units, None]:
            body = {
                "kind": "webhook",
                "name": unit["name"] if unit else "指挥中心",
                "url": f"{base}/e/u{unit['id']}" if unit else f"{base}/e/centre",
                "active": False,
            }
            if unit:
                body["unit_id"] = unit["id"]
            r = httpx.post(f"{quiet.url}/api/v1/notifications/endpoints", headers=admin, json=body)
            r.raise_for_status()
            made.append(r.json()["id"])

        def endpoints_on(active: bool) -> None:
            for endpoint_id in made:
                httpx.patch(
                    f"{quiet.url}/api/v1/notifications/endpoints/{endpoint_id}",
                    headers=admin,
                    json={"active": active},
                ).raise_for_status()

        # Blocks with the endpoints off and on, alternating, so drift (a growing table, the machine's other
        # work) falls on both sides alike.
        log(f"filing {args.compare} reports in blocks, {len(made)} endpoints off and on in turn")
        without: list[float] = []
        with_endpoints: list[float] = []
        block = max(args.compare // 6, 1)
        for k in range(6):
            on = k % 2 == 1
            endpoints_on(on)
            got = asyncio.run(file_reports([quiet.url], heads, block, 1, args.seed + 100 + k))
            (with_endpoints if on else without).extend(got)
        endpoints_on(True)
        quiet.stop()
        for s in servers:
            s.start()
        bases = [s.url for s in servers]
        killed = {"done": False}

        def progress(done: int) -> None:
            if not killed["done"] and done >= args.dispatches * 0.4:
                killed["done"] = True
                log("SIGKILL server a mid-run")
                servers[0].kill()
                threading.Thread(target=lambda: (time.sleep(2), servers[0].start()), daemon=True).start()

        log(
            f"filing {args.dispatches} reports on both servers ({args.clients} clients), receivers failing "
            f"{args.fail_rate:.0%}"
        )
        t0 = time.perf_counter()
        asyncio.run(file_reports(bases, heads, args.dispatches, args.clients, args.seed, progress))
        filed_s = time.perf_counter() - t0
        dsn = asyncpg_dsn(url)
        states = asyncio.run(settled(dsn, timeout=300))
        settle_s = time.perf_counter() - t0
        want = asyncio.run(expected(dsn))
        endpoint_of_path = {f"/e/u{u['id']}": u["id"] for u in units}
        ids = httpx.get(f"{bases[1]}/api/v1/notifications/endpoints?limit=200", headers=admin).json()["items"]
        path_of = {str(e["id"]): (f"/e/u{e['unit']['id']}" if e["unit"] else "/e/centre") for e in ids}
        total_events = sum(len(v) for v in want.values())
        received = sum(len(v) for v in receivers.got.values())
        duplicates = received - sum(len(set(v)) for v in receivers.got.values())
        missing = sum(len(want[e] - set(receivers.got[path_of[e]])) for e in want)
        invented = sum(len(set(receivers.got[path_of[e]]) - want[e]) for e in want)
        del endpoint_of_path
        print(
            f"\n== notifications under faults on PostgreSQL: 2 serve processes, {args.dispatches} reports "
            f"({filed_s:.1f} s), one SIGKILL, receivers failing {args.fail_rate:.0%}"
        )
        print(f"deliveries: {dict(states)}; expected (endpoint, event) pairs {total_events}")
        print(
            f"received 2xx: {received} (duplicates dropped by webhook-id: {duplicates}); receiver 500s: "
            f"{receivers.failed}; missing: {missing}; invented: {invented}; all settled {settle_s:.1f} s after start"
        )
        kinds = Counter()
        for e, msgs in want.items():
            kinds[path_of[e].split("/")[-1][0]] += len(msgs)
        print(f"per owner: units {kinds.get('u', 0)}, command centre {kinds.get('c', 0)}")
        print(
            f"filing p50/p95 without endpoints {pct(without, 0.5):.0f}/{pct(without, 0.95):.0f} ms, with "
            f"{pct(with_endpoints, 0.5):.0f}/{pct(with_endpoints, 0.95):.0f} ms: ratio "
            f"{statistics.median(with_endpoints) / statistics.median(without):.2f}x (1 client, sequential)"
        )
        if missing or invented or states.get("pending") or states.get("sending") or states.get("failed"):
            failures.append("an event was lost, invented or not delivered")
        for s in servers:
            errors = log_errors(s.log_path)
            if errors:
                print(f"server errors ({s.log_path.name}):", *errors[:10], sep="\n  ")
    finally:
        for s in [*servers, quiet]:
            s.stop()
        drop_scratch(args.database_url, name)
    if failures:
        print("FAILED:", "; ".join(failures))
        return 1
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
