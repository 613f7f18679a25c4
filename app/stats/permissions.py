"""Who may ask for figures: every staff role, each over the cases they may see (app.cases.permissions),
so a unit's staff get their own unit's figures and a worker those of their cells; never API keys."""

from typing import Annotated

from fastapi import Depends

from app.auth.permissions import EVERY_ROLE, Allow, Principal

FigureReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
