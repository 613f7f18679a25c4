"""Issue 15, items 2 and 3 (PostgreSQL): user and unit edits checked against committed rows hold under
concurrent writers. Two admins demoting each other at once both got 200 and left no admin; an edit making a
worker unit staff raced one giving them cells and left unit staff patrolling cells.

These run real concurrent transactions (``live_client``); on SQLite writers are serialised already."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select, update

from app.auth.models import User, WorkerGrid
from app.core.security import create_access_token, hash_password

pytestmark = pytest.mark.postgres_only
ROUNDS = 5


@pytest.fixture
async def made(live_engine) -> AsyncIterator[list[int]]:  # type: ignore[no-untyped-def]
    """Ids of users a test creates in the live database; deleted afterwards."""
    ids: list[int] = []
    yield ids
    async with live_engine.begin() as conn:
        await conn.execute(delete(User).where(User.id.in_(ids)))


async def _add_user(live_engine, made: list[int], role: str, secret: str) -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    async with live_engine.begin() as conn:
        user_id = (
            await conn.execute(
                User.__table__.insert()
                .values(
                    username=f"race{uuid.uuid4().hex[:10]}",
                    display_name="",
                    password_hash=hash_password("a long passphrase"),
                    role=role,
                    active=True,
                )
                .returning(User.id)
            )
        ).scalar_one()
    made.append(user_id)
    token, _ = create_access_token(
        subject=str(user_id), role=role, secret=secret, algorithm="HS256", minutes=10
    )
    return user_id, {"Authorization": f"Bearer {token}"}


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    live_client, live_engine, made, settings
) -> None:  # type: ignore[no-untyped-def]
    async with live_engine.begin() as conn:  # only this test's admins are active while it runs
        others = list(
            (
                await conn.execute(
                    update(User)
                    .where(User.role == "admin", User.active.is_(True))
                    .values(active=False)
                    .returning(User.id)
                )
            ).scalars()
        )
    try:
        outcomes = []
        for _ in range(ROUNDS):
            x, x_h = await _add_user(live_engine, made, "admin", settings.auth.secret_key)
            y, y_h = await _add_user(live_engine, made, "admin", settings.auth.secret_key)
            demote = {"role": "supervisor"}
            responses = await asyncio.gather(
                live_client.patch(f"/api/v1/users/{y}", json=demote, headers=x_h),
                live_client.patch(f"/api/v1/users/{x}", json=demote, headers=y_h),
            )
            outcomes.append(sorted(r.status_code for r in responses))
            for r in responses:
                if r.status_code == 409:
                    assert r.json()["code"] == "last_admin", r.text
            async with live_engine.connect() as conn:
                admins = (
                    await conn.execute(
                        select(func.count())
                        .select_from(User)
                        .where(User.role == "admin", User.active.is_(True))
                    )
                ).scalar_one()
            assert admins == 1, outcomes
            async with live_engine.begin() as conn:  # the next round starts from no admin of its own
                await conn.execute(update(User).where(User.id.in_([x, y])).values(active=False))
        # the loser is refused as the last admin (409), or as no admin any more (403) if it came second
        assert all(o in ([200, 409], [200, 403]) for o in outcomes), outcomes
    finally:
        async with live_engine.begin() as conn:
            await conn.execute(update(User).where(User.id.in_(others)).values(active=True))


async def test_a_role_change_racing_a_cell_assignment_leaves_no_unit_staff_with_cells(  # type: ignore[no-untyped-def]
    live_client, live_engine, world, made, settings
) -> None:
    admin = world.headers("admin")
    unit = world.units["市妇联"]
    cell = world.cells["620802001001001"]
    broken = []
    for _ in range(ROUNDS):
        user_id, _ = await _add_user(live_engine, made, "worker", settings.auth.secret_key)
        responses = await asyncio.gather(
            live_client.patch(
                f"/api/v1/users/{user_id}", json={"role": "unit_staff", "unit_id": unit}, headers=admin
            ),
            live_client.patch(f"/api/v1/users/{user_id}", json={"grid_ids": [cell]}, headers=admin),
        )
        assert all(r.status_code in (200, 422) for r in responses), [r.text for r in responses]
        async with live_engine.connect() as conn:
            role = (await conn.execute(select(User.role).where(User.id == user_id))).scalar_one()
            cells = (
                await conn.execute(
                    select(func.count()).select_from(WorkerGrid).where(WorkerGrid.user_id == user_id)
                )
            ).scalar_one()
        if role != "worker" and cells:
            broken.append((role, cells, [r.status_code for r in responses]))
    assert not broken, broken


async def test_two_units_renamed_to_one_name_at_once_one_is_told_the_name_is_taken(
    live_client, world
) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    for _ in range(ROUNDS):
        ids = [
            (
                await live_client.post(
                    "/api/v1/units", json={"name": f"单位{uuid.uuid4().hex[:8]}"}, headers=h
                )
            ).json()["id"]
            for _ in range(2)
        ]
        name = f"同名{uuid.uuid4().hex[:8]}"
        responses = await asyncio.gather(
            *[live_client.patch(f"/api/v1/units/{i}", json={"name": name}, headers=h) for i in ids]
        )
        assert sorted(r.status_code for r in responses) == [200, 409]
        assert [r.json()["code"] for r in responses if r.status_code == 409] == ["unit_name_taken"]
