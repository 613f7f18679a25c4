"""What a visit is scored as: its point's code, name, type, cell path and responsible unit, frozen when its
round was published (docs/campaign.md "Scores").

A published round answers from the ``frozen_*`` columns its visits got at publishing, so editing a point, moving
it or changing its duty afterwards never changes a published figure or board; an unpublished round follows
the points as they are now. Queries join ``Visit`` to ``Point`` and select these expressions instead of the
point's own columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign.models import Point, Visit

# Every visit of a published round has a frozen type (a point always has one), so it tells frozen from live.
_FROZEN = Visit.frozen_type_code.is_not(None)


@dataclass(frozen=True)
class ScoredAs:
    """Column expressions over ``Visit`` joined to ``Point``: what the visit counts as."""

    code: ColumnElement[Any]
    name: ColumnElement[Any]
    type_code: ColumnElement[Any]
    grid_path: ColumnElement[Any]
    unit_id: ColumnElement[Any]


def _pick(frozen: Any, live: Any) -> ColumnElement[Any]:
    return case((_FROZEN, frozen), else_=live)


SCORED_AS = ScoredAs(
    code=_pick(Visit.frozen_code, Point.code),
    name=_pick(Visit.frozen_name, Point.name),
    type_code=_pick(Visit.frozen_type_code, Point.type_code),
    grid_path=_pick(Visit.frozen_grid_path, Point.grid_path),
    unit_id=_pick(Visit.frozen_unit_id, Point.unit_id),
)


async def freeze(session: AsyncSession, round_id: int, at: dt.datetime) -> int:
    """Copy each visit's point (code, name, type, cell path, responsible unit) onto the visit of round
    ``round_id``; returns how many visits were frozen. One bulk UPDATE by primary key."""
    rows = (
        await session.execute(
            select(Visit.id, Point.code, Point.name, Point.type_code, Point.grid_path, Point.unit_id)
            .join(Point, Point.id == Visit.point_id)
            .where(Visit.round_id == round_id)
        )
    ).all()
    if rows:
        await session.execute(
            update(Visit),
            [
                {
                    "id": r.id,
                    "frozen_code": r.code,
                    "frozen_name": r.name,
                    "frozen_type_code": r.type_code,
                    "frozen_grid_path": r.grid_path,
                    "frozen_unit_id": r.unit_id,
                    "updated_at": at,
                }
                for r in rows
            ],
        )
    return len(rows)
