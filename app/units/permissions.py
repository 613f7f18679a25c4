"""Who may call the unit and assignment endpoints, and who reads a unit's contact details."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, STAFF_ROLES, Allow, Principal

UnitReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]  # unit names appear on every case
AssignmentReader = Annotated[Principal, Depends(Allow(Role.dispatcher, Role.supervisor, Role.admin))]
UnitEditor = Annotated[Principal, Depends(Allow(Role.admin))]


def sees_contacts(principal: Principal | None, unit_id: int) -> bool:
    """Whether the caller reads unit ``unit_id``'s ``contact`` and ``phone``: the command centre
    (dispatchers, supervisors, admins) and that unit's own staff. Names are public to staff; how to reach
    a unit is not (a grid worker has no business calling another unit's duty desk)."""
    if principal is None or principal.user is None:
        return False
    role = principal.role
    return role in STAFF_ROLES or (role is Role.unit_staff and principal.user.unit_id == unit_id)
