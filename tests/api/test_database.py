"""What the database keeps: instants with their offset, coordinates to the last digit, the schema's history."""

import datetime as dt
from decimal import Decimal

import pytest
import shapely
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app import bootstrap
from app.auth.models import User
from app.core.db import Database, create_engine
from app.grids.models import GridCell
from tests.conftest import _in_thread

BEIJING_TIME = dt.timezone(dt.timedelta(hours=8))


async def test_a_time_written_with_plus_0800_reads_back_as_the_same_instant(db: Database) -> None:
    written = dt.datetime(2026, 5, 1, 8, 30, 0, 123456, tzinfo=BEIJING_TIME)
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


six_decimals = st.decimals(min_value=Decimal("-179.999999"), max_value=Decimal("179.999999"), places=6,
                           allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lon=six_decimals, lat=st.decimals(min_value=Decimal("-89.999999"), max_value=Decimal("89.999999"), places=6))
async def test_coordinates_keep_six_decimals_exactly(db: Database, lon: Decimal, lat: Decimal) -> None:
    x, y = float(lon), float(lat)
    async with db.sessionmaker() as s:
        cell = GridCell(code=f"C{abs(hash((x, y)))}", name="c", level=1, path="/x/", area_m2=1.0,
                        geometry=shapely.to_wkb(shapely.box(x, y, x, y)), min_lon=x, min_lat=y, max_lon=x, max_lat=y)
        s.add(cell)
        await s.flush()
        row = (await s.execute(select(GridCell.min_lon, GridCell.min_lat).where(GridCell.id == cell.id))).one()
        await s.rollback()
    assert (f"{row[0]:.6f}", f"{row[1]:.6f}") == (f"{lon:.6f}", f"{lat:.6f}")
    assert row == (x, y)  # the double itself, not only its rounding


def test_migrations_go_up_down_and_up_with_no_drift(test_database) -> None:  # type: ignore[no-untyped-def]
    url = test_database.new_scratch()
    cfg = bootstrap.alembic_config(url)
    _in_thread(command.upgrade, cfg, "head")
    _in_thread(command.downgrade, cfg, "base")
    _in_thread(command.upgrade, cfg, "head")
    _in_thread(command.check, cfg)  # raises when the models and the migrations disagree

    async def revision() -> str | None:
        engine = create_engine(url)
        try:
            return await bootstrap.current_revision(engine)
        finally:
            await engine.dispose()

    import asyncio

    assert _in_thread(asyncio.run, revision()) == bootstrap.head_revision(url)


async def test_database_errors_never_carry_the_bound_values(test_database) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(test_database.url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as failed:
                await conn.execute(text("SELECT * FROM no_such_table WHERE phone = :phone"), {"phone": "13800000000"})
    finally:
        await engine.dispose()
    assert "no_such_table" in str(failed.value) and "13800000000" not in str(failed.value)
