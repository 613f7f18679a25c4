"""Use cases of partner units and their assignments to grid cells."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.categories.models import Category, CategoryMajor
from app.core.deps import Page
from app.core.errors import Conflict, NotFound, ValidationProblem
from app.core.i18n import Text
from app.grids.models import GridCell
from app.units.book import changed
from app.units.models import UNIT_KIND_LABELS_ZH, Assignment, Unit, UnitKind, scope_of
from app.units.permissions import sees_contacts
from app.units.schemas import AssignmentCreate, AssignmentOut, UnitCreate, UnitOut, UnitUpdate


class UnitNameTaken(Conflict):
    code, title = "unit_name_taken", "A unit with that name exists"
    title_zh = "已有同名单位"


class AssignmentExists(Conflict):
    code, title = "assignment_exists", "That unit already has that assignment"
    title_zh = "该单位已有此包抓分配"


def unit_out(unit: Unit, viewer: Principal) -> UnitOut:
    """A unit as ``viewer`` may see it: ``contact`` and ``phone`` are None unless
    :func:`app.units.permissions.sees_contacts`."""
    kind = UnitKind(unit.kind)
    contacts = sees_contacts(viewer, unit.id)
    return UnitOut(
        id=unit.id,
        name=unit.name,
        kind=kind,
        kind_label=UNIT_KIND_LABELS_ZH[kind],
        contact=unit.contact if contacts else None,
        phone=unit.phone if contacts else None,
        active=unit.active,
        created_at=unit.created_at,
    )


async def get_unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(Text(f"没有编号为 {unit_id} 的单位", f"No unit with id {unit_id}"))
    return unit


async def _name_free(session: AsyncSession, name: str, except_id: int | None = None) -> None:
    row = (await session.execute(select(Unit.id).where(Unit.name == name))).scalar_one_or_none()
    if row is not None and row != except_id:
        raise UnitNameTaken(Text(f"已有名为 {name!r} 的单位", f"A unit named {name!r} exists"))


async def create_unit(session: AsyncSession, data: UnitCreate) -> Unit:
    await _name_free(session, data.name)
    unit = Unit(
        name=data.name,
        kind=data.kind.value,
        contact=data.contact,
        phone=data.phone,
        active=True,
    )
    session.add(unit)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise UnitNameTaken(
            Text(f"已有名为 {data.name!r} 的单位", f"A unit named {data.name!r} exists")
        ) from exc
    await changed(session)
    return unit


async def update_unit(session: AsyncSession, unit_id: int, data: UnitUpdate) -> Unit:
    """Edit a unit; only the fields sent change. 404 ``not_found``; 409 ``unit_name_taken``, also when a
    concurrent rename took the name first (the unique constraint decides, not the check before it)."""
    unit = await get_unit(session, unit_id)
    fields = data.model_dump(exclude_unset=True)
    if fields.get("name") is not None:
        await _name_free(session, fields["name"], unit.id)
    for key, value in fields.items():
        if value is None and key in ("name", "kind", "active"):
            continue
        setattr(unit, key, value.value if isinstance(value, UnitKind) else value)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise UnitNameTaken(f"A unit named {data.name!r} exists") from exc
    await changed(session)
    return unit


async def list_units(session: AsyncSession, page: Page, active: bool | None = None) -> list[Unit]:
    query = select(Unit).order_by(Unit.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(Unit.id > page.after_id)
    if active is not None:
        query = query.where(Unit.active == active)
    return list((await session.execute(query)).scalars())


async def create_assignment(session: AsyncSession, data: AssignmentCreate) -> Assignment:
    """Assign a unit to a cell (and so its subtree), optionally for one category or major class.

    422 when the unit, cell or category code is unknown; 409 ``assignment_exists`` for a repeat.
    """
    errors = []
    if await session.get(Unit, data.unit_id) is None:
        errors.append({"loc": ["unit_id"], "msg": f"no unit with id {data.unit_id}", "type": "not_found"})
    if await session.get(GridCell, data.grid_id) is None:
        errors.append(
            {"loc": ["grid_id"], "msg": f"no grid cell with id {data.grid_id}", "type": "not_found"}
        )
    code = data.category_code
    if code is not None:
        model = CategoryMajor if len(code) == 2 else Category
        if await session.get(model, code) is None:
            errors.append(
                {"loc": ["category_code"], "msg": f"no category or major class {code!r}", "type": "not_found"}
            )
    if errors:
        raise ValidationProblem(errors)
    query = select(Assignment.id).where(
        Assignment.unit_id == data.unit_id,
        Assignment.grid_id == data.grid_id,
        Assignment.category_code.is_(None) if code is None else Assignment.category_code == code,
    )
    if (await session.execute(query)).first():
        raise AssignmentExists()
    assignment = Assignment(
        unit_id=data.unit_id, grid_id=data.grid_id, category_code=code, scope_code=code or ""
    )
    session.add(assignment)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent twin won the unique constraint
        raise AssignmentExists() from exc
    return assignment


async def delete_assignment(session: AsyncSession, assignment_id: int) -> None:
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(
            Text(f"没有编号为 {assignment_id} 的包抓分配", f"No assignment with id {assignment_id}")
        )
    await session.delete(assignment)
    await session.flush()


async def list_assignments(
    session: AsyncSession,
    page: Page,
    unit_id: int | None = None,
    grid_id: int | None = None,
    category_code: str | None = None,
    assignment_id: int | None = None,
) -> list[AssignmentOut]:
    query = (
        select(Assignment, Unit.name, GridCell.code, GridCell.name)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(GridCell, GridCell.id == Assignment.grid_id)
        .order_by(Assignment.id)
        .limit(page.limit + 1)
    )
    if page.after_id is not None:
        query = query.where(Assignment.id > page.after_id)
    if unit_id is not None:
        query = query.where(Assignment.unit_id == unit_id)
    if grid_id is not None:
        query = query.where(Assignment.grid_id == grid_id)
    if category_code is not None:
        query = query.where(Assignment.category_code == category_code)
    if assignment_id is not None:
        query = query.where(Assignment.id == assignment_id)
    return [
        AssignmentOut(
            id=a.id,
            unit_id=a.unit_id,
            unit_name=unit_name,
            grid_id=a.grid_id,
            grid_code=grid_code,
            grid_name=grid_name,
            category_code=a.category_code,
            scope=scope_of(a.category_code).value,
            created_at=a.created_at,
        )
        for a, unit_name, grid_code, grid_name in await session.execute(query)
    ]
