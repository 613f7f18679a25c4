"""Rectification notices (整改通知/抄告单, docs/campaign.md "Rectification notices").

A notice tells one responsible unit the failures of one round whose cases it holds, with their deadlines.
It is issued when the round is published (:func:`issue_on_publish`, a handler of ``RoundPublished``) and on
demand for an open round (``POST /api/v1/campaign/rounds/{id}/notices``). Issuing is idempotent: it lists
each failure (a noncompliant result with a case) on at most one notice, so issuing again adds only the
failures that are not on a notice yet, to the notice of the case's unit (one per round and unit).

A failure's unit is the unit its case is with when the notice is issued (``cases.unit_id``). A failure whose
case has no unit (returned to the dispatchers, self-handled) or was deleted is on no notice until a later
issue finds it with a unit.

A notice is ``signed_off`` (销号) when every one of its cases is closed, rejected or deleted
(:func:`on_status_changed`, a handler of the workflow's ``StatusChanged``, in the transaction that closed the
last case); a notice given a new open case is open again. Each issue and each sign-off returns a domain event
(``NoticeIssued``, ``NoticeSignedOff``) that app.notifications pushes to the unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.campaign.attribution import SCORED_AS
from app.campaign.events import NoticeIssued, NoticeSignedOff, RoundPublished
from app.campaign.models import Notice, NoticeItem, Point, Result, Round, Visit
from app.campaign.notice_schemas import (
    NoticeItemRef,
    NoticeLine,
    NoticeOut,
    NoticePointRef,
    NoticeProgress,
    NoticeRoundRef,
)
from app.campaign.permissions import notice_scope
from app.cases.models import OPEN_STATUSES, Case
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, NotFound
from app.units.book import units
from app.units.schemas import UnitRef
from app.workflow.events import StatusChanged

# A case still to rectify: open and not deleted. Closed, rejected and deleted cases count as done.
CASE_OPEN = and_(Case.status.in_([s.value for s in OPEN_STATUSES]), Case.deleted_at.is_(None))
ISSUABLE = ("open", "published")


class NoticesNotIssuable(AppError):
    status, code, title = 409, "round_not_open", "Notices are issued for an open or published round only"
    title_zh = "只能为进行中或已发布的测评批次下发整改通知"


async def _open_cases(session: AsyncSession, notice_id: int) -> int:
    found = await session.execute(
        select(func.count())
        .select_from(NoticeItem)
        .join(Case, Case.id == NoticeItem.case_id)
        .where(NoticeItem.notice_id == notice_id, CASE_OPEN)
    )
    return int(found.scalar_one())


async def _latest_due(session: AsyncSession, notice_id: int) -> dt.datetime | None:
    found = await session.execute(
        select(func.max(Case.due_at))
        .select_from(NoticeItem)
        .join(Case, Case.id == NoticeItem.case_id)
        .where(NoticeItem.notice_id == notice_id)
    )
    value: dt.datetime | None = found.scalar_one()
    return value


def _signed_off(notice: Notice, now: dt.datetime) -> NoticeSignedOff:
    notice.status, notice.signed_off_at, notice.updated_at = "signed_off", now, now
    return NoticeSignedOff(notice.id, notice.round_id, notice.unit_id, now)


async def issue(session: AsyncSession, round_id: int, now: dt.datetime) -> list[object]:
    """List the failures of round ``round_id`` that are on no notice yet on their unit's notice (module
    docstring); returns the events: ``NoticeIssued`` for each notice made or given new failures,
    ``NoticeSignedOff`` for one whose cases are all closed already. Flushes; the caller commits."""
    # Serialise issuing per round (publishing holds this row too), so two issues never race to make a notice.
    await session.execute(select(Round.id).where(Round.id == round_id).with_for_update())
    listed = exists().where(NoticeItem.result_id == Result.id)
    rows = (
        await session.execute(
            select(Result.id, Result.case_id, Case.unit_id)
            .join(Visit, Visit.id == Result.visit_id)
            .join(Case, Case.id == Result.case_id)
            .where(
                Visit.round_id == round_id,
                Result.result == "noncompliant",
                Case.unit_id.is_not(None),
                Case.deleted_at.is_(None),
                ~listed,
            )
            .order_by(Result.id)
        )
    ).all()
    by_unit: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for result_id, case_id, unit_id in rows:
        if unit_id is not None and case_id is not None:  # both are in the query's conditions
            by_unit[unit_id].append((result_id, case_id))
    if not by_unit:
        return []
    existing = {
        n.unit_id: n
        for n in (
            await session.execute(
                select(Notice).where(Notice.round_id == round_id, Notice.unit_id.in_(by_unit))
            )
        ).scalars()
    }
    events: list[object] = []
    for unit_id, failures in sorted(by_unit.items()):
        notice = existing.get(unit_id)
        if notice is None:
            notice = Notice(round_id=round_id, unit_id=unit_id, status="open", issued_at=now, updated_at=now)
            session.add(notice)
            await session.flush()
        session.add_all(NoticeItem(notice_id=notice.id, result_id=r, case_id=c) for r, c in failures)
        await session.flush()
        notice.due_at, notice.updated_at = await _latest_due(session, notice.id), now
        still_open = await _open_cases(session, notice.id)
        if notice.status == "signed_off":
            if still_open:  # a new failure to rectify: the notice is open again, and said again
                notice.status, notice.signed_off_at = "open", None
                events.append(NoticeIssued(notice.id, round_id, unit_id, now))
            continue  # failures already rectified join a signed-off notice silently
        events.append(NoticeIssued(notice.id, round_id, unit_id, now))
        if not still_open:  # every case of a new notice closed already
            events.append(_signed_off(notice, now))
    await session.flush()
    return events


async def issue_on_demand(session: AsyncSession, round_id: int) -> tuple[list[Notice], list[object]]:
    """``POST .../rounds/{id}/notices``: issue for an open (or published) round, then every notice of the
    round. 404 for an unknown round, 409 ``round_not_open`` for a draft or closed one."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"No round with id {round_id}")
    if round_.status not in ISSUABLE:
        raise NoticesNotIssuable(
            f"Round {round_id} is {round_.status}; notices are issued for an open or published round",
            current_status=round_.status,
        )
    events = await issue(session, round_id, utcnow())
    notices = (
        await session.execute(select(Notice).where(Notice.round_id == round_id).order_by(Notice.id))
    ).scalars()
    return list(notices), events


async def issue_on_publish(session: AsyncSession, event: RoundPublished) -> list[object]:
    """The bus handler of ``RoundPublished``: each responsible unit gets its notice."""
    return await issue(session, event.round_id, event.published_at)


async def on_status_changed(session: AsyncSession, event: StatusChanged) -> list[object]:
    """The bus handler of the workflow's ``StatusChanged``: sign off the open notices listing the case when it
    was their last open case. The notice row is locked first, so two last cases closed at once on
    PostgreSQL cannot both see the other still open (the second counts after the first committed)."""
    if not event.settled:
        return []
    notices = (
        await session.execute(
            select(Notice)
            .where(
                Notice.id.in_(select(NoticeItem.notice_id).where(NoticeItem.case_id == event.case_id)),
                Notice.status == "open",
            )
            .order_by(Notice.id)
            .with_for_update()
        )
    ).scalars()
    events: list[object] = []
    for notice in list(notices):
        if not await _open_cases(session, notice.id):
            events.append(_signed_off(notice, event.occurred_at))
    await session.flush()
    return events


async def get_notice(session: AsyncSession, principal: Principal, notice_id: int) -> Notice:
    """The notice if ``principal`` may see it; 404 otherwise (the same answer whether it exists or not)."""
    found = (
        await session.execute(select(Notice).where(Notice.id == notice_id, notice_scope(principal)))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No notice with id {notice_id}")
    return found


async def list_notices(
    session: AsyncSession,
    principal: Principal,
    page: Page,
    round_id: int | None,
    unit_id: int | None,
    status: str | None,
) -> list[Notice]:
    """A keyset page of the notices ``principal`` sees, newest first (limit + 1 rows)."""
    conditions: list[ColumnElement[bool]] = [notice_scope(principal)]
    if round_id is not None:
        conditions.append(Notice.round_id == round_id)
    if unit_id is not None:
        conditions.append(Notice.unit_id == unit_id)
    if status is not None:
        conditions.append(Notice.status == status)
    if page.after_id is not None:
        conditions.append(Notice.id < page.after_id)
    query = select(Notice).where(*conditions).order_by(Notice.id.desc()).limit(page.limit + 1)
    return list((await session.execute(query)).scalars())


async def present(session: AsyncSession, notices: Sequence[Notice]) -> list[NoticeOut]:
    """Notices with their round, unit, progress and failures (each with its case as it is now)."""
    if not notices:
        return []
    ids = [n.id for n in notices]
    titles = dict(
        (
            await session.execute(
                select(Round.id, Round.title).where(Round.id.in_({n.round_id for n in notices}))
            )
        ).all()
    )
    all_units = await units(session)
    lines: dict[int, list[NoticeLine]] = defaultdict(list)
    closed: dict[int, int] = defaultdict(int)
    rows = await session.execute(
        select(
            NoticeItem.notice_id,
            Case.id,
            Case.tracking_code,
            Case.status,
            Case.due_at,
            Case.deleted_at,
            Point.id.label("point_id"),
            SCORED_AS.code.label("point_code"),
            SCORED_AS.name.label("point_name"),
            Result.item_code,
            Result.item_text,
        )
        .join(Case, Case.id == NoticeItem.case_id)
        .join(Result, Result.id == NoticeItem.result_id)
        .join(Visit, Visit.id == Result.visit_id)
        .join(Point, Point.id == Visit.point_id)
        .where(NoticeItem.notice_id.in_(ids))
        .order_by(NoticeItem.notice_id, NoticeItem.id)
    )
    for r in rows:
        done = r.deleted_at is not None or r.status not in {s.value for s in OPEN_STATUSES}
        closed[r.notice_id] += int(done)
        lines[r.notice_id].append(
            NoticeLine(
                case_id=r.id,
                tracking_code=r.tracking_code,
                point=NoticePointRef(id=r.point_id, code=r.point_code, name=r.point_name),
                item=NoticeItemRef(code=r.item_code, text=r.item_text),
                case_status="deleted" if r.deleted_at is not None else r.status,
                due_at=r.due_at,
            )
        )
    out = []
    for n in notices:
        unit = all_units.get(n.unit_id)
        out.append(
            NoticeOut(
                id=n.id,
                round_id=n.round_id,
                round=NoticeRoundRef(id=n.round_id, title=titles[n.round_id]),
                unit=UnitRef(id=n.unit_id, name=unit.name if unit else str(n.unit_id)),
                issued_at=n.issued_at,
                due_at=n.due_at,
                status=n.status,
                signed_off_at=n.signed_off_at,
                progress=NoticeProgress(closed=closed[n.id], total=len(lines[n.id])),
                items=lines[n.id],
            )
        )
    return out
