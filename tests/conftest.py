"""Test fixtures: a real database (SQLite by default, PostgreSQL with GRID_TEST_DATABASE_URL) built by
``alembic upgrade head``; each test runs inside a transaction that is rolled back, so tests are isolated
while the code under test still commits (its commits become savepoint releases)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core import bootstrap
from app.core.config import AuthSettings, DatabaseSettings, RateLimitSettings, Settings, StorageSettings
from app.core.db import Database, create_engine
from app.main import create_app
from tests.support.auth import bearer
from tests.support.corpus import assert_refused, footprint
from tests.support.databases import in_thread, pg_admin
from tests.support.http import client_of
from tests.support.keys import new_api_key

PASSWORD = "correct horse battery"


@dataclass
class TestDatabase:
    url: str
    dialect: str
    scratch: list[str] = field(default_factory=list)

    def new_scratch(self) -> str:
        """A fresh empty database of the same kind (for migration tests); dropped at the end."""
        name = f"gi_scratch_{uuid.uuid4().hex[:10]}"
        if self.dialect == "sqlite":
            return f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/{name}.db"
        in_thread(asyncio.run, pg_admin(self.url, f'CREATE DATABASE "{name}"'))
        self.scratch.append(name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    """Tests marked ``postgres_only`` (concurrent transactions: SQLite serialises writers with BEGIN
    IMMEDIATE) are skipped on SQLite, whichever file they are in."""
    if request.node.get_closest_marker("postgres_only") and not os.environ.get("GRID_TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL (GRID_TEST_DATABASE_URL): SQLite serialises concurrent writers")


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    base = os.environ.get("GRID_TEST_DATABASE_URL")
    if not base:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/grid_test.db"
        db = TestDatabase(url=url, dialect="sqlite")
        in_thread(bootstrap.upgrade, url)
        yield db
        return
    name = f"gi_test_{uuid.uuid4().hex[:10]}"
    in_thread(asyncio.run, pg_admin(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    db = TestDatabase(url=url, dialect="postgresql")
    try:
        in_thread(bootstrap.upgrade, url)
        yield db
    finally:
        for scratch in [*db.scratch, name]:
            in_thread(asyncio.run, pg_admin(base, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def engine(test_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(test_database.url)
    # Baseline every test may rely on, committed once: the shipped category catalogue and the demo
    # data set (the real 崆峒区 boundary, its 3 urban 街道, ~1,650 unit cells, units, users).
    from app.categories.service import catalogue_is_empty, load_catalogue
    from app.demo.builder import build_demo, demo_present

    async with Database(engine).sessionmaker() as session:
        if await catalogue_is_empty(session):
            await load_catalogue(session)
        if not await demo_present(session):
            await build_demo(session)
        await session.commit()
    yield engine
    await engine.dispose()


async def _rolled_back(engine: AsyncEngine) -> AsyncIterator[Database]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield Database(engine, bind=conn)
        await outer.rollback()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[Database]:
    async for database in _rolled_back(engine):
        yield database


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database=DatabaseSettings(database_url=test_database.url),
        auth=AuthSettings(secret_key="test-secret-key-of-sufficient-length-0123456789"),
        storage=StorageSettings(storage_dir=str(tmp_path / "storage")),
        # Tests file and log in far faster than people; tests/api/test_rate_limits.py sets its own.
        rate_limits=RateLimitSettings(
            login_per_username=0, login_per_address=0, reports_per_user=0, reports_per_api_key=0
        ),
    )


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    return create_app(settings=settings, database=db)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async for c in client_of(app):
        yield c


@pytest.fixture
async def session(db: Database):  # type: ignore[no-untyped-def]
    """A session inside the test's transaction, for arranging data and checking what was written."""
    async with db.sessionmaker() as s:
        yield s


@dataclass(frozen=True)
class World:
    """Ids of the baseline demo data, by name, and bearer headers for its users."""

    users: dict[str, tuple[int, str]]  # username -> (id, role)
    units: dict[str, int]  # name -> id
    cells: dict[str, int]  # code -> id
    secret: str

    def headers(self, username: str) -> dict[str, str]:
        return bearer(*self.users[username], self.secret)


@pytest.fixture
async def world(session, settings: Settings) -> World:  # type: ignore[no-untyped-def]
    users = {
        u: (i, r) for u, i, r in (await session.execute(text("SELECT username, id, role FROM users"))).all()
    }
    units = dict((await session.execute(text("SELECT name, id FROM units"))).all())
    cells = dict((await session.execute(text("SELECT code, id FROM grid_cells"))).all())
    return World(users=users, units=units, cells=cells, secret=settings.auth.secret_key)


async def _scratch_engine(test_database: TestDatabase, demo: bool) -> AsyncIterator[AsyncEngine]:
    """An engine on a new database of the test's kind at ``alembic upgrade head``, with the shipped catalogue
    and, when ``demo``, the demo data set, committed; disposed of after the yield."""
    from app.categories.service import load_catalogue
    from app.demo.builder import build_demo

    url = test_database.new_scratch()
    in_thread(bootstrap.upgrade, url)
    engine = create_engine(url)
    async with Database(engine).sessionmaker() as session:
        await load_catalogue(session)
        if demo:
            await build_demo(session)
        await session.commit()
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def empty_engine(test_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    """A second database with the schema and the catalogue but no grid, units or users."""
    async for engine in _scratch_engine(test_database, demo=False):
        yield engine


@pytest.fixture
async def empty_db(empty_engine: AsyncEngine) -> AsyncIterator[Database]:
    async for database in _rolled_back(empty_engine):
        yield database


@pytest.fixture
async def admin_token(settings: Settings) -> dict[str, str]:
    """Bearer headers of a user id 1 with role admin, valid in any database that has such a user."""
    return bearer(1, "admin", settings.auth.secret_key)


@pytest.fixture
async def empty_client(settings: Settings, empty_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a service over the empty database, with one admin (id 1) created in the test's transaction."""
    from app.auth.models import User
    from app.core.security import hash_password

    async with empty_db.sessionmaker() as s:
        s.add(
            User(
                id=1,
                username="root",
                password_hash=hash_password(PASSWORD),
                role="admin",
                display_name="root",
            )
        )
        await s.commit()
    async for c in client_of(create_app(settings=settings, database=empty_db)):
        yield c


@pytest.fixture(scope="session")
async def live_engine(test_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    """A third database, with the demo data, whose transactions really commit: for tests of concurrent
    requests, which need separate connections that see each other's commits. Tests using it must not
    depend on what other such tests left behind."""
    async for engine in _scratch_engine(test_database, demo=True):
        yield engine


@pytest.fixture
async def live_client(settings: Settings, live_engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_of(create_app(settings=settings, database=Database(live_engine))):
        yield c


@pytest.fixture
async def api_key(client, world) -> str:  # type: ignore[no-untyped-def]
    """A new API key (the key itself), as an admin makes one for a citizen app speaking Open311."""
    return (await new_api_key(client, world.headers("admin"), "市民随手拍"))["key"]


@pytest.fixture
async def attack(app, client, world, session, settings):  # type: ignore[no-untyped-def]
    """``attack(method, url, caller, status, code, **request)`` sends a hostile request, checks its refusal
    (tests.support.corpus.assert_refused) and that nothing was left behind: no row in the tables it could
    write, no file in the photo store. ``caller``: a demo user, None (anonymous) or ``("api_key", key)``."""
    storage = Path(settings.storage.storage_dir)

    async def send(method: str, url: str, caller, status: int, code: str | None, **kw):  # type: ignore[no-untyped-def]
        before = await footprint(session, storage)
        headers = {**kw.pop("headers", {}), **(world.headers(caller) if isinstance(caller, str) else {})}
        if isinstance(caller, tuple):
            url += ("&" if "?" in url else "?") + "api_key=" + caller[1]
        r = await client.request(method, url, headers=headers, **kw)
        assert_refused(r, status, code)
        await app.state.workshop.drain()
        assert await footprint(session, storage) == before, "the refused request left something behind"
        return r

    return send


@pytest.fixture
def public_open311_feed(settings: Settings) -> None:
    """Open311 readers without a key read every public case (GRID_OPEN311_PUBLIC_READS=all)."""
    settings.open311_public_reads = "all"
