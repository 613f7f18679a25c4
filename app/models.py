"""Imports every domain's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.auth.models import ApiKey, User, WorkerGrid
from app.categories.models import Category, CategoryMajor
from app.core.db import Base
from app.grids.models import GridCell, GridRevision
from app.units.models import Assignment, Unit

__all__ = ["ApiKey", "Assignment", "Base", "Category", "CategoryMajor", "GridCell", "GridRevision", "Unit",
           "User", "WorkerGrid"]
