"""Who may call the category endpoints."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import Allow, Principal

# The catalogue is public, like Open311's services list: apps show it before anyone logs in.
CatalogueReader = Annotated[Principal | None, Depends(Allow(public=True))]
CatalogueEditor = Annotated[Principal, Depends(Allow(Role.admin))]
