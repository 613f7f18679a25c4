"""The case list: visibility, status and light filters, stable keyset paging."""

import datetime as dt

from sqlalchemy import update

from app.reports.models import Case
from tests.support.reports import CENTRE


async def file(client, world, category="09009", user="worker2"):  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", json={"category_code": category, **CENTRE}, headers=world.headers(user))
    return r.json()


async def ids(client, world, user, **params):  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/reports", params=params, headers=world.headers(user))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_lists_filter_by_light_status_and_visibility(client, world, session) -> None:  # type: ignore[no-untyped-def]
    green, yellow, red = [(await file(client, world))["id"] for _ in range(3)]
    now = dt.datetime.now(dt.timezone.utc)
    await session.execute(update(Case).where(Case.id == yellow).values(
        yellow_at=now - dt.timedelta(minutes=5), due_at=now + dt.timedelta(hours=1)))
    await session.execute(update(Case).where(Case.id == red).values(
        yellow_at=now - dt.timedelta(hours=2), due_at=now - dt.timedelta(minutes=1)))
    await session.commit()
    assert await ids(client, world, "dispatcher", light="green") == [green]
    assert await ids(client, world, "dispatcher", light="yellow") == [yellow]
    assert await ids(client, world, "dispatcher", light="red") == [red]
    items = (await client.get("/api/v1/reports", headers=world.headers("dispatcher"))).json()["items"]
    assert [c["light"] for c in items] == ["green", "yellow", "red"]
    assert await ids(client, world, "dispatcher", status="dispatched") == [green, yellow, red]
    assert await ids(client, world, "dispatcher", status=["closed", "rejected"]) == []
    assert await ids(client, world, "worker1") == []  # 东关's worker sees none of 中街's cases
    assert await ids(client, world, "jiaojing", category="09") == [green, yellow, red]
    assert await ids(client, world, "minzheng") == []


async def test_paging_never_skips_or_repeats_while_cases_arrive(client, world) -> None:  # type: ignore[no-untyped-def]
    first = [(await file(client, world))["id"] for _ in range(5)]
    page = (await client.get("/api/v1/reports", params={"limit": 3}, headers=world.headers("dispatcher"))).json()
    late = (await file(client, world))["id"]
    rest = (await client.get("/api/v1/reports", params={"limit": 10, "cursor": page["next_cursor"]},
                             headers=world.headers("dispatcher"))).json()
    assert [c["id"] for c in page["items"] + rest["items"]] == first + [late]
