"""Who may call the grid endpoints."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, Allow, Principal

GridReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]  # every role draws maps and locates points
GridEditor = Annotated[Principal, Depends(Allow(Role.admin))]
