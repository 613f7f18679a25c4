"""HTTP routes of partner units and assignments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.deps import MAX_DB_ID, IdPath, Page, PageDep, SessionDep
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

router = APIRouter(prefix="/api/v1", tags=["units"])
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_DB_ID)]


@router.get("/units", response_model=UnitList, summary="Partner units (包抓共建单位)")
async def list_units(_: UnitReader, session: SessionDep, page: PageDep, active: bool | None = None) -> UnitList:
    units = await service.list_units(session, page, active=active)
    return UnitList(items=[service.unit_out(u) for u in units[: page.limit]], next_cursor=page.next_cursor(units))


@router.post("/units", response_model=UnitOut, status_code=201)
async def create_unit(data: UnitCreate, _: UnitEditor, session: SessionDep) -> UnitOut:
    return service.unit_out(await service.create_unit(session, data))


@router.get("/units/{unit_id}", response_model=UnitOut)
async def get_unit(unit_id: IdPath, _: UnitReader, session: SessionDep) -> UnitOut:
    return service.unit_out(await service.get_unit(session, unit_id))


@router.patch("/units/{unit_id}", response_model=UnitOut, summary="Edit a unit; active=false retires it")
async def update_unit(unit_id: IdPath, data: UnitUpdate, _: UnitEditor, session: SessionDep) -> UnitOut:
    return service.unit_out(await service.update_unit(session, unit_id, data))


@router.get("/assignments", response_model=AssignmentList, tags=["assignments"])
async def list_assignments(_: AssignmentReader, session: SessionDep, page: PageDep, unit_id: OptionalId = None,
                           grid_id: OptionalId = None,
                           category_code: Annotated[str | None, Query(pattern=r"^(\d{2}|\d{5})$")] = None,
                           ) -> AssignmentList:
    items = await service.list_assignments(session, page, unit_id=unit_id, grid_id=grid_id, category_code=category_code)
    return AssignmentList(items=items[: page.limit], next_cursor=page.next_cursor(items))


@router.post("/assignments", response_model=AssignmentOut, status_code=201, tags=["assignments"],
             summary="Assign a unit to a grid cell (包抓), optionally for a category or major class")
async def create_assignment(data: AssignmentCreate, _: UnitEditor, session: SessionDep) -> AssignmentOut:
    assignment = await service.create_assignment(session, data)
    return (await service.list_assignments(session, Page(limit=1, after_id=None), assignment_id=assignment.id))[0]


@router.delete("/assignments/{assignment_id}", status_code=204, tags=["assignments"])
async def delete_assignment(assignment_id: IdPath, _: UnitEditor, session: SessionDep) -> Response:
    await service.delete_assignment(session, assignment_id)
    return Response(status_code=204)
