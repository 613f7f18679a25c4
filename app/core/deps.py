"""Request-scoped dependencies shared by every domain: the session and list paging."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BeforeValidator, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError, PayloadTooLarge
from app.core.events import EventBus
from app.core.i18n import Text

log = logging.getLogger("grid_inspector.requests")


class Hooks:
    """What the request's transaction carries besides its rows (docs/architecture.md "Transactions").

    ``events`` are the domain events its actions returned (app.core.events): handed to their handlers
    just before the commit, in the same transaction. ``after_commit`` callables run once the commit
    succeeded (e.g. making a photo's display copy); ``on_rollback`` ones run when it did not (e.g.
    sweeping files written for rows that were never kept). Both are async callables without
    arguments; their failures are logged, never raised.
    """

    def __init__(self) -> None:
        self.events: list[object] = []
        self.after_commit: list[Callable[[], Awaitable[None]]] = []
        self.on_rollback: list[Callable[[], Awaitable[None]]] = []

    def collect(self, events: Iterable[object]) -> None:
        self.events.extend(events)

    async def publish(self, bus: EventBus, session: AsyncSession) -> None:
        """Hand the collected events to their handlers in ``session``'s transaction (before its commit)."""
        events, self.events = self.events, []
        await bus.publish(session, events)

    @staticmethod
    async def run(callbacks: list[Callable[[], Awaitable[None]]]) -> None:
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                log.exception("transaction hook failed")


def hooks(request: Request) -> Hooks:
    if not hasattr(request.state, "tx_hooks"):
        request.state.tx_hooks = Hooks()
    return request.state.tx_hooks


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    # The request owns the transaction: services only flush; one commit here, after the
    # endpoint returned and before the response is sent (scope="function"), so a failed commit
    # is the client's error response, never a success that was not kept.
    db: Database = request.app.state.db
    tx = hooks(request)
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    async with (db.write_sessionmaker if writes else db.sessionmaker)() as session:
        session.info["writes"] = writes
        try:
            yield session
            await tx.publish(request.app.state.bus, session)
            await session.commit()
        except BaseException:
            await session.rollback()
            await Hooks.run(tx.on_rollback)
            raise
    await Hooks.run(tx.after_commit)


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


async def release(session: AsyncSession) -> None:
    """End the request's transaction so far (reads only, e.g. authentication) before slow work.

    On SQLite a writing request holds the database's write lock from its first statement; photo
    decoding must not happen under it, or every other writer waits for it. Call it only before the
    request's own writes (bookkeeping such as an API key's last use may be committed by it); the
    next statement begins a new transaction. A reading request's session takes no lock, and a session
    that is not a request's (the command line, a batch load) owns its whole transaction: nothing to do.
    """
    if session.info.get("writes") is True:
        await session.commit()


async def _hooks(request: Request) -> Hooks:
    return hooks(request)


HooksDep = Annotated[Hooks, Depends(_hooks)]


# Dependencies are ``async def`` even when they never await: FastAPI runs a plain ``def`` dependency in
# its thread pool, a hop to another thread (and a GIL hand-over) on every request for a dictionary read.
async def _settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


class InvalidCursor(AppError):
    status, code, title = 400, "invalid_cursor", "The cursor is not one this service issued"
    title_zh = "cursor 不是本服务签发的"


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    if not isinstance(value, dict):
        raise InvalidCursor()
    return value


@dataclass(frozen=True)
class Page:
    """``?limit=`` (1..200, default 50) and the opaque ``?cursor=`` of docs/api.md's list convention."""

    limit: int
    after_id: int | None
    state: dict[str, Any] = field(default_factory=dict)  # what else the endpoint keeps across pages

    def next_cursor(self, rows: list[Any], **state: Any) -> str | None:
        """The cursor after ``rows`` when the page came back full (the query asked for limit + 1)."""
        if len(rows) <= self.limit:
            return None
        return encode_cursor({**state, "after": rows[self.limit - 1].id})


async def _page(
    limit: Annotated[int, Query(ge=1, le=200, description="items per page, 1 to 200")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="the `next_cursor` of the previous page, as given (opaque)"),
    ] = None,
) -> Page:
    after, state = None, {}
    if cursor:
        state = decode_cursor(cursor)
        after = state.pop("after", None)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_DB_ID:
            raise InvalidCursor()
    return Page(limit=limit, after_id=after, state=state)


PageDep = Annotated[Page, Depends(_page)]


MAX_DB_ID = 2_147_483_647  # INTEGER primary keys; a larger id is a 422, never a database error


def canonical_number(value: Any) -> Any:
    """A path's number in its one spelling (ASCII digits, no sign, blanks, leading zeros, ``_`` or ``.0``):
    pydantic's lax int would read ``/users/1_0`` as user 10 and `` 1``/``+1``/``1.0`` as 1, so one object
    would answer at many URLs and a typo could act on another object."""
    if isinstance(value, str) and not re.fullmatch(r"[1-9][0-9]{0,18}|0", value):
        raise ValueError("must be written as plain decimal digits")
    return value


# An id in a path: 1..MAX_DB_ID in canonical digits, else 422.
IdPath = Annotated[
    int,
    BeforeValidator(canonical_number),
    Path(ge=1, le=MAX_DB_ID, description="the id, in plain decimal digits (no sign or leading zero)"),
]
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID, strict=True)]  # strict: true is not 1


class BodyTimeout(AppError):
    status, code, title = 408, "request_timeout", "The request body stopped arriving"
    title_zh = "请求内容中途停止传送"


def stalled(idle_seconds: float) -> Text:
    return Text(f"{idle_seconds:.0f} 秒内没有收到数据", f"no data for {idle_seconds:.0f} s")


def _too_large(what: str, limit: int) -> Text:
    return Text(f"{what}最多 {limit:,} 字节", f"{what} is limited to {limit:,} bytes")


BODY_MIN_BYTES_PER_S = 4096  # PhotoSettings.body_min_bytes_per_s's default


async def timed_chunks(
    stream: AsyncIterator[bytes], idle_seconds: float, min_bytes_per_s: float = BODY_MIN_BYTES_PER_S
) -> AsyncIterator[bytes]:
    """The chunks of a request body, with 408 :class:`BodyTimeout` when none arrives for ``idle_seconds``
    or when the whole body runs late: a body may take ``idle_seconds`` plus one second for every
    ``min_bytes_per_s`` bytes it has sent, so a client that trickles a byte now and then (never idle
    for long) is cut off too, while a large upload on a slow phone has time in proportion to its size."""
    loop = asyncio.get_running_loop()
    started, received = loop.time(), 0
    chunks = stream.__aiter__()
    while True:
        allowed = idle_seconds + received / min_bytes_per_s - (loop.time() - started)
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), timeout=max(0.0, min(idle_seconds, allowed)))
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            if allowed < idle_seconds:
                raise BodyTimeout(
                    Text(
                        f"请求内容的平均传送速度低于每秒 {min_bytes_per_s:,.0f} 字节",
                        f"the body arrived slower than {min_bytes_per_s:,.0f} bytes/s on average",
                    )
                ) from exc
            raise BodyTimeout(stalled(idle_seconds)) from exc
        received += len(chunk)
        yield chunk


async def read_body(
    request: Request, limit: int, what: str = "the request body", idle_seconds: float | None = None
) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``limit`` bytes (declared or streamed),
    and with 408 when no byte arrives for ``idle_seconds`` (default: PhotoSettings.body_idle_seconds)
    or the body runs late (:func:`timed_chunks`, at PhotoSettings.body_min_bytes_per_s)."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise PayloadTooLarge(_too_large(what, limit))
    photos = request.app.state.settings.photos
    body = bytearray()
    idle = photos.body_idle_seconds if idle_seconds is None else idle_seconds
    async for chunk in timed_chunks(request.stream(), idle, photos.body_min_bytes_per_s):
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(_too_large(what, limit))
    return bytes(body)
