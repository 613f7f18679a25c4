"""Who may call the report endpoints; which cases they see is app.reports.access."""

from typing import Annotated

from fastapi import Depends

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, Allow, Principal

# Grid workers file reports; dispatchers and supervisors may file what they see themselves.
Reporter = Annotated[Principal, Depends(Allow(Role.worker, Role.dispatcher, Role.supervisor, Role.admin,
                                                  api_keys=True))]
CaseReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE, api_keys=True))]
PhotoAdder = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
# Deleting a case (spam, a test, personal data filed by mistake) is an admin's act, recorded in its history.
CaseDeleter = Annotated[Principal, Depends(Allow(Role.admin))]
