"""The export half of bench/bench_queries.py: both exports streamed from a real ``grid-inspector serve``
against the large database, the server's RSS sampled every 0.5 s (rows/s, bytes, RSS at start, peak, and
at 10 %, 50 %, 100 % of the bytes), and the rows counted against the cases in the database.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import httpx
from support import Service, rss_kb, service_env

SUPERVISOR = ("supervisor", "demo-supervisor-2026")


def export_memory(url: str, expected_rows: int) -> list[str]:
    """Both exports streamed from a real server, its RSS sampled; the failures (a non-200 answer, a broken
    stream, or not ``expected_rows`` rows), empty when both were whole."""
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gi-bench-export-") as tmp:
        work = Path(tmp)  # also the server's working directory: no .env of the checkout is read
        # Every limit off: this measures the export, and the supervisor logs in here after measure() did.
        server = Service(service_env(url, work / "storage", rate_limit=0), work, work / "server.log")
        try:
            server.start(timeout=30)
            assert server.proc is not None
            proc = server.proc
            with httpx.Client(base_url=server.url, timeout=httpx.Timeout(30, read=600)) as client:
                r = client.post(
                    "/api/v1/auth/token", data=dict(zip(("username", "password"), SUPERVISOR, strict=True))
                )
                if r.status_code != 200:
                    raise SystemExit(f"export: login as supervisor: HTTP {r.status_code} {r.text[:500]}")
                headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
                # Warm the process up.
                r = client.get("/api/v1/reports", params={"limit": 50}, headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"export: warm-up list page: HTTP {r.status_code} {r.text[:500]}")
                print(
                    f"\n== export memory: grid-inspector serve (pid {proc.pid}, one process) against the large "
                    f"database, {expected_rows:,} cases expected"
                )
                print(
                    f"{'format':8} {'status':>6} {'rows':>9} {'MB':>7} {'s':>6} {'rows/s':>8} {'RSS start':>10} "
                    f"{'@10%':>7} {'@50%':>7} {'@100%':>7} {'peak':>7}  (RSS in MB)"
                )
                for fmt in ("csv", "geojson"):
                    failure = export_one(client, headers, fmt, proc.pid, expected_rows)
                    if failure:
                        failures.append(failure)
                        print(f"  EXPORT FAILED: {failure}")
                        print("  server log tail:\n" + server.log_path.read_text(errors="replace")[-3000:])
        finally:
            server.stop()
    return failures


def export_one(client: httpx.Client, headers: dict[str, str], fmt: str, pid: int, expected_rows: int) -> str:
    """Stream one export to nowhere, print its row of the table; what went wrong, or ''."""
    samples: list[tuple[float, int, int]] = []  # (t, bytes so far, rss kB)
    got = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter(), got[0], rss_kb(pid)))
            stop.wait(0.5)

    start_rss = rss_kb(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    t0 = time.perf_counter()
    rows, tail, status, error = 0, b"", 0, ""
    marker = b"\n" if fmt == "csv" else b'{"type":"Feature",'
    try:
        sampler.start()
        with client.stream("GET", "/api/v1/reports/export", params={"format": fmt}, headers=headers) as resp:
            status = resp.status_code
            if status != 200:
                error = f"HTTP {status}: " + resp.read().decode(errors="replace")[:500]
            else:
                for chunk in resp.iter_raw(1 << 16):
                    got[0] += len(chunk)
                    buf = tail + chunk
                    rows += buf.count(marker) - tail.count(marker)
                    tail = buf[-len(marker) + 1 :] if len(marker) > 1 else b""
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        elapsed = time.perf_counter() - t0
        samples.append((time.perf_counter(), got[0], rss_kb(pid)))
        stop.set()
        sampler.join()
    if fmt == "csv":
        rows -= 1  # the header line
    if not error and rows != expected_rows:  # a stream that broke after its 200 ends short
        error = f"{rows:,} rows exported, {expected_rows:,} cases in the database"
    total = got[0]

    def at(frac: float) -> str:
        for _, b, kb in samples:
            if b >= frac * total and total:
                return f"{kb / 1024:7.0f}"
        return f"{'-':>7}"

    peak = max(kb for _, _, kb in samples)
    print(
        f"{fmt:8} {status:>6} {rows:>9,} {total / 1e6:7.1f} {elapsed:6.1f} {rows / elapsed:8,.0f} "
        f"{start_rss / 1024:10.0f} {at(0.1)} {at(0.5)} {at(1.0)} {peak / 1024:7.0f}"
    )
    curve = [
        f"{b / max(total, 1):.0%}:{kb / 1024:.0f}" for _, b, kb in samples[:: max(len(samples) // 12, 1)]
    ]
    print(f"  RSS (MB) by share of bytes sent: {' '.join(curve)}")
    return f"{fmt}: {error}" if error else ""
