"""The catalogue: loading the seed file, listing in a language, admin edits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.models import Category, CategoryMajor, Family, Priority, TimeUnit
from app.categories.schemas import CategoryCreate, CategoryOut, CategoryUpdate, LoadResult, MajorOut
from app.core.errors import Conflict, NotFound, ValidationProblem
from app.core.i18n import Lang

DEFAULT_CATALOGUE = Path(__file__).parent / "data" / "categories.json"


class UnknownCategory(ValidationProblem):
    code, title = "unknown_category", "No such category"


class CatalogueInvalid(ValueError):
    """The seed file breaks a rule; the message names the entry."""


def _check_catalogue(doc: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("majors"), list) or not isinstance(doc.get("categories"), list):
        raise CatalogueInvalid("expected an object with 'majors' and 'categories' lists")
    majors = {}
    for m in doc["majors"]:
        if not isinstance(m, dict) or not str(m.get("code", "")).isdigit() or len(str(m["code"])) != 2:
            raise CatalogueInvalid(f"major {m!r}: code must be 2 digits")
        Family(m.get("family"))
        majors[m["code"]] = m
    seen = set()
    for c in doc["categories"]:
        code = str(c.get("code", ""))
        if len(code) != 5 or not code.isdigit() or code[:2] not in majors or code in seen:
            raise CatalogueInvalid(f"category {code!r}: 5 digits, a listed major class, unique")
        seen.add(code)
        try:
            TimeUnit(c["time_unit"]), Priority(c["priority"]), Family(c["family"])
        except (KeyError, ValueError) as exc:
            raise CatalogueInvalid(f"category {code}: {exc}") from exc
        if not isinstance(c.get("time_limit"), int) or c["time_limit"] < 1:
            raise CatalogueInvalid(f"category {code}: time_limit must be a positive whole number")
    return list(majors.values()), doc["categories"]


async def load_catalogue(session: AsyncSession, path: Path = DEFAULT_CATALOGUE) -> LoadResult:
    """Insert or update every major class and category of the JSON seed file (none is deleted).

    Raises :class:`CatalogueInvalid` before writing anything if the file breaks a rule.
    """
    majors, categories = _check_catalogue(json.loads(Path(path).read_text(encoding="utf-8")))
    existing_majors = {m.code: m for m in (await session.execute(select(CategoryMajor))).scalars()}
    for m in majors:
        row = existing_majors.get(m["code"]) or CategoryMajor(code=m["code"])
        row.family, row.name_zh, row.name_en = m["family"], m["name_zh"], m["name_en"]
        session.add(row)
    await session.flush()
    existing = {c.code: c for c in (await session.execute(select(Category))).scalars()}
    created = updated = 0
    for c in categories:
        row = existing.get(c["code"])
        if row is None:
            row = Category(code=c["code"], active=True)
            session.add(row)
            created += 1
        else:
            updated += 1
        row.major_code = c["code"][:2]
        for key in ("family", "name_zh", "name_en", "time_limit", "time_unit", "priority", "after_photo_required",
                    "veto", "source"):
            setattr(row, key, c.get(key, getattr(row, key)))
        row.keywords_zh, row.keywords_en = list(c.get("keywords_zh", [])), list(c.get("keywords_en", []))
    await session.flush()
    return LoadResult(majors=len(majors), created=created, updated=updated)


async def catalogue_is_empty(session: AsyncSession) -> bool:
    return (await session.execute(select(func.count()).select_from(Category))).scalar_one() == 0


async def get_category(session: AsyncSession, code: str) -> Category:
    """The category with ``code``; 422 ``unknown_category`` when there is none (a client's input)."""
    category = await session.get(Category, code) if len(code) == 5 and code.isdigit() else None
    if category is None:
        raise UnknownCategory([{"loc": ["category"], "msg": f"no category with code {code!r}", "type": "not_found"}])
    return category


async def majors_by_code(session: AsyncSession) -> dict[str, CategoryMajor]:
    return {m.code: m for m in (await session.execute(select(CategoryMajor).order_by(CategoryMajor.code))).scalars()}


def category_out(c: Category, major: CategoryMajor, lang: Lang) -> CategoryOut:
    return CategoryOut(code=c.code, major_code=c.major_code, major_name=major.name_zh if lang == "zh" else major.name_en,
                       family=Family(c.family), name=c.name_zh if lang == "zh" else c.name_en, name_zh=c.name_zh,
                       name_en=c.name_en, time_limit=c.time_limit, time_unit=TimeUnit(c.time_unit),
                       priority=Priority(c.priority), after_photo_required=c.after_photo_required, veto=c.veto,
                       keywords=list(c.keywords_zh if lang == "zh" else c.keywords_en), active=c.active)


def major_out(m: CategoryMajor, lang: Lang) -> MajorOut:
    return MajorOut(code=m.code, family=Family(m.family), name=m.name_zh if lang == "zh" else m.name_en,
                    name_zh=m.name_zh, name_en=m.name_en)


async def list_categories(session: AsyncSession, family: Family | None = None, major: str | None = None,
                          include_inactive: bool = False) -> list[Category]:
    query = select(Category).order_by(Category.code)
    if family is not None:
        query = query.where(Category.family == family.value)
    if major is not None:
        query = query.where(Category.major_code == major)
    if not include_inactive:
        query = query.where(Category.active.is_(True))
    return list((await session.execute(query)).scalars())


async def create_category(session: AsyncSession, data: CategoryCreate) -> Category:
    major = (await majors_by_code(session)).get(data.code[:2])
    if major is None:
        raise ValidationProblem([{"loc": ["code"], "msg": f"no major class {data.code[:2]!r}", "type": "not_found"}])
    if await session.get(Category, data.code) is not None:
        raise Conflict(f"Category {data.code} exists")
    fields = data.model_dump()
    fields["family"] = (data.family or Family(major.family)).value
    fields["time_unit"], fields["priority"] = data.time_unit.value, data.priority.value
    category = Category(**fields, major_code=major.code, source="local", active=True)
    session.add(category)
    await session.flush()
    return category


async def update_category(session: AsyncSession, code: str, data: CategoryUpdate) -> Category:
    category = await session.get(Category, code)
    if category is None:
        raise NotFound(f"No category with code {code!r}")
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(category, key, value.value if hasattr(value, "value") else value)
    await session.flush()
    return category
