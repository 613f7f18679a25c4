"""Who may call the notification routes: admins and supervisors manage every endpoint; a unit's staff read
their own unit's endpoints and deliveries (and nothing of another unit's: 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import Allow, Principal

NotifyManager = Annotated[Principal, Depends(Allow(Role.admin, Role.supervisor))]
NotifyReader = Annotated[Principal, Depends(Allow(Role.admin, Role.supervisor, Role.unit_staff))]


def own_unit(principal: Principal) -> int | None:
    """The unit whose endpoints alone the caller may read; None: every endpoint (the command centre)."""
    if principal.role is Role.unit_staff and principal.user is not None:
        return principal.user.unit_id
    return None
