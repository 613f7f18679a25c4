"""Rate limits on login and on filing reports (issue 7): counted in the database, so every process
shares them, refused with 429 ``rate_limited`` and ``Retry-After``, and nothing filed beyond them."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.core.config import RateLimitSettings
from app.core.ratelimit import Limit, RateCounter, RateLimited, spend
from app.main import create_app
from tests.support.auth import login
from tests.support.http import PROBLEM, client_of
from tests.support.keys import new_api_key
from tests.support.open311 import FORM
from tests.support.photos import NO_GPS_JPEG
from tests.support.reports import CENTRE
from tests.support.store import count


@pytest.fixture
async def limited(settings, db):  # type: ignore[no-untyped-def]
    """A client of an app with small limits: 3 logins per username, 5 per address, 2 reports per user."""
    settings = settings.model_copy(
        update={
            "rate_limits": RateLimitSettings(
                login_per_username=3,
                login_per_address=5,
                login_window_s=300,
                reports_per_user=2,
                reports_per_api_key=3,
                reports_window_s=60,
            )
        }
    )
    async for c in client_of(create_app(settings=settings, database=db)):
        yield c


async def test_login_attempts_per_username_then_429_even_with_the_right_password(limited) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert (await login(limited, "dispatcher", "wrong password")).status_code == 401
    r = await login(limited, "Dispatcher ", "demo-dispatcher-2026")  # the same account, as the login reads it
    assert r.status_code == 429 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "rate_limited" and 1 <= int(r.headers["retry-after"]) <= 600
    # Another account from the same address is still let in (under the address limit of 5).
    assert (await login(limited, "supervisor", "demo-supervisor-2026")).status_code == 200


async def test_login_attempts_per_address_cover_every_username(limited) -> None:  # type: ignore[no-untyped-def]
    codes = [(await login(limited, f"nobody{i}", "x")).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


async def test_reports_per_user_are_limited_and_the_refused_one_is_not_filed(limited, world, session) -> None:  # type: ignore[no-untyped-def]
    before = await count(session, "cases")
    codes, case_id = [], 0
    for i in range(3):
        r = await limited.post(
            "/api/v1/reports",
            json={"category_code": "06010", **CENTRE, "description": f"r{i}"},
            headers=world.headers("worker2"),
        )
        codes.append(r.status_code)
        case_id = r.json().get("id", case_id) if i == 0 else case_id
    assert codes == [201, 201, 429] and r.json()["code"] == "rate_limited" and "retry-after" in r.headers
    after = await count(session, "cases")
    assert after == before + 2
    # Evidence uploads draw on the same budget.
    r = await limited.post(
        f"/api/v1/reports/{case_id}/photos",
        headers=world.headers("worker2"),
        files=[("photos", ("a.jpg", NO_GPS_JPEG.read_bytes(), "image/jpeg"))],
    )
    assert r.status_code == 429
    # Another worker has a budget of their own.
    r = await limited.post(
        "/api/v1/reports", json={"category_code": "06010", **CENTRE}, headers=world.headers("worker1")
    )
    assert r.status_code == 201


async def test_a_retry_with_the_same_idempotency_key_is_answered_beyond_the_limit(limited, world) -> None:  # type: ignore[no-untyped-def]
    report = {"category_code": "06010", **CENTRE}
    headers = {**world.headers("worker2"), "Idempotency-Key": "phone-1"}
    first = await limited.post("/api/v1/reports", json=report, headers=headers)
    replays = [await limited.post("/api/v1/reports", json=report, headers=headers) for _ in range(3)]
    assert first.status_code == 201 and all(r.status_code == 201 for r in replays)
    assert {r.json()["id"] for r in replays} == {first.json()["id"]}
    assert all(r.headers["idempotent-replayed"] == "true" for r in replays)
    # The replays used none of the two reports a minute: one more new report fits.
    r = await limited.post("/api/v1/reports", json=report, headers={**headers, "Idempotency-Key": "phone-2"})
    assert r.status_code == 201
    # An upload is not a replay: the answered key does not let photos in beyond the limit.
    r = await limited.post(
        f"/api/v1/reports/{first.json()['id']}/photos",
        headers=headers,
        files=[("photos", ("a.jpg", NO_GPS_JPEG.read_bytes(), "image/jpeg"))],
    )
    assert r.status_code == 429


async def test_open311_keys_have_their_own_limit_in_open311_errors(limited, world) -> None:  # type: ignore[no-untyped-def]
    key = await new_api_key(limited, world.headers("admin"), "citizen app")
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
    # Refused hits are not counted; the key is stored only as a keyed hash.
    rows = (
        await session.execute(
            select(RateCounter.bucket, RateCounter.window_start, RateCounter.hits)
            .where(RateCounter.bucket.like("t:%"))
            .order_by(RateCounter.window_start)
        )
    ).all()
    assert [(w - t0, hits) for _, w, hits in rows] == [(0, 4), (60, 1)]
    assert {b for b, _, _ in rows} == {limit.bucket("k", "s")} and len(rows[0][0]) == len("t:") + 32


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hits=st.integers(1, 12),
    window_s=st.sampled_from([10, 60, 300]),
    gaps=st.lists(st.floats(0, 400, allow_nan=False), min_size=1, max_size=40),
)
async def test_a_client_that_waits_retry_after_gets_in(
    db, hits: int, window_s: int, gaps: list[float]
) -> None:  # type: ignore[no-untyped-def]
    """Whatever came before, the hit sent Retry-After seconds after a refusal is admitted, and the hits
    admitted in any window_s seconds never exceed twice the limit (the sliding estimate's bound)."""
    limit, key = Limit("p", hits=hits, window_s=window_s, what="things"), uuid.uuid4().hex
    now, admitted = 7_000_000.0, []
    for gap in gaps:
        now += gap
        try:
            await spend(db, limit, key, secret="s", now=now)
            admitted.append(now)
        except RateLimited as refused:
            now += int(refused.headers["Retry-After"])
            await spend(db, limit, key, secret="s", now=now)  # must not raise
            admitted.append(now)
    for t in admitted:
        assert sum(1 for u in admitted if t <= u < t + window_s) <= 2 * hits


async def test_a_zero_limit_is_off(db) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):
        await spend(db, Limit("off", hits=0, window_s=60, what="x"), "k", secret="s")
