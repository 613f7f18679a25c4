"""Imports every domain's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from app.auth.models import ApiKey, User, WorkerGrid
from app.campaign.models import (
    Board,
    Edition,
    Item,
    ItemDuty,
    NegativeEvent,
    Notice,
    NoticeItem,
    Point,
    PointType,
    Result,
    Round,
    Visit,
    VisitPhoto,
)
from app.cases.models import Alert, Case, CaseContact, CaseEvent
from app.categories.models import Category, CategoryMajor
from app.core.db import Base
from app.core.ratelimit import RateCounter
from app.core.revisions import Revision
from app.deadlines.models import CalendarDay
from app.grids.models import GridCell
from app.notifications.models import Attempt, DeadlineNotice, Delivery, Endpoint, Event
from app.photos.models import Photo
from app.reports.models import IdempotencyRecord
from app.units.models import Assignment, Unit

__all__ = [
    "Alert",
    "Attempt",
    "DeadlineNotice",
    "Delivery",
    "Endpoint",
    "Event",
    "ApiKey",
    "Assignment",
    "Base",
    "CalendarDay",
    "Case",
    "CaseContact",
    "CaseEvent",
    "Board",
    "Edition",
    "Item",
    "ItemDuty",
    "NegativeEvent",
    "Notice",
    "NoticeItem",
    "Point",
    "PointType",
    "Result",
    "Round",
    "Visit",
    "VisitPhoto",
    "Category",
    "CategoryMajor",
    "GridCell",
    "Revision",
    "IdempotencyRecord",
    "Photo",
    "RateCounter",
    "Unit",
    "User",
    "WorkerGrid",
]
