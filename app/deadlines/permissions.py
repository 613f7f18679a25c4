"""Who may call the calendar routes: every role reads a year as the deadlines count it; admins load one."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, Allow, Principal

CalendarReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
CalendarEditor = Annotated[Principal, Depends(Allow(Role.admin))]
