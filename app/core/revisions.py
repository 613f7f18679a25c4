"""Per-process copies of small, rarely changing tables, refreshed when the database says they changed.

Each cached table set has a name (``grid``, ``categories``, ``units``, ``calendar``) and one row in
``revisions`` whose ``token`` is replaced, in the same transaction, by every change to it. A process
keeps its copy tagged with the token it was read under and reads it again when the database shows
another. The token is random, not a counter: a transaction that bumped it and rolled back leaves the
old token, so a copy read inside that transaction (under the new token) is never taken for the
committed state.

Reading the tokens costs one statement; requests get them for free inside the statement that loads
the caller (app.auth.permissions embeds :func:`token_columns`), and keep them in ``session.info``.
Knows no domain: domains :func:`register` their names.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import Label, RowMapping, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow

T = TypeVar("T")
NAMES: list[str] = []  # every registered name; one row each (created by the migrations)
_KEY = "revisions"  # in session.info


class Revision(Base):
    __tablename__ = "revisions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def register(name: str) -> str:
    """Declare a cached table set (at import time); its row must exist (a migration inserts it)."""
    if name not in NAMES:
        NAMES.append(name)
    return name


def token_columns() -> list[Label[Any]]:
    """One scalar subquery per registered name, labelled ``rev_<name>``, to embed in another select."""
    return [
        select(Revision.token).where(Revision.name == n).scalar_subquery().label(f"rev_{n}") for n in NAMES
    ]


def remember(session: AsyncSession, row: RowMapping | Mapping[str, Any]) -> None:
    """Keep the tokens of a row selected with :func:`token_columns` for the rest of the session."""
    session.info[_KEY] = {n: row[f"rev_{n}"] for n in NAMES}


async def tokens(session: AsyncSession) -> dict[str, str]:
    """The session's tokens: remembered ones, else read now (one statement) and remembered."""
    known = session.info.get(_KEY)
    if known is None or any(n not in known for n in NAMES):
        rows = (await session.execute(select(Revision.name, Revision.token))).all()
        known = session.info[_KEY] = {name: token for name, token in rows}
    return known


async def bump(session: AsyncSession, name: str) -> str:
    """Mark ``name`` changed in the session's transaction; every process re-reads it after the commit."""
    token = str(uuid.uuid4())
    await session.execute(
        update(Revision).where(Revision.name == name).values(token=token, updated_at=utcnow())
    )
    session.info.setdefault(_KEY, {})[name] = token
    return token


def forget(session: AsyncSession) -> None:
    """Drop the remembered tokens (after a commit, another transaction may have changed them)."""
    session.info.pop(_KEY, None)


class Cached(Generic[T]):
    """A per-process copy of one table set, loaded by ``load(session)`` and tagged with its token."""

    def __init__(self, name: str, load: Callable[[AsyncSession], Awaitable[T]]) -> None:
        self.name = register(name)
        self._load = load
        self._value: T | None = None
        self._token: str | None = None

    async def get(self, session: AsyncSession) -> T:
        """The copy for the token the session sees, loaded through ``session`` when it is stale."""
        token = (await tokens(session)).get(self.name)
        if self._value is not None and token is not None and token == self._token:
            return self._value
        # Two requests may load at once after a change; both read the same committed rows, so no lock.
        value = await self._load(session)
        self._value, self._token = value, token
        return value

    def peek(self) -> T | None:
        """The copy as last loaded, whatever its token (None before the first load)."""
        return self._value
