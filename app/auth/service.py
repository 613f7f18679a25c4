"""Use cases of the auth domain. Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ROLE_LABELS_ZH, ApiKey, Role, User, WorkerGrid
from app.auth.schemas import ApiKeyCreated, ApiKeyOut, GridRef, UnitRef, UserCreate, UserOut, UserUpdate
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, Conflict, NotFound, Unauthorized, ValidationProblem
from app.core.security import hash_password, new_api_key, verify_password
from app.grids.models import GridCell
from app.units.models import Unit


class InvalidCredentials(Unauthorized):
    code, title = "invalid_credentials", "Wrong username or password"


class UsernameTaken(Conflict):
    code, title = "username_taken", "That username is taken"


class LastAdmin(Conflict):
    code, title = "last_admin", "The last active admin cannot be disabled or demoted"


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """The active user with these credentials; raises :class:`InvalidCredentials` otherwise."""
    user = None
    username = username.strip().lower()  # usernames are case-insensitive: "Admin" is "admin"
    if 0 < len(username) <= 64 and "\x00" not in username:  # never send what cannot be a username to the DB
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if not verify_password(password, user.password_hash if user else None) or user is None or not user.active:
        raise InvalidCredentials()
    return user


async def _check_role_links(session: AsyncSession, role: Role, unit_id: int | None, grid_ids: Sequence[int]) -> None:
    errors = []
    if role is Role.unit_staff:
        if unit_id is None:
            errors.append({"loc": ["unit_id"], "msg": "unit staff must belong to a unit", "type": "missing"})
        elif await session.get(Unit, unit_id) is None:
            errors.append({"loc": ["unit_id"], "msg": f"no unit with id {unit_id}", "type": "not_found"})
    elif unit_id is not None:
        errors.append({"loc": ["unit_id"], "msg": "only unit staff belong to a unit", "type": "not_allowed"})
    if grid_ids:
        if role is not Role.worker:
            errors.append({"loc": ["grid_ids"], "msg": "only grid workers patrol grid cells", "type": "not_allowed"})
        else:
            found = set((await session.execute(select(GridCell.id).where(GridCell.id.in_(set(grid_ids))))).scalars())
            missing = sorted(set(grid_ids) - found)
            if missing:
                errors.append({"loc": ["grid_ids"], "msg": f"unknown grid cells: {missing[:20]}", "type": "not_found"})
    if errors:
        raise ValidationProblem(errors)


async def _set_grids(session: AsyncSession, user_id: int, grid_ids: Sequence[int]) -> None:
    await session.execute(delete(WorkerGrid).where(WorkerGrid.user_id == user_id))
    session.add_all(WorkerGrid(user_id=user_id, grid_id=g) for g in sorted(set(grid_ids)))
    await session.flush()


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    """A new user; 422 for role/unit/grid mismatches, 409 ``username_taken``."""
    await _check_role_links(session, data.role, data.unit_id, data.grid_ids)
    if (await session.execute(select(User.id).where(User.username == data.username))).first():
        raise UsernameTaken(f"The username '{data.username}' is taken")
    user = User(username=data.username, display_name=data.display_name, password_hash=hash_password(data.password),
                role=data.role.value, unit_id=data.unit_id, active=True)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # lost a race for the same username
        raise UsernameTaken(f"The username '{data.username}' is taken") from exc
    await _set_grids(session, user.id, data.grid_ids)
    return user


async def update_user(session: AsyncSession, user_id: int, data: UserUpdate) -> User:
    user = await get_user(session, user_id)
    fields = data.model_dump(exclude_unset=True)
    role = Role(fields.get("role") or user.role)
    unit_id = fields["unit_id"] if "unit_id" in fields else (user.unit_id if role is Role.unit_staff else None)
    grid_ids = fields.get("grid_ids")
    if grid_ids is None:
        grid_ids = [] if role is not Role.worker else list(await worker_grid_ids(session, user.id))
    await _check_role_links(session, role, unit_id, grid_ids)
    before = (user.role, user.unit_id, sorted(await worker_grid_ids(session, user.id)))
    if before != (role.value, unit_id, sorted(set(grid_ids))):
        user.scope_changed_at = utcnow()  # their phones' delta syncs must start again (app.reports.listing)
    stays_admin = role is Role.admin and fields.get("active", user.active) is not False
    if user.role == Role.admin.value and user.active and not stays_admin:
        admins = (await session.execute(select(func.count()).select_from(User).where(
            User.role == Role.admin.value, User.active.is_(True), User.id != user.id))).scalar_one()
        if admins == 0:
            raise LastAdmin("Create or enable another admin first; otherwise nobody could manage users")
    user.role, user.unit_id = role.value, unit_id
    if fields.get("password"):
        user.password_hash = hash_password(fields["password"])
    if fields.get("display_name") is not None:
        user.display_name = fields["display_name"]
    if fields.get("active") is not None:
        user.active = fields["active"]
    await session.flush()
    await _set_grids(session, user.id, grid_ids)
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}")
    return user


async def worker_grid_ids(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.execute(select(WorkerGrid.grid_id).where(WorkerGrid.user_id == user_id))
    return list(rows.scalars())


async def list_users(session: AsyncSession, page: Page, role: Role | None = None,
                     unit_id: int | None = None) -> list[User]:
    query = select(User).order_by(User.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(User.id > page.after_id)
    if role is not None:
        query = query.where(User.role == role.value)
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    return list((await session.execute(query)).scalars())


async def users_out(session: AsyncSession, users: Sequence[User]) -> list[UserOut]:
    """Users with their unit and grid cells, in two queries whatever the number of users."""
    unit_ids = {u.unit_id for u in users if u.unit_id is not None}
    units = {u.id: u for u in (await session.execute(select(Unit).where(Unit.id.in_(unit_ids)))).scalars()} \
        if unit_ids else {}
    grids: dict[int, list[GridRef]] = {u.id: [] for u in users}
    if users:
        rows = await session.execute(
            select(WorkerGrid.user_id, GridCell.id, GridCell.code, GridCell.name, GridCell.level)
            .join(GridCell, GridCell.id == WorkerGrid.grid_id)
            .where(WorkerGrid.user_id.in_([u.id for u in users])).order_by(GridCell.code))
        for user_id, gid, code, name, level in rows:
            grids[user_id].append(GridRef(id=gid, code=code, name=name, level=level))
    out = []
    for u in users:
        unit = units.get(u.unit_id) if u.unit_id is not None else None
        out.append(UserOut(id=u.id, username=u.username, display_name=u.display_name, role=Role(u.role),
                           role_label=ROLE_LABELS_ZH[Role(u.role)], unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
                           grids=grids[u.id], active=u.active, created_at=u.created_at))
    return out


async def create_api_key(session: AsyncSession, name: str, created_by: User | None) -> ApiKeyCreated:
    key, prefix, key_hash = new_api_key()
    row = ApiKey(name=name, prefix=prefix, key_hash=key_hash, created_by_id=created_by.id if created_by else None)
    session.add(row)
    await session.flush()
    return ApiKeyCreated(**ApiKeyOut.model_validate(row, from_attributes=True).model_dump(), key=key)


async def list_api_keys(session: AsyncSession) -> list[ApiKeyOut]:
    rows = (await session.execute(select(ApiKey).order_by(ApiKey.id))).scalars()
    return [ApiKeyOut.model_validate(r, from_attributes=True) for r in rows]


async def revoke_api_key(session: AsyncSession, key_id: int) -> None:
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"No API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    await session.flush()


__all__ = ["AppError", "InvalidCredentials", "UsernameTaken", "authenticate", "create_api_key", "create_user",
           "get_user", "list_api_keys", "list_users", "revoke_api_key", "update_user", "users_out"]
