"""``GET /api/v1/reports``: the cases a caller may see, filtered, in a stable keyset order, and the
phones' delta sync over the same list.

Delta sync (``updated_since``): every case that changed since then and that the caller may see, in
the order of their changes (``updated_at``, then id), plus a tombstone ``{"id", "removed": true}`` for each deleted case they could see. Each page
carries ``sync_since`` (so does a plain list: a phone's first full listing starts its syncs), the
``updated_since`` for the next sync once every page is read: the pass's
start minus ``GRID_SYNC_OVERLAP_S``, so a case whose transaction committed after the phone
read past it comes again next time. A case that changes during a pass comes again later in it
(clients keep the highest ``version`` per id). When the caller's own
view changed (role, unit or patrolled cells) after ``updated_since``, cases may have left it without
changing: 410 ``sync_reset_required``, and the phone lists again without ``updated_since`` and keeps
that listing's ``sync_since``. Filters a case can stop matching (status, light, overdue, unit) are
refused with ``updated_since``: a sync could not tell the phone that a case left the filter.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Protocol

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.models import Case, Status, status_label
from app.cases.pending import pending_of
from app.cases.permissions import visible
from app.cases.schemas import PendingOut
from app.categories.book import Book, book
from app.core.db import UTCDateTime, utcnow
from app.core.deps import InvalidCursor, Page, PageDep, SessionDep, SettingsDep
from app.core.errors import AppError, ValidationProblem, declare
from app.core.i18n import LangDep, Text
from app.core.openapi import errors
from app.core.schemas import in_range
from app.core.times import rfc3339
from app.deadlines import clock
from app.deadlines.cache import CalendarDep
from app.deadlines.calendar import WorkCalendar
from app.grids.directory import Directory, directory
from app.reports.filters import CaseFilter, case_filters
from app.reports.permissions import CaseReader
from app.units.book import UnitInfo, units

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
MAX_PASS = dt.timedelta(days=1)  # a pass's start older than this in a cursor is not believed
ListFilter = Annotated[CaseFilter, Depends(case_filters(frozenset({"limit", "cursor"})))]


class SyncReset(AppError):
    status, code, title = (
        410,
        "sync_reset_required",
        "Your view of the cases changed: sync again from the start",
    )
    title_zh = "您可查看的案件范围已变化：请从头同步"


class CaseItem(BaseModel):
    """What a phone's list shows; the full case is at ``GET /api/v1/reports/{id}``."""

    id: int
    removed: Literal[False] = False
    tracking_code: str
    status: Status
    status_label: str
    category_code: str
    category_name: str
    lat: float
    lon: float
    grid_code: str
    unit_name: str | None
    priority: str
    due_at: dt.datetime | None
    deadline_met: bool | None
    light: Literal["green", "yellow", "red", "paused"] | None
    pending: list[PendingOut] = Field(description="what waits for a dispatcher: the approval queue")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class Tombstone(BaseModel):
    """A case the caller had in their view that is gone (deleted), in a delta sync."""

    id: int
    removed: Literal[True] = True
    updated_at: dt.datetime


class CaseList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 1,
                        "tracking_code": "20261207-PMH4EY",
                        "status": "in_progress",
                        "status_label": "处置中",
                        "category_code": "09009",
                        "category_name": "机动车乱停放",
                        "lat": 35.5428,
                        "lon": 106.6652,
                        "removed": False,
                        "grid_code": "620802002001279",
                        "unit_name": "平凉市公安局交通警察支队崆峒大队",
                        "priority": "normal",
                        "due_at": "2026-12-08T02:30:00Z",
                        "deadline_met": None,
                        "light": "green",
                        "pending": [
                            {
                                "kind": "extension",
                                "hours": 4,
                                "reason": "车主联系不上，需等待拖车",
                                "requested_by": {
                                    "id": 7,
                                    "username": "jiaojing",
                                    "display_name": "交警大队 staff",
                                    "unit": {"id": 2, "name": "平凉市公安局交通警察支队崆峒大队"},
                                },
                                "requested_at": "2026-12-07T12:21:14.067652Z",
                            }
                        ],
                        "version": 5,
                        "created_at": "2026-12-07T12:21:06.873031Z",
                        "updated_at": "2026-12-07T12:21:14.067652Z",
                    },
                    {"id": 3, "removed": True, "updated_at": "2026-12-07T12:30:00.302016Z"},
                ],
                "next_cursor": None,
                "sync_since": "2026-12-07T12:18:16.397604Z",
            }
        }
    )

    items: list[CaseItem | Tombstone]
    next_cursor: str | None
    sync_since: dt.datetime | None = None


class Labels:
    """Names for cases (cell codes, unit names, category names) from the per-process copies of the grid,
    the units and the catalogue (app.core.revisions): no statement when they are current."""

    def __init__(self, cells: Directory, all_units: dict[int, UnitInfo], catalogue: Book) -> None:
        self.cells, self.units, self.catalogue = cells, all_units, catalogue

    @classmethod
    async def load(cls, session: AsyncSession) -> Labels:
        return cls(await directory(session), await units(session), await book(session))

    def cell_code(self, case: Listed) -> str:
        return self.cells.by_id[case.grid_id].code

    def unit_name(self, unit_id: int | None) -> str | None:
        unit = self.units.get(unit_id) if unit_id is not None else None
        return unit.name if unit else None

    def category_name(self, code: str, lang: str) -> str:
        return self.catalogue.categories[code].name(lang)

    def item(
        self,
        case: Listed,
        lang: str,
        calendar: WorkCalendar,
        now: dt.datetime,
        pending: list[PendingOut] | None = None,
    ) -> CaseItem:
        return CaseItem(
            id=case.id,
            tracking_code=case.tracking_code,
            status=Status(case.status),
            status_label=status_label(case.status, lang),
            category_code=case.category_code,
            category_name=self.category_name(case.category_code, lang),
            lat=case.lat,
            lon=case.lon,
            grid_code=self.cell_code(case),
            unit_name=self.unit_name(case.unit_id),
            priority=case.priority,
            due_at=case.due_at,
            deadline_met=case.resolved_on_time if case.resolved_at is not None else None,
            light=clock.case_light(case, calendar, now),
            pending=pending or [],
            version=case.version,
            created_at=case.created_at,
            updated_at=case.updated_at,
        )


# What a list item shows, its light and its pending requests are read from: a page selects these columns as
# plain rows rather than whole cases (hydrating 50 ORM objects of 60 columns was most of a page's time).
ITEM_COLUMNS = (
    Case.id,
    Case.tracking_code,
    Case.status,
    Case.category_code,
    Case.lat,
    Case.lon,
    Case.grid_id,
    Case.unit_id,
    Case.priority,
    Case.due_at,
    Case.yellow_at,
    Case.clock_started_at,
    Case.resolved_at,
    Case.resolved_on_time,
    Case.pending_extension_hours,
    Case.pending_hold,
    Case.return_count,
    Case.rework_count,
    Case.version,
    Case.created_at,
    Case.updated_at,
    Case.deleted_at,
)


class Listed(Protocol):
    """A case as a list reads it (a row of :data:`ITEM_COLUMNS`, or a whole :class:`Case`)."""

    id: int
    tracking_code: str
    status: str
    category_code: str
    lat: float
    lon: float
    grid_id: int
    unit_id: int | None
    priority: str
    due_at: dt.datetime | None
    yellow_at: dt.datetime | None
    clock_started_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolved_on_time: bool | None
    pending_extension_hours: int | None
    pending_hold: bool
    return_count: int
    rework_count: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


async def page_of_cases(
    session: AsyncSession, condition: ColumnElement[bool], after_id: int | None, limit: int
) -> list[Case]:
    """Up to ``limit + 1`` cases matching ``condition`` with ids above ``after_id``, by id."""
    query = select(Case).where(condition).order_by(Case.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Case.id > after_id)
    return list((await session.execute(query)).scalars())


async def page_of_items(
    session: AsyncSession, condition: ColumnElement[bool], after_id: int | None, limit: int
) -> list[Listed]:
    """:func:`page_of_cases` as list rows (:data:`ITEM_COLUMNS`)."""
    query = select(*ITEM_COLUMNS).where(condition).order_by(Case.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Case.id > after_id)
    return list((await session.execute(query)).all())


def _instant(raw: object) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
        return in_range(value) if value.tzinfo is not None else None
    except ValueError:
        return None


async def page_of_changes(session: AsyncSession, condition: ColumnElement[bool], page: Page) -> list[Listed]:
    """Up to ``limit + 1`` changed cases in the order they changed, ``(updated_at, id)``, after the
    cursor's position: a case that changes again while a phone pages comes again, later in the pass."""
    query = select(*ITEM_COLUMNS).where(condition).order_by(Case.updated_at, Case.id).limit(page.limit + 1)
    if page.after_id is not None:
        after = _instant(page.state.get("u"))
        if after is None:
            raise InvalidCursor()
        query = query.where(
            tuple_(Case.updated_at, Case.id) > tuple_(literal(after, UTCDateTime()), page.after_id)
        )
    return list((await session.execute(query)).all())


def _check_scope(principal: Principal, since: dt.datetime) -> None:
    changed = principal.user.scope_changed_at if principal.user else None
    if changed is not None and changed >= since:
        raise SyncReset(
            Text(
                f"您可查看的案件范围在 {rfc3339(changed)}（updated_since 之后）发生了变化；"
                "请不带 updated_since 重新同步，并替换本地副本",
                f"what you may see changed at {rfc3339(changed)}, after updated_since; "
                "sync again without updated_since and replace your copy",
            ),
            changed_at=rfc3339(changed),
        )


@router.get(
    "",
    response_model=CaseList,
    summary="Cases you may see, filtered (keyset pages); delta sync",
    responses=errors(InvalidCursor, SyncReset, declare(ValidationProblem, "unsupported_filter")),
)
async def list_reports(
    principal: CaseReader,
    session: SessionDep,
    page: PageDep,
    lang: LangDep,
    calendar: CalendarDep,
    settings: SettingsDep,
    filters: ListFilter,
) -> CaseList:
    """Oldest first by id, so rows filed while paging are never skipped or repeated. ``status`` may repeat;
    ``light`` is the traffic light now; ``category`` is a 5-digit code or a 2-digit major class; ``grid``
    is a cell and everything below it. A filter this release does not know is refused (422
    ``unsupported_filter``), never silently ignored. With ``updated_since`` this is the phones' delta
    sync (module docstring): deleted cases come as tombstones and ``sync_since`` says where to resume;
    410 ``sync_reset_required`` when the caller's view changed since."""
    now = utcnow()
    started = _instant(page.state.get("sync"))
    sync_start = started if started is not None and now - MAX_PASS <= started <= now else now
    sync_since = sync_start - dt.timedelta(seconds=settings.reports.sync_overlap_s)
    scope_changed = principal.user.scope_changed_at if principal.user else None
    if scope_changed is not None and scope_changed < sync_start:
        # After a reset the next sync must not reach back before the change, or it would be refused again.
        sync_since = max(sync_since, scope_changed + dt.timedelta(microseconds=1))
    if filters.updated_since is None:
        condition = and_(await visible(session, principal, after_id=page.after_id), filters.condition)
        cases = await page_of_items(session, condition, page.after_id, page.limit)
        labels = await Labels.load(session)
        waiting = await pending_of(session, cases[: page.limit])
        return CaseList(
            items=[labels.item(c, lang, calendar, now, waiting.get(c.id)) for c in cases[: page.limit]],
            next_cursor=page.next_cursor(cases, sync=sync_start.isoformat()),
            sync_since=sync_since,
        )
    _check_scope(principal, filters.updated_since)
    condition = and_(await visible(session, principal, deleted=True), filters.condition)
    cases = await page_of_changes(session, condition, page)
    shown = cases[: page.limit]
    labels = await Labels.load(session)
    waiting = await pending_of(session, [c for c in shown if c.deleted_at is None])
    items: list[CaseItem | Tombstone] = [
        Tombstone(id=c.id, updated_at=c.updated_at)
        if c.deleted_at is not None
        else labels.item(c, lang, calendar, now, waiting.get(c.id))
        for c in shown
    ]
    last = shown[-1].updated_at.isoformat() if shown else None
    return CaseList(
        items=items,
        next_cursor=page.next_cursor(cases, sync=sync_start.isoformat(), u=last),
        sync_since=sync_since,
    )
