"""Small helpers shared by the benchmarks: the project's root and the venv's bin directory, a timestamped
log line, asyncpg DSNs and PostgreSQL's binary timestamps, a free local port, a process's RSS, the
PostgreSQL settings line the query bench prints, scratch databases and a real ``grid-inspector serve``
process (start, SIGKILL, SIGTERM) for the load, fault and read benches (or another server command), with
every rate limit set, and ``wrk`` run and read for bench/bench_read.py. Imported as a sibling module (``bench/`` is on sys.path
when a script there runs).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z, the origin of PostgreSQL's binary timestamps


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pg_us(t: float | None) -> int | None:
    """Epoch seconds as PostgreSQL's binary timestamptz (microseconds since 2000-01-01 UTC)."""
    return None if t is None else round((t - PG_EPOCH) * 1_000_000)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process and its live children (uvicorn's workers) have used so far
    (Linux /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def server_settings(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        version = (await conn.fetchval("SHOW server_version")).split()[0]
        names = [
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "random_page_cost",
            "jit",
            "plan_cache_mode",
        ]
        values = [f"{n}={await conn.fetchval(f'SHOW {n}')}" for n in names]
    finally:
        await conn.close()
    return f"PostgreSQL {version}: " + ", ".join(values)


# --------------------------------------------------------------------------- a real server and its database

BENCH_SECRET = "bench-only-secret-key-9f3c1a7e5b2d4c6e8a0b"  # signs the bench's tokens; never a deployment's


async def pg_admin(base_url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server of ``base_url``, outside a transaction."""
    conn = await asyncpg.connect(asyncpg_dsn(base_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def scratch_database(
    base_url: str, workdir: Path, sqlite: bool, prefix: str = "gi_bench"
) -> tuple[str, str | None]:
    """(URL, PostgreSQL database name or None): a fresh database for one bench run; drop it with
    :func:`drop_scratch` (SQLite: a file in ``workdir``)."""
    if sqlite:
        return f"sqlite+aiosqlite:///{workdir}/bench.db", None
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(base_url, f'CREATE DATABASE "{name}"'))
    return make_url(base_url).set(database=name).render_as_string(hide_password=False), name


def drop_scratch(base_url: str, name: str | None) -> None:
    if name:
        asyncio.run(pg_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


#: Every rate limit the service has (app.core.config.RateLimitSettings), as environment variables. A bench
#: sets all of them: one left at its default silently turns part of the load into 429s.
RATE_LIMITS = (
    "GRID_LOGIN_PER_USERNAME",
    "GRID_LOGIN_PER_ADDRESS",
    "GRID_REPORTS_PER_USER",
    "GRID_REPORTS_PER_API_KEY",
)


def service_env(
    database_url: str, storage_dir: Path, *, rate_limit: int = 1_000_000, **extra: str
) -> dict[str, str]:
    """The environment of ``grid-inspector`` for a bench: our database and storage, no stray GRID_ settings,
    and every rate limit at ``rate_limit`` hits per window: by default high enough that the bench measures
    the service, not the limiter, while hits are still counted (as in production); 0 turns them off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRID_")}
    env.update(
        GRID_DATABASE_URL=database_url,
        GRID_STORAGE_DIR=str(storage_dir),
        GRID_SECRET_KEY=BENCH_SECRET,
        **dict.fromkeys(RATE_LIMITS, str(rate_limit)),
    )
    env.update(extra)
    return env


def cli(env: dict[str, str], cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``grid-inspector ARGS`` as an operator runs it; raises with its output when it fails."""
    proc = subprocess.run(
        [str(BIN / "grid-inspector"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"grid-inspector {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def prepare_database(env: dict[str, str], cwd: Path) -> None:
    """Migrate and load the demo data (worker1, worker2, supervisor... with their demo passwords)."""
    cli(env, cwd, "migrate")
    cli(env, cwd, "demo", "--no-history")  # benches reconcile what they file: no demo history


class Service:
    """``grid-inspector serve`` in its own process on a free loopback port, logging to ``log_path``;
    ``command`` (its port given as ``{port}``) runs another server instead, which must answer /healthz."""

    def __init__(
        self,
        env: dict[str, str],
        cwd: Path,
        log_path: Path,
        port: int | None = None,
        workers: int = 1,
        command: list[str] | None = None,
    ) -> None:
        self.env, self.cwd, self.log_path, self.workers = env, cwd, log_path, workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = command or [
            str(BIN / "grid-inspector"),
            "serve",
            "--port",
            "{port}",
            "--workers",
            str(workers),
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait until /healthz answers; the seconds it took."""
        t0 = time.perf_counter()
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [arg.replace("{port}", str(self.port)) for arg in self.command],
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()  # callers start it outside their try: a server that never answered must not outlive them
        raise RuntimeError(f"server did not answer within {timeout:.0f} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, requests in flight die where they are."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (graceful), SIGKILL after ``timeout`` seconds."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def log_errors(log_path: Path) -> list[str]:
    """The server's ERROR lines (JSON log), each as ``logger: message | last line of the traceback``,
    with how many times each occurred, most frequent first."""
    import json
    from collections import Counter

    seen: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.startswith("Traceback"):
                seen["(plain traceback)"] += 1
            continue
        if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
            error = str(entry.get("error") or "").strip().splitlines()
            seen[f"{entry.get('logger')}: {entry.get('message')}" + (f" | {error[-1]}" if error else "")] += 1
    return [f"{n} x {what}" for what, n in seen.most_common()]


# --------------------------------------------------------------------------------------------------- wrk

_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkRun:
    """What one ``wrk --latency`` run printed: requests/s, latency percentiles in ms (50, 75, 90, 99), the
    requests completed, and the failures: non-2xx/3xx answers and socket errors (connect, read, write,
    timeout)."""

    rps: float
    latency_ms: dict[int, float]
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]
    output: str

    @property
    def failed(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def parse_wrk(output: str) -> WrkRun:
    """Read wrk 4's report (the lines "Requests/sec:", "N requests in", the "Latency Distribution" block,
    and, only when there were any, "Non-2xx or 3xx responses:" and "Socket errors:"); ValueError when a
    figure is missing."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    requests = re.search(r"^\s*(\d+) requests in ", output, re.M)
    latency = {
        int(q): float(v) * _WRK_UNITS[u]
        for q, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    if rps is None or requests is None or set(latency) != {50, 75, 90, 99}:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: (connect \d+, read \d+, write \d+, timeout \d+)", output)
    errors = {k: int(v) for k, v in (p.split() for p in sockets.group(1).split(", "))} if sockets else {}
    return WrkRun(
        float(rps.group(1)),
        latency,
        int(requests.group(1)),
        int(non_2xx.group(1)) if non_2xx else 0,
        errors,
        output,
    )


def wrk(
    url: str,
    seconds: float,
    headers: dict[str, str] | None = None,
    threads: int = 2,
    connections: int = 32,
    timeout_s: float = 10.0,
) -> WrkRun:
    """``wrk -tTHREADS -cCONNECTIONS -dSECONDS --latency`` against ``url``. ``timeout_s`` is wrk's request
    timeout (its default, 2 s, would drop the slowest requests from the percentiles and call them socket
    errors). Raises RuntimeError when wrk itself fails (not installed: ``apt-get install -y wrk``)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        f"--timeout={timeout_s:g}s",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    try:
        proc = subprocess.run(
            [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except FileNotFoundError as exc:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited {proc.returncode}: {proc.stderr or proc.stdout}")
    return parse_wrk(proc.stdout)
