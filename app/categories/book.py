"""The catalogue as a process sees it: every category's names, limit and flags, without a statement per case.
A per-process copy refreshed when the catalogue changes (app.core.revisions, name ``categories``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.models import Category, CategoryMajor
from app.core import revisions
from app.core.revisions import Cached


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    major_code: str
    family: str
    name_zh: str
    name_en: str
    time_limit: int
    time_unit: str  # working_hours, working_days or natural_hours
    priority: str
    after_photo_required: bool
    veto: bool
    active: bool

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Book:
    categories: dict[str, CategoryInfo]
    majors: dict[str, tuple[str, str]]  # code -> (zh, en)


async def _load(session: AsyncSession) -> Book:
    rows = (await session.execute(select(Category))).scalars()
    categories = {
        c.code: CategoryInfo(
            c.code,
            c.major_code,
            c.family,
            c.name_zh,
            c.name_en,
            c.time_limit,
            c.time_unit,
            c.priority,
            c.after_photo_required,
            c.veto,
            c.active,
        )
        for c in rows
    }
    majors = {
        m.code: (m.name_zh, m.name_en) for m in (await session.execute(select(CategoryMajor))).scalars()
    }
    return Book(categories=categories, majors=majors)


CATALOGUE = Cached("categories", _load)


async def book(session: AsyncSession) -> Book:
    """The catalogue as of the revision ``session`` sees (no statement when it is current)."""
    return await CATALOGUE.get(session)


async def changed(session: AsyncSession) -> None:
    """Record in the session's transaction that the catalogue changed (every process re-reads it)."""
    await revisions.bump(session, CATALOGUE.name)
