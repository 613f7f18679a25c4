"""HTTP routes of the category catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.categories import service
from app.categories.models import Family
from app.categories.permissions import CatalogueEditor, CatalogueReader
from app.categories.schemas import CODE5, CategoryCreate, CategoryList, CategoryOut, CategoryUpdate
from app.core.deps import SessionDep
from app.core.errors import Conflict, NotFound
from app.core.i18n import CONTENT_LANGUAGE, LangDep
from app.core.openapi import errors

router = APIRouter(prefix="/api/v1/categories", tags=["categories"])


@router.get("", response_model=CategoryList, summary="The category catalogue (部件/事项)")
async def list_categories(
    response: Response,
    _: CatalogueReader,
    session: SessionDep,
    lang: LangDep,
    family: Annotated[
        Family | None, Query(description="`component` (部件) or `matter` (事件) categories only")
    ] = None,
    major: Annotated[str | None, Query(pattern=r"^\d{2}$", description="one 2-digit major class")] = None,
    include_inactive: Annotated[bool, Query(description="also the retired categories")] = False,
) -> CategoryList:
    """Every active category, names in the language of ``Accept-Language`` (zh-CN or en; zh-CN by default)."""
    majors = await service.majors_by_code(session)
    items = await service.list_categories(session, family, major, include_inactive)
    response.headers["Content-Language"] = CONTENT_LANGUAGE[lang]
    return CategoryList(
        majors=[service.major_out(m, lang) for m in majors.values()],
        items=[service.category_out(c, majors[c.major_code], lang) for c in items],
    )


@router.post(
    "",
    response_model=CategoryOut,
    status_code=201,
    summary="Add a local category (admin)",
    responses=errors(Conflict),
)
async def create_category(
    data: CategoryCreate, _: CatalogueEditor, session: SessionDep, lang: LangDep
) -> CategoryOut:
    category = await service.create_category(session, data)
    return service.category_out(category, (await service.majors_by_code(session))[category.major_code], lang)


@router.patch(
    "/{code}", response_model=CategoryOut, summary="Edit a category (admin)", responses=errors(NotFound)
)
async def update_category(
    code: Annotated[str, Path(pattern=CODE5, description="the 5-digit category code")],
    data: CategoryUpdate,
    _: CatalogueEditor,
    session: SessionDep,
    lang: LangDep,
) -> CategoryOut:
    category = await service.update_category(session, code, data)
    return service.category_out(category, (await service.majors_by_code(session))[category.major_code], lang)
