"""Cases as GeoReport v2 service requests, the catalogue as services, history as request updates.

Who reads what: GeoReport v2 lets anyone read requests, but a city decides what it publishes
(``GRID_OPEN311_PUBLIC_READS``): ``none`` (the default: requests are read with an ``api_key`` only),
``open311`` (the requests filed through Open311) or ``all``. A case that was a veto item when filed
(一票否决事项 such as mass incidents, ``Case.internal``) is never public. A valid ``api_key`` adds the
cases that key filed. Contact details are never part of it, and ``status_notes`` carries only text a
dispatcher wrote for the public (``public_note``), never staff notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.models import Case, CaseEvent, Status
from app.categories.models import Category, CategoryMajor
from app.core.times import rfc3339
from app.open311.attributes import attributes_of
from app.photos.models import Photo
from app.units.models import Unit

CLOSED = (Status.closed.value, Status.rejected.value)
PUBLIC_ACTIONS = {
    "report": "已受理 received",
    "register": "已立案 registered",
    "dispatch": "已派遣 dispatched",
    "accept": "处置中 in progress",
    "return": "重新派遣中 being re-dispatched",
    "resolve": "处置完毕 resolved",
    "verify": "已结案 closed",
    "rework": "返工 sent back for rework",
    "reject": "不予立案 rejected",
    "decide_hold": "挂账 on hold",
    "resume": "恢复处置 resumed",
    "self_handle": "已自行处置 fixed on the spot",
}


def public_or_own(principal: Principal | None, public_reads: str) -> ColumnElement[bool]:
    """The cases an Open311 client may read (module docstring): ``public_reads`` is the setting."""
    public: ColumnElement[bool] = false()
    if public_reads == "all":
        public = Case.internal.is_(False)
    elif public_reads == "open311":
        public = and_(Case.internal.is_(False), Case.source == "open311")
    own = Case.api_key_id == principal.api_key.id if principal and principal.api_key else None
    return and_(Case.deleted_at.is_(None), or_(public, own) if own is not None else public)


iso = rfc3339  # RFC 3339 in UTC with ``Z``, as the spec's examples write times


async def services(session: AsyncSession, lang: str) -> list[dict[str, Any]]:
    """One service per active category: code (a string, leading zeros kept), group = major class."""
    majors = {m.code: m for m in (await session.execute(select(CategoryMajor))).scalars()}
    rows = (
        await session.execute(select(Category).where(Category.active.is_(True)).order_by(Category.code))
    ).scalars()
    out = []
    for c in rows:
        zh = lang == "zh"
        major = majors.get(c.major_code)
        out.append(
            {
                "service_code": c.code,
                "service_name": c.name_zh if zh else c.name_en,
                "description": f"{c.name_zh} / {c.name_en}" + ("; 一票否决事项 veto item" if c.veto else ""),
                "metadata": bool(attributes_of(c.code)),
                "type": "realtime",
                "keywords": ", ".join(c.keywords_zh if zh else c.keywords_en)
                or (c.name_zh if zh else c.name_en),
                "group": (major.name_zh if zh else major.name_en) if major else c.major_code,
            }
        )
    return out


async def all_codes(session: AsyncSession) -> set[str]:
    """Every category code, retired ones too (their requests stay listed)."""
    return set((await session.execute(select(Category.code))).scalars())


async def request_items(
    session: AsyncSession, cases: Sequence[Case], base_url: str, lang: str
) -> list[dict[str, Any]]:
    """The spec's request fields for ``cases`` (a page), plus ``extended_attributes`` with the native
    state and tracking code, which spec clients ignore."""
    if not cases:
        return []
    ids = [c.id for c in cases]
    categories = {
        c.code: c
        for c in (
            await session.execute(select(Category).where(Category.code.in_({c.category_code for c in cases})))
        ).scalars()
    }
    units = dict(
        (
            await session.execute(
                select(Unit.id, Unit.name).where(Unit.id.in_({c.unit_id for c in cases if c.unit_id}))
            )
        ).all()
    )
    photos: dict[int, int] = {}
    for case_id, photo_id in (
        await session.execute(
            select(Photo.case_id, Photo.id)
            .where(Photo.case_id.in_(ids), Photo.stage == "report")
            .order_by(Photo.id.desc())
        )
    ).all():
        photos[case_id or 0] = photo_id  # the first (lowest id) wins: the loop is newest first
    notes: dict[int, str] = {}
    for event in (
        await session.execute(
            select(CaseEvent)
            .where(
                CaseEvent.case_id.in_(ids),
                or_(CaseEvent.public_note.is_not(None), CaseEvent.action == "reject"),
            )
            .order_by(CaseEvent.id)
        )
    ).scalars():
        # The latest text written for the public; a rejected duplicate also names the case it repeats.
        duplicate = (event.data or {}).get("duplicate_of") if event.action == "reject" else None
        said = (f"重复案件 duplicate of {duplicate}. " if duplicate else "") + (event.public_note or "")
        if said:
            notes[event.case_id] = said.strip()
    out = []
    for c in cases:
        category = categories.get(c.category_code)
        item: dict[str, Any] = {
            "service_request_id": str(c.id),
            "status": "closed" if c.status in CLOSED else "open",
            "status_notes": notes.get(c.id) or None,
            "service_name": (category.name_zh if lang == "zh" else category.name_en) if category else None,
            "service_code": c.category_code,
            "description": c.description or None,
            "agency_responsible": units.get(c.unit_id) if c.unit_id else None,
            "service_notice": None,
            "requested_datetime": iso(c.created_at),
            "updated_datetime": iso(c.updated_at),
        }
        if c.due_at is not None:
            item["expected_datetime"] = iso(c.due_at)
        item.update(
            {
                "address": c.address,
                "address_id": None,
                "zipcode": None,
                "lat": c.lat,
                "long": c.lon,
                "media_url": f"{base_url}open311/v2/media/{photos[c.id]}.jpg"
                if c.id in photos
                else c.media_url,
                # The citizen's attribute answers (a licence plate...) are for staff, on the native case.
                "extended_attributes": {"status": c.status, "tracking_code": c.tracking_code},
            }
        )
        out.append(item)
    return out


async def updates(
    session: AsyncSession,
    scope: ColumnElement[bool],
    start: dt.datetime,
    end: dt.datetime,
    limit: int,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """``servicerequestupdates``: the history of readable cases between ``start`` and ``end``, oldest first."""
    rows = (
        await session.execute(
            select(CaseEvent, Case.status)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(
                scope,
                CaseEvent.created_at >= start,
                CaseEvent.created_at < end,
                CaseEvent.to_status.is_not(None),
                CaseEvent.from_status.is_distinct_from(CaseEvent.to_status),
            )
            .order_by(CaseEvent.created_at, CaseEvent.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return [
        {
            "update_id": str(e.id),
            "service_request_id": str(e.case_id),
            "status": "closed" if e.to_status in CLOSED else "open",
            # Staff's notes and reasons stay internal; only what a dispatcher wrote for the public leaves.
            "updated_datetime": iso(e.created_at),
            "description": PUBLIC_ACTIONS.get(e.action, e.action)
            + (f": {e.public_note}" if e.public_note else ""),
            "media_url": None,
            "extended_attributes": {"action": e.action, "status": e.to_status},
        }
        for e, _ in rows
    ]
