"""Editions, point types and checklists: importing and exporting the exchange format (docs/campaign.md
"Exchange format of checklists"), the active edition, and the checklist a visit answers.

An import is all or nothing, checked before anything is written: codes unique within the edition, known
categories, answer kinds with their thresholds (the schema checks shapes and ranges); every error names its
point type and item by index (``loc: ["point_types", 2, "items", 12, "category_code"]``). Importing an
edition again updates its point types and items by code; items the file no longer lists are retired (kept,
for the visits that answered them). Nothing a visit answered changes: results keep their own copy of the
item (app.campaign.models).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign.models import Edition, Item, PointType
from app.campaign.schemas import (
    ChecklistFile,
    EditionOut,
    ImportOut,
    ItemIn,
    ItemOut,
    PointTypeOut,
    ProtocolOut,
    SourceOut,
)
from app.categories.models import Category
from app.core.db import utcnow
from app.core.errors import AppError, NotFound, ValidationProblem

DEMO_CHECKLISTS = Path(__file__).parent / "data" / "checklists.json"
_ITEM_FIELDS = (
    "group",
    "text",
    "judging_note",
    "answer_kind",
    "threshold",
    "weight",
    "photo_on_fail",
    "note_on_fail",
    "category_code",
    "abridged",
)


class NoActiveEdition(AppError):
    status, code, title = 409, "no_active_edition", "No checklist edition is active"
    title_zh = "没有启用的测评体系"


async def active_edition(session: AsyncSession) -> Edition:
    """The active edition; 409 ``no_active_edition`` when none is (import a checklist first)."""
    found = (await session.execute(select(Edition).where(Edition.active.is_(True)))).scalar_one_or_none()
    if found is None:
        raise NoActiveEdition("Import a checklist file (POST /api/v1/campaign/checklists/import) first")
    return found


async def edition_by_code(session: AsyncSession, code: str | None) -> Edition:
    """The edition with ``code`` (404 when none), or the active one when ``code`` is None."""
    if code is None:
        return await active_edition(session)
    found = (await session.execute(select(Edition).where(Edition.code == code))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No edition with code {code!r}")
    return found


def _problems(data: ChecklistFile, known_categories: set[str]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    types: dict[str, int] = {}
    items: dict[str, tuple[int, int]] = {}
    for t, point_type in enumerate(data.point_types):
        if point_type.code in types:
            errors.append(
                {
                    "loc": ["point_types", t, "code"],
                    "msg": f"point type {point_type.code} is also point type {types[point_type.code]}",
                    "type": "duplicate_code",
                }
            )
        types.setdefault(point_type.code, t)
        for i, item in enumerate(point_type.items):
            loc: list[Any] = ["point_types", t, "items", i]
            if item.code in items:
                first = items[item.code]
                errors.append(
                    {
                        "loc": [*loc, "code"],
                        "msg": f"item {item.code} is also point_types[{first[0]}].items[{first[1]}]: "
                        "codes are unique within an edition",
                        "type": "duplicate_code",
                        "item": item.code,
                    }
                )
            items.setdefault(item.code, (t, i))
            if item.category_code not in known_categories:
                errors.append(
                    {
                        "loc": [*loc, "category_code"],
                        "msg": f"item {item.code}: no active category {item.category_code}",
                        "type": "unknown_category",
                        "item": item.code,
                    }
                )
    return errors


def _item_values(item: ItemIn, position: int) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in _ITEM_FIELDS}
    values["weight"] = float(item.weight)
    return {**values, "position": position}


async def import_checklists(session: AsyncSession, data: ChecklistFile) -> ImportOut:
    """Create or update the file's edition, point types and items (module docstring); 422 listing every
    problem. The first edition imported becomes the active one."""
    known = set((await session.execute(select(Category.code).where(Category.active.is_(True)))).scalars())
    errors = _problems(data, known)
    if errors:
        raise ValidationProblem(errors[:50], detail=f"{len(errors)} problem(s); nothing was imported")
    now = utcnow()
    e = data.edition
    edition = (await session.execute(select(Edition).where(Edition.code == e.code))).scalar_one_or_none()
    if edition is None:
        any_active = (await session.execute(select(Edition.id).where(Edition.active.is_(True)))).first()
        edition = Edition(code=e.code, active=any_active is None, created_at=now)
        session.add(edition)
    edition.name, edition.year, edition.issuer, edition.source = e.name, e.year, e.issuer, e.source
    edition.updated_at = now
    await session.flush()
    types = {
        t.code: t
        for t in (
            await session.execute(select(PointType).where(PointType.edition_id == edition.id))
        ).scalars()
    }
    items = {
        i.code: i
        for i in (await session.execute(select(Item).where(Item.edition_id == edition.id))).scalars()
    }
    created = updated = 0
    listed: set[str] = set()
    for position, t in enumerate(data.point_types):
        point_type = types.get(t.code)
        if point_type is None:
            point_type = PointType(edition_id=edition.id, code=t.code)
            session.add(point_type)
        point_type.name_zh, point_type.name_en = t.name_zh, t.name_en
        point_type.protocol = t.protocol.model_dump()
        point_type.source = t.source.model_dump() if t.source is not None else None
        point_type.position, point_type.retired = position, False
        await session.flush()
        for order, i in enumerate(t.items):
            listed.add(i.code)
            values = {**_item_values(i, order), "point_type_id": point_type.id, "retired": False}
            item = items.get(i.code)
            if item is None:
                session.add(Item(edition_id=edition.id, code=i.code, **values))
                created += 1
                continue
            if any(getattr(item, k) != v for k, v in values.items() if k != "position"):
                updated += 1
            for k, v in values.items():
                setattr(item, k, v)
    retired = [code for code, item in items.items() if code not in listed and not item.retired]
    if retired:
        await session.execute(
            update(Item).where(Item.edition_id == edition.id, Item.code.in_(retired)).values(retired=True)
        )
    gone = [code for code in types if code not in {t.code for t in data.point_types}]
    if gone:
        await session.execute(
            update(PointType)
            .where(PointType.edition_id == edition.id, PointType.code.in_(gone))
            .values(retired=True)
        )
    await session.flush()
    return ImportOut(
        edition=await edition_out(session, edition),
        point_types=len(data.point_types),
        items=sum(len(t.items) for t in data.point_types),
        created=created,
        updated=updated,
        retired=len(retired),
    )


async def editions(session: AsyncSession) -> list[Edition]:
    """Every edition, newest year first."""
    return list(
        (await session.execute(select(Edition).order_by(Edition.year.desc(), Edition.id.desc()))).scalars()
    )


async def edition_out(session: AsyncSession, edition: Edition) -> EditionOut:
    counts = (
        await session.execute(
            select(
                select(func.count())
                .select_from(PointType)
                .where(PointType.edition_id == edition.id, PointType.retired.is_(False))
                .scalar_subquery(),
                select(func.count())
                .select_from(Item)
                .where(Item.edition_id == edition.id, Item.retired.is_(False))
                .scalar_subquery(),
            )
        )
    ).one()
    return EditionOut(
        code=edition.code,
        name=edition.name,
        year=edition.year,
        issuer=edition.issuer,
        source=edition.source,
        active=edition.active,
        point_types=counts[0],
        items=counts[1],
        updated_at=edition.updated_at,
    )


async def activate(session: AsyncSession, code: str) -> Edition:
    """Make the edition with ``code`` the active one (404 when there is none); new rounds answer its items."""
    edition = await edition_by_code(session, code)
    await session.execute(update(Edition).where(Edition.id != edition.id).values(active=False))
    await session.flush()  # the partial unique index admits one active edition at a time
    edition.active, edition.updated_at = True, utcnow()
    await session.flush()
    return edition


def item_out(item: Item) -> ItemOut:
    return ItemOut(
        code=item.code,
        group=item.group,
        text=item.text,
        judging_note=item.judging_note,
        answer_kind=item.answer_kind,
        threshold=item.threshold,
        weight=item.weight,
        photo_on_fail=item.photo_on_fail,
        note_on_fail=item.note_on_fail,
        category_code=item.category_code,
        abridged=item.abridged,
    )


@dataclass(frozen=True)
class Checklist:
    """A point type of an edition with its items in use, in the file's order."""

    point_type: PointType
    items: list[Item]

    def out(self) -> PointTypeOut:
        t = self.point_type
        return PointTypeOut(
            code=t.code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            protocol=ProtocolOut(**(t.protocol or {})),
            source=SourceOut(**t.source) if t.source else None,
            items=[item_out(i) for i in self.items],
        )


async def checklists(
    session: AsyncSession, edition_id: int, codes: set[str] | None = None
) -> dict[str, Checklist]:
    """The edition's point types in use (``codes``: only those) with their items, by point type code."""
    query = select(PointType).where(PointType.edition_id == edition_id, PointType.retired.is_(False))
    if codes is not None:
        query = query.where(PointType.code.in_(sorted(codes)))
    types = list((await session.execute(query.order_by(PointType.position, PointType.id))).scalars())
    items: Iterable[Item] = (
        (
            await session.execute(
                select(Item)
                .where(Item.point_type_id.in_([t.id for t in types]), Item.retired.is_(False))
                .order_by(Item.position, Item.id)
            )
        ).scalars()
        if types
        else []
    )
    by_type: dict[int, list[Item]] = {t.id: [] for t in types}
    for item in items:
        by_type[item.point_type_id].append(item)
    return {t.code: Checklist(t, by_type[t.id]) for t in types}


async def export(session: AsyncSession, edition: Edition) -> dict[str, Any]:
    """The edition in the exchange format (retired point types and items left out)."""
    found = await checklists(session, edition.id)
    return {
        "edition": {
            "code": edition.code,
            "name": edition.name,
            "year": edition.year,
            "issuer": edition.issuer,
            "source": edition.source,
        },
        "point_types": [c.out().model_dump() for c in found.values()],
    }


def demo_file() -> ChecklistFile:
    """The real checklists shipped with the package (app/campaign/data/SOURCES.md)."""
    return ChecklistFile.model_validate(json.loads(DEMO_CHECKLISTS.read_text(encoding="utf-8")))
