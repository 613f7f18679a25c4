"""What the database keeps: instants with their offset, coordinates to the last digit, the schema's history;
concurrent writers on the embedded database (SQLite)."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import shapely
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app.auth.models import User
from app.core import bootstrap
from app.core.db import Database, create_engine
from app.grids.models import GridCell
from tests.support.beijing import at
from tests.support.databases import in_thread


async def test_a_time_written_with_plus_0800_reads_back_as_the_same_instant(db: Database) -> None:
    written = at(2026, 5, 1, 8, 30, 0, 123456)  # +08:00
    async with db.sessionmaker() as s:
        s.add(User(username="tz", password_hash="x", role="worker", created_at=written, updated_at=written))
        await s.commit()
    async with db.sessionmaker() as s:
        read = (await s.execute(select(User.created_at).where(User.username == "tz"))).scalar_one()
    assert read == written and read.utcoffset() == dt.timedelta(0)
    assert read.isoformat() == "2026-05-01T00:30:00.123456+00:00"


async def test_a_naive_time_is_refused(db: Database) -> None:
    async with db.sessionmaker() as s:
        s.add(User(username="naive", password_hash="x", role="worker", created_at=dt.datetime(2026, 5, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            await s.flush()


six_decimals = st.decimals(
    min_value=Decimal("-179.999999"),
    max_value=Decimal("179.999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lon=six_decimals,
    lat=st.decimals(min_value=Decimal("-89.999999"), max_value=Decimal("89.999999"), places=6),
)
async def test_coordinates_keep_six_decimals_exactly(db: Database, lon: Decimal, lat: Decimal) -> None:
    x, y = float(lon), float(lat)
    async with db.sessionmaker() as s:
        cell = GridCell(
            code=f"C{abs(hash((x, y)))}",
            name="c",
            level=1,
            path="/x/",
            area_m2=1.0,
            geometry=shapely.to_wkb(shapely.box(x, y, x, y)),
            min_lon=x,
            min_lat=y,
            max_lon=x,
            max_lat=y,
        )
        s.add(cell)
        await s.flush()
        row = (
            await s.execute(select(GridCell.min_lon, GridCell.min_lat).where(GridCell.id == cell.id))
        ).one()
        await s.rollback()
    assert (f"{row[0]:.6f}", f"{row[1]:.6f}") == (f"{lon:.6f}", f"{lat:.6f}")
    assert row == (x, y)  # the double itself, not only its rounding


def test_migrations_go_up_down_and_up_with_no_drift(test_database) -> None:  # type: ignore[no-untyped-def]
    url = test_database.new_scratch()
    cfg = bootstrap.alembic_config(url)
    in_thread(command.upgrade, cfg, "head")
    in_thread(command.downgrade, cfg, "base")
    in_thread(command.upgrade, cfg, "head")
    in_thread(command.check, cfg)  # raises when the models and the migrations disagree

    async def revision() -> str | None:
        engine = create_engine(url)
        try:
            return await bootstrap.current_revision(engine)
        finally:
            await engine.dispose()

    assert in_thread(asyncio.run, revision()) == bootstrap.head_revision(url)


def test_migrations_keep_a_populated_database_down_and_up(test_database) -> None:  # type: ignore[no-untyped-def]
    # A real database has rows that reference the tables a migration copies in batch mode (unit staff reference
    # units, history references cases): dropping the old copy failed on SQLite with its foreign keys on.
    url = test_database.new_scratch()
    cfg = bootstrap.alembic_config(url)
    in_thread(command.upgrade, cfg, "head")

    async def populate_and_count() -> tuple[int, int, int]:
        from app.categories.service import load_catalogue
        from app.demo.builder import build_demo

        engine = create_engine(url)
        try:
            async with Database(engine).sessionmaker() as session:
                if not (await session.execute(select(User.id).limit(1))).first():
                    await load_catalogue(session)
                    await build_demo(session)
                    await session.commit()
                counts = []
                for table in ("users", "units", "worker_grids"):
                    counts.append((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
                return counts[0], counts[1], counts[2]
        finally:
            await engine.dispose()

    before = in_thread(asyncio.run, populate_and_count())
    assert all(before)
    in_thread(command.downgrade, cfg, "20261202_0001")  # the schema as it landed before this release
    in_thread(command.upgrade, cfg, "head")
    assert in_thread(asyncio.run, populate_and_count()) == before


async def test_database_errors_never_carry_the_bound_values(test_database) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(test_database.url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as failed:
                await conn.execute(
                    text("SELECT * FROM no_such_table WHERE phone = :phone"), {"phone": "13800000000"}
                )
    finally:
        await engine.dispose()
    assert "no_such_table" in str(failed.value) and "13800000000" not in str(failed.value)


async def test_concurrent_writes_on_the_embedded_database_all_succeed(live_client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: concurrent writers on SQLite failed with "database is locked" (writers
    # now begin IMMEDIATE).
    h = world.headers("admin")
    tag = uuid.uuid4().hex[:8]

    async def create(i: int):  # type: ignore[no-untyped-def]
        return await live_client.post(
            "/api/v1/users",
            json={"username": f"u{tag}{i}", "password": "long enough pw", "role": "worker"},
            headers=h,
        )

    responses = await asyncio.gather(*[create(i) for i in range(12)])
    assert [r.status_code for r in responses] == [201] * 12
