"""A case's history (append-only): one row shape for every step, whoever took it (a user, an API key or the
service itself), written only here and read only here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.auth.permissions import Principal
from app.cases.models import Case, CaseEvent
from app.core.db import utcnow


def new_event(
    case: Case,
    action: str,
    actor: Principal | None,
    from_status: str | None,
    to_status: str | None,
    **extra: Any,
) -> CaseEvent:
    """A history row for ``case`` (not yet added to a session); ``actor`` None is the service itself."""
    return CaseEvent(
        case_id=case.id,
        action=action,
        actor_id=actor.user.id if actor and actor.user else None,
        actor_kind="system" if actor is None else ("api_key" if actor.api_key else "user"),
        from_status=from_status,
        to_status=to_status,
        **({"created_at": utcnow()} | extra),
    )


async def events_of(session: AsyncSession, case_id: int) -> list[tuple[CaseEvent, User | None]]:
    """The case's history, oldest first, each row with the user who took it (None: the service or a key)."""
    rows = await session.execute(
        select(CaseEvent, User)
        .outerjoin(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id)
    )
    return [(e, u) for e, u in rows.all()]
