"""HTTP routes of partner units and assignments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.deps import MAX_DB_ID, IdPath, InvalidCursor, Page, PageDep, SessionDep
from app.core.errors import NotFound
from app.core.openapi import errors
from app.units import service
from app.units.permissions import AssignmentReader, UnitEditor, UnitReader
from app.units.schemas import (
    AssignmentCreate,
    AssignmentList,
    AssignmentOut,
    UnitCreate,
    UnitList,
    UnitOut,
    UnitUpdate,
)
from app.units.service import AssignmentExists, UnitNameTaken

router = APIRouter(prefix="/api/v1", tags=["units"])


@router.get(
    "/units", response_model=UnitList, summary="Partner units (包抓共建单位)", responses=errors(InvalidCursor)
)
async def list_units(
    principal: UnitReader,
    session: SessionDep,
    page: PageDep,
    active: Annotated[bool | None, Query(description="true: active units; false: retired ones")] = None,
) -> UnitList:
    """Every unit's name and kind; ``contact`` and ``phone`` only for the command centre and the unit's
    own staff (null for other callers)."""
    units = await service.list_units(session, page, active=active)
    return UnitList(
        items=[service.unit_out(u, principal) for u in units[: page.limit]],
        next_cursor=page.next_cursor(units),
    )


@router.post("/units", response_model=UnitOut, status_code=201, responses=errors(UnitNameTaken))
async def create_unit(data: UnitCreate, principal: UnitEditor, session: SessionDep) -> UnitOut:
    return service.unit_out(await service.create_unit(session, data), principal)


@router.get("/units/{unit_id}", response_model=UnitOut, responses=errors(NotFound))
async def get_unit(unit_id: IdPath, principal: UnitReader, session: SessionDep) -> UnitOut:
    """One unit; ``contact`` and ``phone`` as in the list (null unless the caller may read them)."""
    return service.unit_out(await service.get_unit(session, unit_id), principal)


@router.patch(
    "/units/{unit_id}",
    response_model=UnitOut,
    summary="Edit a unit; active=false retires it",
    responses=errors(NotFound, UnitNameTaken),
)
async def update_unit(
    unit_id: IdPath, data: UnitUpdate, principal: UnitEditor, session: SessionDep
) -> UnitOut:
    return service.unit_out(await service.update_unit(session, unit_id, data), principal)


@router.get(
    "/assignments", response_model=AssignmentList, tags=["assignments"], responses=errors(InvalidCursor)
)
async def list_assignments(
    _: AssignmentReader,
    session: SessionDep,
    page: PageDep,
    unit_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="assignments of this unit")] = None,
    grid_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_DB_ID, description="assignments of this cell (not of the cells above it)"),
    ] = None,
    category_code: Annotated[
        str | None,
        Query(pattern=r"^(\d{2}|\d{5})$", description="a 5-digit category or a 2-digit major class"),
    ] = None,
) -> AssignmentList:
    items = await service.list_assignments(
        session, page, unit_id=unit_id, grid_id=grid_id, category_code=category_code
    )
    return AssignmentList(items=items[: page.limit], next_cursor=page.next_cursor(items))


@router.post(
    "/assignments",
    response_model=AssignmentOut,
    status_code=201,
    tags=["assignments"],
    summary="Assign a unit to a grid cell (包抓), optionally for a category or major class",
    responses=errors(AssignmentExists),
)
async def create_assignment(data: AssignmentCreate, _: UnitEditor, session: SessionDep) -> AssignmentOut:
    assignment = await service.create_assignment(session, data)
    return (
        await service.list_assignments(session, Page(limit=1, after_id=None), assignment_id=assignment.id)
    )[0]


@router.delete(
    "/assignments/{assignment_id}", status_code=204, tags=["assignments"], responses=errors(NotFound)
)
async def delete_assignment(assignment_id: IdPath, _: UnitEditor, session: SessionDep) -> Response:
    await service.delete_assignment(session, assignment_id)
    return Response(status_code=204)
