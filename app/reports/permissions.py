"""Who may call the report endpoints; which cases they see is app.cases.permissions."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, Allow, Principal
from app.cases.models import Case
from app.core.config import Settings
from app.core.db import Database
from app.core.ratelimit import Limit, spend
from app.reports.models import IdempotencyRecord

# Grid workers file reports; dispatchers and supervisors may file what they see themselves.
Reporter = Annotated[
    Principal, Depends(Allow(Role.worker, Role.dispatcher, Role.supervisor, Role.admin, api_keys=True))
]
CaseReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE, api_keys=True))]
_PhotoAdder = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
# Which evidence stage a caller may add photos to: before (report), after the fix (resolution, the assigned
# unit's staff), the on-site check (check).
STAGES_BY_ROLE = {
    Role.worker: {"report", "check"},
    Role.unit_staff: {"resolution"},
    Role.dispatcher: {"report", "resolution", "check"},
    Role.supervisor: {"report", "check"},
    Role.admin: {"report", "resolution", "check"},
}


def may_add_photos(principal: Principal, case: Case, stage: str) -> bool:
    """Whether ``principal`` (who sees ``case``) may add ``stage`` photos to it: by role, and unit staff only
    to a case their unit holds."""
    role = principal.role
    if role is None or stage not in STAGES_BY_ROLE[role]:
        return False
    return role is not Role.unit_staff or (
        principal.user is not None and case.unit_id == principal.user.unit_id
    )


# Deleting a case (spam, a test, personal data filed by mistake) is an admin's act, recorded in its history.
CaseDeleter = Annotated[Principal, Depends(Allow(Role.admin))]


async def spend_report_quota(request: Request, principal: Principal, *, replayable: bool = True) -> None:
    """Count one report against the caller's limit (``GRID_REPORTS_PER_USER`` per user,
    ``GRID_REPORTS_PER_API_KEY`` per third-party key, per ``GRID_REPORTS_WINDOW_S`` seconds);
    429 ``rate_limited`` with ``Retry-After`` beyond it. Shared by the native and the Open311 intake. A
    ``replayable`` request (filing a report) whose ``Idempotency-Key`` was answered before is not counted:
    it gets its first answer. The hit is spent before the body is read, so a request then refused as
    invalid (422) has used it."""
    settings: Settings = request.app.state.settings
    limits = settings.rate_limits
    retry_key = request.headers.get("idempotency-key") if replayable else None
    if retry_key and await _answered_before(request.app.state.db, principal.label, retry_key):
        return  # a retry gets the first answer (docs/api.md), whatever the limit: it files nothing
    if principal.api_key is not None:
        limit = Limit(
            "reports_key", limits.reports_per_api_key, limits.reports_window_s, "reports from this key"
        )
    else:
        limit = Limit(
            "reports_user", limits.reports_per_user, limits.reports_window_s, "reports from this user"
        )
    await spend(request.app.state.db, limit, principal.label, secret=settings.auth.secret_key)


async def _answered_before(db: Database, owner: str, idempotency_key: str) -> bool:
    async with db.sessionmaker() as session:
        return (
            await session.execute(
                select(IdempotencyRecord.id).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key == f"key:{idempotency_key}"
                )
            )
        ).first() is not None


async def _filing_reporter(request: Request, principal: Reporter) -> Principal:
    await spend_report_quota(request, principal)
    return principal


async def _photo_adder(request: Request, principal: _PhotoAdder) -> Principal:
    # Uploads are not replayed: an Idempotency-Key of an answered report must not exempt them.
    await spend_report_quota(request, principal, replayable=False)
    return principal


# A reporter whose report counts against the rate limit (before the body is read or anything written);
# evidence uploads to a case count against the same budget, so photos cannot be poured in another way.
ReportFiler = Annotated[Principal, Depends(_filing_reporter)]
PhotoAdder = Annotated[Principal, Depends(_photo_adder)]
