"""Managing people and keys (admin): users with their unit and patrolled cells, API keys. Services flush;
the request commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ROLE_LABELS_ZH, ApiKey, Role, User, WorkerGrid
from app.auth.service import revoke_tokens
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, Conflict, NotFound, ValidationProblem
from app.core.i18n import Text
from app.core.security import hash_password, new_api_key
from app.grids.directory import directory
from app.grids.models import GridCell
from app.units.book import units
from app.units.models import Unit
from app.units.schemas import UnitRef
from app.users.schemas import ApiKeyCreated, ApiKeyOut, GridRef, UserCreate, UserOut, UserUpdate


class UsernameTaken(Conflict):
    code, title = "username_taken", "That username is taken"
    title_zh = "用户名已被占用"


class LastAdmin(Conflict):
    code, title = "last_admin", "The last active admin cannot be disabled or demoted"
    title_zh = "不能停用或降级最后一个在用的管理员"


async def _check_role_links(
    session: AsyncSession, role: Role, unit_id: int | None, grid_ids: Sequence[int]
) -> None:
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
            errors.append(
                {"loc": ["grid_ids"], "msg": "only grid workers patrol grid cells", "type": "not_allowed"}
            )
        else:
            found = set(
                (await session.execute(select(GridCell.id).where(GridCell.id.in_(set(grid_ids))))).scalars()
            )
            missing = sorted(set(grid_ids) - found)
            if missing:
                errors.append(
                    {"loc": ["grid_ids"], "msg": f"unknown grid cells: {missing[:20]}", "type": "not_found"}
                )
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
        raise UsernameTaken(
            Text(f"用户名“{data.username}”已被占用", f"The username '{data.username}' is taken")
        )
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=data.role.value,
        unit_id=data.unit_id,
        active=True,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # lost a race for the same username
        raise UsernameTaken(
            Text(f"用户名“{data.username}”已被占用", f"The username '{data.username}' is taken")
        ) from exc
    await _set_grids(session, user.id, data.grid_ids)
    return user


async def _lock(session: AsyncSession, user_id: int) -> tuple[User, int]:
    """The user to edit and the number of *other* active admins, both as committed now, with their rows
    locked until the request's transaction ends.

    One statement locks the user and every active admin in id order (``FOR NO KEY UPDATE``, which still
    lets cases reference these users): every edit of a user takes its locks the same way, so two edits
    serialise instead of each checking the other's stale rows (two admins demoting each other both saw
    one other admin under READ COMMITTED), and cannot deadlock. When a concurrent edit committed first,
    PostgreSQL reads the locked rows again and drops those that stopped being active admins. On SQLite
    writers are serialised already (BEGIN IMMEDIATE) and the clause is not rendered. 404 ``not_found``.
    """
    rows = (
        (
            await session.execute(
                select(User)
                .where(or_(User.id == user_id, and_(User.role == Role.admin.value, User.active.is_(True))))
                .order_by(User.id)
                .with_for_update(key_share=True)
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    user = next((u for u in rows if u.id == user_id), None)
    if user is None:
        raise NotFound(f"No user with id {user_id}")
    admins = sum(1 for u in rows if u.id != user_id and u.role == Role.admin.value and u.active)
    return user, admins


async def update_user(session: AsyncSession, user_id: int, data: UserUpdate) -> User:
    """Edit a user; only the fields sent change. 404 ``not_found``; 422 for role/unit/grid mismatches;
    409 ``last_admin`` when it would leave no active admin. A new password or a deactivation revokes the
    user's bearer tokens (app.auth.service.revoke_tokens); re-activating does not bring them back."""
    user, other_admins = await _lock(session, user_id)
    fields = data.model_dump(exclude_unset=True)
    role = Role(fields.get("role") or user.role)
    unit_id = fields.get("unit_id", user.unit_id if role is Role.unit_staff else None)
    grid_ids = fields.get("grid_ids")
    if grid_ids is None:
        grid_ids = [] if role is not Role.worker else list(await worker_grid_ids(session, user.id))
    await _check_role_links(session, role, unit_id, grid_ids)
    before = (user.role, user.unit_id, sorted(await worker_grid_ids(session, user.id)))
    if before != (role.value, unit_id, sorted(set(grid_ids))):
        user.scope_changed_at = utcnow()  # their phones' delta syncs must start again (app.reports.listing)
    stays_admin = role is Role.admin and fields.get("active", user.active) is not False
    if user.role == Role.admin.value and user.active and not stays_admin and other_admins == 0:
        raise LastAdmin(
            Text(
                "请先创建或启用另一个管理员，否则将无人能管理用户",
                "Create or enable another admin first; otherwise nobody could manage users",
            )
        )
    revoke = bool(fields.get("password")) or (user.active and fields.get("active") is False)
    user.role, user.unit_id = role.value, unit_id
    if fields.get("password"):
        user.password_hash = hash_password(fields["password"])
    if fields.get("display_name") is not None:
        user.display_name = fields["display_name"]
    if fields.get("active") is not None:
        user.active = fields["active"]
    await session.flush()
    if revoke:
        await revoke_tokens(session, user.id)
    await _set_grids(session, user.id, grid_ids)
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(Text(f"没有编号为 {user_id} 的用户", f"No user with id {user_id}"))
    return user


async def worker_grid_ids(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.execute(select(WorkerGrid.grid_id).where(WorkerGrid.user_id == user_id))
    return list(rows.scalars())


async def list_users(
    session: AsyncSession, page: Page, role: Role | None = None, unit_id: int | None = None
) -> list[User]:
    query = select(User).order_by(User.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(User.id > page.after_id)
    if role is not None:
        query = query.where(User.role == role.value)
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    return list((await session.execute(query)).scalars())


async def users_out(session: AsyncSession, users: Sequence[User]) -> list[UserOut]:
    """Users with their unit and grid cells: one statement for the patrolled cells whatever the number of
    users; names from the per-process copies of units and cells."""
    grid_ids: dict[int, list[int]] = {u.id: [] for u in users}
    if users:
        rows = await session.execute(
            select(WorkerGrid.user_id, WorkerGrid.grid_id).where(
                WorkerGrid.user_id.in_([u.id for u in users])
            )
        )
        for user_id, grid_id in rows:
            grid_ids[user_id].append(grid_id)
    return [await user_out(session, u, grid_ids[u.id]) for u in users]


async def user_out(session: AsyncSession, user: User, grid_ids: Iterable[int]) -> UserOut:
    """One user with the unit they belong to and the cells they patrol (``grid_ids``), by cell code."""
    cells, all_units = await directory(session), await units(session)
    unit = all_units.get(user.unit_id) if user.unit_id is not None else None
    grids = sorted((cells.by_id[g] for g in grid_ids if g in cells.by_id), key=lambda c: c.code)
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        role_label=ROLE_LABELS_ZH[Role(user.role)],
        unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
        grids=[GridRef(id=c.id, code=c.code, name=c.name, level=c.level) for c in grids],
        active=user.active,
        created_at=user.created_at,
    )


async def create_api_key(session: AsyncSession, name: str, created_by: User | None) -> ApiKeyCreated:
    key, prefix, key_hash = new_api_key()
    row = ApiKey(
        name=name, prefix=prefix, key_hash=key_hash, created_by_id=created_by.id if created_by else None
    )
    session.add(row)
    await session.flush()
    return ApiKeyCreated(**ApiKeyOut.model_validate(row, from_attributes=True).model_dump(), key=key)


async def list_api_keys(session: AsyncSession) -> list[ApiKeyOut]:
    rows = (await session.execute(select(ApiKey).order_by(ApiKey.id))).scalars()
    return [ApiKeyOut.model_validate(r, from_attributes=True) for r in rows]


async def revoke_api_key(session: AsyncSession, key_id: int) -> None:
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(Text(f"没有编号为 {key_id} 的 API key", f"No API key with id {key_id}"))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    await session.flush()


__all__ = [
    "AppError",
    "UsernameTaken",
    "create_api_key",
    "create_user",
    "get_user",
    "list_api_keys",
    "list_users",
    "revoke_api_key",
    "update_user",
    "users_out",
]
