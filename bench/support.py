"""Small helpers shared by the benchmarks: the project's root and the venv's bin directory, a timestamped
log line, asyncpg DSNs and PostgreSQL's binary timestamps, a free local port, a process's RSS, and the
PostgreSQL settings line the query bench prints. Imported as a sibling module (``bench/`` is on sys.path
when a script there runs).
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import asyncpg
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


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def server_settings(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        version = (await conn.fetchval("SHOW server_version")).split()[0]
        names = ["shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit", "plan_cache_mode"]
        values = [f"{n}={await conn.fetchval(f'SHOW {n}')}" for n in names]
    finally:
        await conn.close()
    return f"PostgreSQL {version}: " + ", ".join(values)
