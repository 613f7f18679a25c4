"""Who may call the unit and assignment endpoints."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, Allow, Principal

UnitReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]  # unit names appear on every case
AssignmentReader = Annotated[Principal, Depends(Allow(Role.dispatcher, Role.supervisor, Role.admin))]
UnitEditor = Annotated[Principal, Depends(Allow(Role.admin))]
