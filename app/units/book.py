"""Partner units as a process sees them (names, kinds, whether active), without a statement per case.
A per-process copy refreshed when a unit changes (app.core.revisions, name ``units``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import revisions
from app.core.revisions import Cached
from app.units.models import Unit


@dataclass(frozen=True)
class UnitInfo:
    id: int
    name: str
    kind: str
    active: bool


async def _load(session: AsyncSession) -> dict[int, UnitInfo]:
    rows = await session.execute(select(Unit.id, Unit.name, Unit.kind, Unit.active))
    return {r.id: UnitInfo(r.id, r.name, r.kind, r.active) for r in rows}


UNITS = Cached("units", _load)


async def units(session: AsyncSession) -> dict[int, UnitInfo]:
    """Every unit by id, as of the revision ``session`` sees (no statement when it is current)."""
    return await UNITS.get(session)


async def changed(session: AsyncSession) -> None:
    """Record in the session's transaction that units changed (every process re-reads them)."""
    await revisions.bump(session, UNITS.name)
