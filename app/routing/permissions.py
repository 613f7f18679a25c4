"""Who may call the routing endpoints."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import Allow, Principal

RoutingViewer = Annotated[Principal, Depends(Allow(Role.dispatcher, Role.supervisor, Role.admin))]
