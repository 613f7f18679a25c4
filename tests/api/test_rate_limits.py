"""Rate limits on login and on filing reports (issue 7): counted in the database, so every process
shares them, refused with 429 ``rate_limited`` and ``Retry-After``, and nothing filed beyond them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.core.config import RateLimitSettings
from app.core.ratelimit import Limit, RateCounter, RateLimited, spend
from app.main import create_app
from tests.api.test_open311 import FORM
from tests.conftest import _client_of
from tests.support.reports import CENTRE

PROBLEM = "application/problem+json"


@pytest.fixture
async def limited(settings, db):  # type: ignore[no-untyped-def]
    """A client of an app with small limits: 3 logins per username, 5 per address, 2 reports per user."""
    settings = settings.model_copy(update={"rate_limits": RateLimitSettings(
        login_per_username=3, login_per_address=5, login_window_s=300, reports_per_user=2, reports_per_api_key=3,
        reports_window_s=60)})
    async for c in _client_of(create_app(settings=settings, database=db)):
        yield c


async def _login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/auth/token", data={"username": username, "password": password})


async def test_login_attempts_per_username_then_429_even_with_the_right_password(limited) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert (await _login(limited, "dispatcher", "wrong password")).status_code == 401
    r = await _login(limited, "Dispatcher ", "demo-dispatcher-2026")  # the same account, as the login reads it
    assert r.status_code == 429 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "rate_limited" and 1 <= int(r.headers["retry-after"]) <= 600
    # Another account from the same address is still let in (under the address limit of 5).
    assert (await _login(limited, "supervisor", "demo-supervisor-2026")).status_code == 200


async def test_login_attempts_per_address_cover_every_username(limited) -> None:  # type: ignore[no-untyped-def]
    codes = [(await _login(limited, f"nobody{i}", "x")).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


async def test_reports_per_user_are_limited_and_the_refused_one_is_not_filed(limited, world, session) -> None:  # type: ignore[no-untyped-def]
    before = (await session.execute(select(func.count()).select_from(text("cases")))).scalar_one()
    codes = []
    for i in range(3):
        r = await limited.post("/api/v1/reports", json={"category_code": "06010", **CENTRE, "description": f"r{i}"},
                               headers=world.headers("worker2"))
        codes.append(r.status_code)
    assert codes == [201, 201, 429] and r.json()["code"] == "rate_limited" and "retry-after" in r.headers
    after = (await session.execute(select(func.count()).select_from(text("cases")))).scalar_one()
    assert after == before + 2
    # Another worker has a budget of their own.
    r = await limited.post("/api/v1/reports", json={"category_code": "06010", **CENTRE},
                           headers=world.headers("worker1"))
    assert r.status_code == 201


async def test_open311_keys_have_their_own_limit_in_open311_errors(limited, world) -> None:  # type: ignore[no-untyped-def]
    key = (await limited.post("/api/v1/api-keys", json={"name": "citizen app"}, headers=world.headers("admin"))).json()
    form = {**FORM, "api_key": key["key"]}
    codes = [(await limited.post("/open311/v2/requests.json", data=form)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = await limited.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 429 and r.json()[0]["code"] == 429 and "retry-after" in r.headers


async def test_the_window_slides_and_counters_are_shared_through_the_database(db, session) -> None:  # type: ignore[no-untyped-def]
    limit = Limit("t", hits=4, window_s=60, what="things")
    t0 = 6_000_000.0  # a window start (a multiple of 60)
    for i in range(4):
        await spend(db, limit, "k", secret="s", now=t0 + 50 + i)
    with pytest.raises(RateLimited) as refused:
        await spend(db, limit, "k", secret="s", now=t0 + 55)
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 120
    # Just after the window turns, the previous window still weighs almost fully: still refused.
    with pytest.raises(RateLimited):
        await spend(db, limit, "k", secret="s", now=t0 + 61)
    # Late in the next window the previous one weighs little: admitted again.
    await spend(db, limit, "k", secret="s", now=t0 + 115)
    # The key is stored only as a keyed hash.
    rows = (await session.execute(select(RateCounter.bucket, RateCounter.window_start, RateCounter.hits)
                                  .where(RateCounter.bucket.like("t:%")).order_by(RateCounter.window_start))).all()
    assert [(w - t0, hits) for _, w, hits in rows] == [(0, 5), (60, 2)]
    assert {b for b, _, _ in rows} == {limit.bucket("k", "s")} and len(rows[0][0]) == len("t:") + 32


async def test_a_zero_limit_is_off(db) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):
        await spend(db, Limit("off", hits=0, window_s=60, what="x"), "k", secret="s")
