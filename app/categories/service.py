"""The catalogue: loading the seed file, listing in a language, admin edits."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.book import changed
from app.categories.models import Category, CategoryMajor, Family, Priority, TimeUnit
from app.categories.schemas import CategoryCreate, CategoryOut, CategoryUpdate, LoadResult, MajorOut
from app.core.errors import Conflict, NotFound, ValidationProblem
from app.core.i18n import Lang, Text

DEFAULT_CATALOGUE = Path(__file__).parent / "data" / "categories.json"


class UnknownCategory(ValidationProblem):
    code, title = "unknown_category", "No such category"
    title_zh = "没有这个类别"


class CatalogueInvalid(ValueError):
    """The seed file breaks a rule; the message names the entry."""


def _check_catalogue(doc: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The majors and categories of a seed file, every entry checked; :class:`CatalogueInvalid` names the first bad one."""
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("majors"), list)
        or not isinstance(doc.get("categories"), list)
    ):
        raise CatalogueInvalid("expected an object with 'majors' and 'categories' lists")
    majors: dict[str, dict[str, Any]] = {}
    for m in doc["majors"]:
        if not isinstance(m, dict) or not re.fullmatch(r"\d{2}", str(m.get("code", ""))):
            raise CatalogueInvalid(f"major {m!r}: code must be 2 digits")
        _require(m, f"major {m['code']}", {"name_zh": 64, "name_en": 128})
        if m.get("family") not in {f.value for f in Family}:
            raise CatalogueInvalid(f"major {m['code']}: family must be component or matter")
        majors[m["code"]] = m
    seen = set()
    for c in doc["categories"]:
        if not isinstance(c, dict):
            raise CatalogueInvalid(f"category entry {c!r} is not an object")
        code = str(c.get("code", ""))
        where = f"category {code!r}"
        if not re.fullmatch(r"\d{5}", code) or code[:2] not in majors or code in seen:
            raise CatalogueInvalid(f"{where}: 5 digits, a listed major class, unique")
        seen.add(code)
        _require(c, where, {"name_zh": 64, "name_en": 128})
        if c.get("family") != majors[code[:2]]["family"]:
            raise CatalogueInvalid(
                f"{where}: family must be its major class's ({majors[code[:2]]['family']})"
            )
        if c.get("time_unit") not in {t.value for t in TimeUnit} or c.get("priority") not in {
            p.value for p in Priority
        }:
            raise CatalogueInvalid(f"{where}: time_unit or priority not known")
        limit = c.get("time_limit")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise CatalogueInvalid(f"{where}: time_limit must be a whole number from 1 to 10000")
        for flag in ("after_photo_required", "veto"):
            if not isinstance(c.get(flag, False), bool):
                raise CatalogueInvalid(f"{where}: {flag} must be true or false")
        for words in ("keywords_zh", "keywords_en"):
            value = c.get(words, [])
            if not isinstance(value, list) or not all(isinstance(w, str) and 0 < len(w) <= 32 for w in value):
                raise CatalogueInvalid(f"{where}: {words} must be a list of words of 1-32 characters")
        if c.get("veto") and (
            c["priority"] != Priority.urgent.value or c["time_unit"] != TimeUnit.natural_hours.value
        ):
            raise CatalogueInvalid(f"{where}: a veto item is urgent and counted in natural hours")
    return list(majors.values()), doc["categories"]


def _require(entry: dict[str, Any], where: str, fields: dict[str, int]) -> None:
    for name, longest in fields.items():
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > longest or "\x00" in value:
            raise CatalogueInvalid(f"{where}: {name} must be text of 1-{longest} characters")


async def load_catalogue(session: AsyncSession, path: Path = DEFAULT_CATALOGUE) -> LoadResult:
    """Insert or update every major class and category of the JSON seed file (none is deleted).

    Raises :class:`CatalogueInvalid` before writing anything if the file breaks a rule.
    """
    majors, categories = _check_catalogue(
        json.loads(await asyncio.to_thread(Path(path).read_text, encoding="utf-8"))
    )
    existing_majors = {m.code: m for m in (await session.execute(select(CategoryMajor))).scalars()}
    for m in majors:
        major = existing_majors.get(m["code"]) or CategoryMajor(code=m["code"])
        major.family, major.name_zh, major.name_en = m["family"], m["name_zh"], m["name_en"]
        session.add(major)
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
        for key in (
            "family",
            "name_zh",
            "name_en",
            "time_limit",
            "time_unit",
            "priority",
            "after_photo_required",
            "veto",
            "source",
        ):
            setattr(row, key, c.get(key, getattr(row, key)))
        row.keywords_zh, row.keywords_en = list(c.get("keywords_zh", [])), list(c.get("keywords_en", []))
    await session.flush()
    await changed(session)
    return LoadResult(majors=len(majors), created=created, updated=updated)


async def catalogue_is_empty(session: AsyncSession) -> bool:
    return (await session.execute(select(func.count()).select_from(Category))).scalar_one() == 0


async def get_category(session: AsyncSession, code: str, active_only: bool = True) -> Category:
    """The category with ``code``; 422 ``unknown_category`` when there is none, or it is retired."""
    category = await session.get(Category, code) if len(code) == 5 and code.isdigit() else None
    if category is None or (active_only and not category.active):
        raise UnknownCategory(
            [{"loc": ["category"], "msg": f"no category with code {code!r}", "type": "not_found"}]
        )
    return category


async def majors_by_code(session: AsyncSession) -> dict[str, CategoryMajor]:
    return {
        m.code: m
        for m in (await session.execute(select(CategoryMajor).order_by(CategoryMajor.code))).scalars()
    }


def category_out(c: Category, major: CategoryMajor, lang: Lang) -> CategoryOut:
    return CategoryOut(
        code=c.code,
        major_code=c.major_code,
        major_name=major.name_zh if lang == "zh" else major.name_en,
        family=Family(c.family),
        name=c.name_zh if lang == "zh" else c.name_en,
        name_zh=c.name_zh,
        name_en=c.name_en,
        time_limit=c.time_limit,
        time_unit=TimeUnit(c.time_unit),
        priority=Priority(c.priority),
        after_photo_required=c.after_photo_required,
        veto=c.veto,
        keywords=list(c.keywords_zh if lang == "zh" else c.keywords_en),
        active=c.active,
    )


def major_out(m: CategoryMajor, lang: Lang) -> MajorOut:
    return MajorOut(
        code=m.code,
        family=Family(m.family),
        name=m.name_zh if lang == "zh" else m.name_en,
        name_zh=m.name_zh,
        name_en=m.name_en,
    )


async def list_categories(
    session: AsyncSession,
    family: Family | None = None,
    major: str | None = None,
    include_inactive: bool = False,
) -> list[Category]:
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
        raise ValidationProblem(
            [{"loc": ["code"], "msg": f"no major class {data.code[:2]!r}", "type": "not_found"}]
        )
    if await session.get(Category, data.code) is not None:
        raise Conflict(Text(f"类别 {data.code} 已存在", f"Category {data.code} exists"))
    fields = data.model_dump()
    if data.family is not None and data.family.value != major.family:
        raise ValidationProblem(
            [
                {
                    "loc": ["family"],
                    "msg": f"major class {major.code} holds {major.family}s",
                    "type": "family_mismatch",
                }
            ]
        )
    _check_veto(data.veto, data.priority.value, data.time_unit.value)
    fields["family"] = major.family
    fields["time_unit"], fields["priority"] = data.time_unit.value, data.priority.value
    category = Category(**fields, major_code=major.code, source="local", active=True)
    session.add(category)
    await session.flush()
    await changed(session)
    return category


def _check_veto(veto: bool, priority: str, time_unit: str) -> None:
    """docs/domain.md: veto items (一票否决) are urgent and counted in natural hours."""
    if veto and (priority != Priority.urgent.value or time_unit != TimeUnit.natural_hours.value):
        raise ValidationProblem(
            [
                {
                    "loc": ["veto"],
                    "msg": "a veto item is urgent and counted in natural hours",
                    "type": "veto_rules",
                }
            ]
        )


async def update_category(session: AsyncSession, code: str, data: CategoryUpdate) -> Category:
    category = await session.get(Category, code)
    if category is None:
        raise NotFound(Text(f"没有代码为 {code!r} 的类别", f"No category with code {code!r}"))
    changes = data.model_dump(exclude_unset=True)
    _check_veto(
        bool(changes["veto"]) if changes.get("veto") is not None else category.veto,
        getattr(changes.get("priority"), "value", None) or category.priority,
        getattr(changes.get("time_unit"), "value", None) or category.time_unit,
    )
    for key, value in changes.items():
        if value is not None:
            setattr(category, key, value.value if hasattr(value, "value") else value)
    await session.flush()
    await changed(session)
    return category
