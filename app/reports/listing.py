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
from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.categories.models import Category
from app.core.db import UTCDateTime, utcnow
from app.core.deps import InvalidCursor, Page, PageDep, SessionDep, SettingsDep
from app.core.errors import AppError
from app.core.i18n import LangDep
from app.core.schemas import in_range
from app.grids.models import GridCell
from app.reports.access import visible
from app.reports.filters import CaseFilter, case_filters
from app.reports.models import STATUS_LABELS_ZH, Case, Status
from app.reports.permissions import CaseReader
from app.units.models import Unit
from app.workflow import clock
from app.workflow.calendar import WorkCalendar
from app.workflow.calendar_data import CalendarDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
MAX_PASS = dt.timedelta(days=1)  # a pass's start older than this in a cursor is not believed
ListFilter = Annotated[CaseFilter, Depends(case_filters(frozenset({"limit", "cursor"})))]


class SyncReset(AppError):
    status, code, title = 410, "sync_reset_required", "Your view of the cases changed: sync again from the start"


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
    light: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class Tombstone(BaseModel):
    """A case the caller had in their view that is gone (deleted), in a delta sync."""

    id: int
    removed: Literal[True] = True
    updated_at: dt.datetime


class CaseList(BaseModel):
    items: list[CaseItem | Tombstone]
    next_cursor: str | None
    sync_since: dt.datetime | None = None


class Labels:
    """Names for a batch of cases (cell codes, unit names, category names), one query per kind."""

    def __init__(self) -> None:
        self.cells: dict[int, str] = {}
        self.units: dict[int, str] = {}
        self.categories: dict[str, tuple[str, str]] = {}

    async def load(self, session: AsyncSession, cases: Sequence[Case]) -> Labels:
        cell_ids = {c.grid_id for c in cases} - self.cells.keys()
        unit_ids = {c.unit_id for c in cases if c.unit_id} - self.units.keys()
        codes = {c.category_code for c in cases} - self.categories.keys()
        if cell_ids:
            self.cells.update((await session.execute(select(GridCell.id, GridCell.code)
                                                     .where(GridCell.id.in_(cell_ids)))).all())
        if unit_ids:
            self.units.update((await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))))
                              .all())
        if codes:
            for code, zh, en in (await session.execute(select(Category.code, Category.name_zh, Category.name_en)
                                                       .where(Category.code.in_(codes)))).all():
                self.categories[code] = (zh, en)
        return self

    def item(self, case: Case, lang: str, calendar: WorkCalendar, now: dt.datetime) -> CaseItem:
        status = Status(case.status)
        return CaseItem(id=case.id, tracking_code=case.tracking_code, status=status,
                        status_label=STATUS_LABELS_ZH[status] if lang == "zh" else status.value,
                        category_code=case.category_code,
                        category_name=self.categories[case.category_code][0 if lang == "zh" else 1],
                        lat=case.lat, lon=case.lon, grid_code=self.cells[case.grid_id],
                        unit_name=self.units.get(case.unit_id or 0), priority=case.priority, due_at=case.due_at,
                        light=clock.case_light(case, calendar, now), version=case.version,
                        created_at=case.created_at, updated_at=case.updated_at)


async def page_of_cases(session: AsyncSession, condition: ColumnElement[bool], after_id: int | None,
                        limit: int) -> list[Case]:
    """Up to ``limit + 1`` cases matching ``condition`` with ids above ``after_id``, by id."""
    query = select(Case).where(condition).order_by(Case.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Case.id > after_id)
    return list((await session.execute(query)).scalars())


def _instant(raw: object) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
        return in_range(value) if value.tzinfo is not None else None
    except ValueError:
        return None


async def page_of_changes(session: AsyncSession, condition: ColumnElement[bool], page: Page) -> list[Case]:
    """Up to ``limit + 1`` changed cases in the order they changed, ``(updated_at, id)``, after the
    cursor's position: a case that changes again while a phone pages comes again, later in the pass."""
    query = select(Case).where(condition).order_by(Case.updated_at, Case.id).limit(page.limit + 1)
    if page.after_id is not None:
        after = _instant(page.state.get("u"))
        if after is None:
            raise InvalidCursor()
        query = query.where(tuple_(Case.updated_at, Case.id) > tuple_(literal(after, UTCDateTime()), page.after_id))
    return list((await session.execute(query)).scalars())


def _check_scope(principal: Principal, since: dt.datetime) -> None:
    changed = principal.user.scope_changed_at if principal.user else None
    if changed is not None and changed >= since:
        raise SyncReset(f"what you may see changed at {changed.isoformat()}, after updated_since; "
                        "sync again without updated_since and replace your copy", changed_at=changed.isoformat())


@router.get("", response_model=CaseList, summary="Cases you may see, filtered (keyset pages); delta sync")
async def list_reports(principal: CaseReader, session: SessionDep, page: PageDep, lang: LangDep,
                       calendar: CalendarDep, settings: SettingsDep, filters: ListFilter) -> CaseList:
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
        cases = await page_of_cases(session, condition, page.after_id, page.limit)
        labels = await Labels().load(session, cases[: page.limit])
        return CaseList(items=[labels.item(c, lang, calendar, now) for c in cases[: page.limit]],
                        next_cursor=page.next_cursor(cases, sync=sync_start.isoformat()), sync_since=sync_since)
    _check_scope(principal, filters.updated_since)
    condition = and_(await visible(session, principal, deleted=True), filters.condition)
    cases = await page_of_changes(session, condition, page)
    shown = cases[: page.limit]
    labels = await Labels().load(session, [c for c in shown if c.deleted_at is None])
    items: list[CaseItem | Tombstone] = [
        Tombstone(id=c.id, updated_at=c.updated_at) if c.deleted_at is not None
        else labels.item(c, lang, calendar, now) for c in shown]
    last = shown[-1].updated_at.isoformat() if shown else None
    return CaseList(items=items, next_cursor=page.next_cursor(cases, sync=sync_start.isoformat(), u=last),
                    sync_since=sync_since)
