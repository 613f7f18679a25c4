"""Rate limits kept in the database, so that every API process behind a load balancer counts the same hits.

A limit is ``hits`` per ``window_s`` seconds for one key (a username, a client address, a user, an
API key). Counting follows the sliding-window estimate used by Cloudflare and NGINX Plus: the
current fixed window's count plus the previous window's count weighted by how much of it still lies
inside the last ``window_s`` seconds. It never lets through twice the limit at a window boundary, as a
plain fixed window does, and costs one upsert and one read of two rows.

Each hit is counted in a short transaction of its own, committed before the request writes anything,
so that an admitted request counts even when it then fails (a wrong password counts) and, on SQLite, no
counter write waits behind a request holding the write lock. A refused hit is not counted, so a client
that waits the ``Retry-After`` it was given gets in. Keys are stored as a keyed
hash, never as the username or address itself.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, Database
from app.core.errors import AppError
from app.core.i18n import Text

#: Counters older than this are deleted now and then by the hits themselves (no cron job needed).
KEEP_S = 24 * 3600


class RateCounter(Base):
    """Hits of one key in one fixed window (``window_start`` in Unix seconds, a multiple of the window)."""

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    hits: Mapped[int] = mapped_column(Integer)


# The counted things of the limits (Limit.what), as a zh-CN message names them.
WHAT_ZH = {
    "login attempts": "登录尝试",
    "login attempts for this account": "该账号的登录尝试",
    "reports from this key": "该 API key 的上报",
    "reports from this user": "您的上报",
}


class RateLimited(AppError):
    """429 ``rate_limited`` with ``Retry-After`` (whole seconds, RFC 9110 §10.2.3)."""

    status, code, title = 429, "rate_limited", "Too many requests"
    title_zh = "请求过于频繁"

    def __init__(self, what: str, retry_after_s: float) -> None:
        wait = max(1, math.ceil(retry_after_s))
        super().__init__(
            Text(
                f"{WHAT_ZH.get(what, what)}过于频繁，请 {wait} 秒后再试",
                f"Too many {what}; try again in {wait} s",
            ),
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )


@dataclass(frozen=True)
class Limit:
    """``hits`` allowed per ``window_s`` seconds; ``hits`` 0 turns the limit off. ``what`` names the
    counted thing in the error message (e.g. "login attempts")."""

    name: str
    hits: int
    window_s: int
    what: str

    def bucket(self, key: str, secret: str) -> str:
        digest = hashlib.blake2b(
            key.encode("utf-8", "surrogatepass"), digest_size=16, key=secret.encode()[:64]
        )
        return f"{self.name}:{digest.hexdigest()}"


async def spend(db: Database, limit: Limit, key: str, *, secret: str, now: float | None = None) -> None:
    """Count one hit of ``key`` against ``limit``; raise :class:`RateLimited` when the estimate over the
    last ``window_s`` seconds exceeds ``limit.hits``.

    ``secret`` keys the hash of ``key`` (the service's secret key). ``now`` is Unix seconds (tests).
    """
    if limit.hits <= 0:
        return
    now = time.time() if now is None else now
    window = int(now // limit.window_s) * limit.window_s
    bucket = limit.bucket(key, secret)
    insert = pg_insert if db.dialect == "postgresql" else sqlite_insert
    upsert = insert(RateCounter).values(bucket=bucket, window_start=window, hits=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=[RateCounter.bucket, RateCounter.window_start],
        set_={"hits": upsert.excluded.hits + RateCounter.hits},
    )
    async with db.write_sessionmaker() as session:
        current = (await session.execute(upsert.returning(RateCounter.hits))).scalar_one()
        previous = (
            await session.execute(
                select(RateCounter.hits).where(
                    RateCounter.bucket == bucket, RateCounter.window_start == window - limit.window_s
                )
            )
        ).scalar() or 0
        weight = 1 - (now - window) / limit.window_s  # of the previous window still inside the last window_s
        refused = previous * weight + current > limit.hits
        if refused:
            # A refused hit is taken back: it did nothing (no password was checked, nothing was filed), and
            # counting it would keep a client that waits Retry-After out for ever.
            await session.execute(
                update(RateCounter)
                .where(RateCounter.bucket == bucket, RateCounter.window_start == window)
                .values(hits=RateCounter.hits - 1)
            )
            current -= 1
        if random.random() < 1 / 256:
            await session.execute(delete(RateCounter).where(RateCounter.window_start < now - KEEP_S))
        await session.commit()
    if refused:
        raise RateLimited(limit.what, retry_after(limit, previous, current, now))


def retry_after(limit: Limit, previous: int, current: int, now: float) -> float:
    """Seconds until one more hit fits: the previous window's share must fall to make room, or, when the
    current window is full, the next window must start and this one's share fall below the limit."""
    window = int(now // limit.window_s) * limit.window_s
    if current + 1 <= limit.hits and previous:
        weight_needed = (limit.hits - current - 1) / previous  # the previous window's weight that fits
        return (1 - weight_needed) * limit.window_s - (now - window)
    return window + limit.window_s - now + limit.window_s * (1 - (limit.hits - 1) / max(current, 1))
