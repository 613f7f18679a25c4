"""The case list: visibility, status and light filters, the supervisors' filters, stable keyset paging:
app/reports/listing.py and filters.py (phones' delta sync: test_delta_sync.py)."""

import datetime as dt

from sqlalchemy import update

from app.cases.models import Case
from app.core.deps import encode_cursor
from tests.support.reports import EAST, file_report


async def ids(client, world, user, **params):  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/reports", params=params, headers=world.headers(user))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_lists_filter_by_light_status_and_visibility(client, world, session) -> None:  # type: ignore[no-untyped-def]
    green, yellow, red = [(await file_report(client, world))["id"] for _ in range(3)]
    now = dt.datetime.now(dt.UTC)
    await session.execute(
        update(Case)
        .where(Case.id == yellow)
        .values(yellow_at=now - dt.timedelta(minutes=5), due_at=now + dt.timedelta(hours=1))
    )
    await session.execute(
        update(Case)
        .where(Case.id == red)
        .values(yellow_at=now - dt.timedelta(hours=2), due_at=now - dt.timedelta(minutes=1))
    )
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
    first = [(await file_report(client, world))["id"] for _ in range(5)]
    page = (
        await client.get("/api/v1/reports", params={"limit": 3}, headers=world.headers("dispatcher"))
    ).json()
    late = (await file_report(client, world))["id"]
    rest = (
        await client.get(
            "/api/v1/reports",
            params={"limit": 10, "cursor": page["next_cursor"]},
            headers=world.headers("dispatcher"),
        )
    ).json()
    assert [c["id"] for c in page["items"] + rest["items"]] == first + [late]


async def test_supervisor_filters(client, world) -> None:  # type: ignore[no-untyped-def]
    a = await file_report(client, world, "06010", description="菜市场门口垃圾 100%_")
    b = await file_report(client, world, "06010", user="worker1", where=EAST, address="东关大街")
    h = world.headers("supervisor")

    async def q(**params):  # type: ignore[no-untyped-def]
        r = await client.get("/api/v1/reports", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await q(grid=world.cells["620802001"]) == [b["id"]]
    assert await q(grid=world.cells["620802"]) == [a["id"], b["id"]]
    assert await q(reporter=world.users["worker2"][0]) == [a["id"]]
    assert await q(bbox="106.66,35.54,106.67,35.55") == [a["id"]]
    assert (
        await q(q="菜市场") == [a["id"]]
        and await q(q="东关") == [b["id"]]
        and await q(q="100%_") == [a["id"]]
    )
    assert await q(q="%") == [a["id"]] and await q(q="__") == []  # LIKE wildcards are literal
    assert await q(created_from="2000-01-01T00:00:00Z", created_to="2000-01-02T00:00:00+08:00") == []
    assert await q(updated_since=a["created_at"]) == [a["id"], b["id"]]
    assert await q(grid=world.cells["620802002001279"]) == [a["id"]]  # a unit cell: one key of (grid_id, id)
    assert await q(grid=world.cells["620802002"], category="06") == [a["id"]]
    assert await q(created_from=a["created_at"]) == [a["id"], b["id"]]
    assert await q(created_from=b["created_at"]) == [b["id"]]
    assert await q(created_to=b["created_at"]) == [a["id"]]
    assert await q(created_from=a["created_at"], created_to=b["created_at"]) == [a["id"]]
    assert await q(created_from=b["created_at"], limit=1, cursor=encode_cursor({"after": b["id"]})) == []
    for bad in (
        {"bbox": "1,2,3"},
        {"bbox": "5,5,1,1"},
        {"grid": 99999999},
        {"created_from": "2026-01-01"},
        {"q": ""},
    ):
        assert (await client.get("/api/v1/reports", params=bad, headers=h)).status_code == 422, bad


async def test_list_filters_it_does_not_know_are_refused_and_overdue_works(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's run through the loop: unknown filters were ignored, and overdue was not a filter.
    r = await client.get("/api/v1/reports", params={"near": "1,2"}, headers=world.headers("dispatcher"))
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_filter")
    await file_report(client, world)
    overdue = await client.get(
        "/api/v1/reports", params={"overdue": "true"}, headers=world.headers("dispatcher")
    )
    rest = await client.get(
        "/api/v1/reports", params={"overdue": "false"}, headers=world.headers("dispatcher")
    )
    assert overdue.json()["items"] == [] and len(rest.json()["items"]) == 1
    r = await client.get("/api/v1/reports", params={"overdue": "banana"}, headers=world.headers("dispatcher"))
    assert r.status_code == 422
