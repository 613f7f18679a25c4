"""Imports every domain's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.auth.models import ApiKey, User, WorkerGrid
from app.categories.models import Category, CategoryMajor
from app.core.db import Base
from app.core.ratelimit import RateCounter
from app.grids.models import GridCell, GridRevision
from app.photos.models import Photo
from app.reports.models import Alert, Case, CaseContact, CaseEvent, IdempotencyRecord
from app.units.models import Assignment, Unit
from app.workflow.models import CalendarDay

__all__ = ["Alert", "ApiKey", "Assignment", "Base", "CalendarDay", "Case", "CaseContact", "CaseEvent", "Category", "CategoryMajor", "GridCell",
           "GridRevision", "IdempotencyRecord", "Photo", "RateCounter", "Unit", "User", "WorkerGrid"]
