"""Phones' delta sync (``updated_since``): changes, tombstones of deleted cases, resuming, view changes;
and paging that never skips or repeats while cases arrive and are deleted: app/reports/listing.py."""

import asyncio
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from app.cases.models import Case
from app.core.deps import encode_cursor
from tests.support.photos import jpeg_at
from tests.support.reports import EAST, add_photos, delete_case, file_report
from tests.support.workflow import act


async def sync(client, world, user, since, limit=50):  # type: ignore[no-untyped-def]
    """A whole delta-sync pass: every page; the items and the sync_since to keep."""
    items, cursor, marks = [], None, set()
    while True:
        params = {"updated_since": since, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/reports", params=params, headers=world.headers(user))
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        marks.add(body["sync_since"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert len(marks) == 1  # one resume point for the whole pass
            return items, marks.pop()


async def test_delta_sync_brings_changes_and_tombstones_only_to_those_who_saw_the_case(client, world) -> None:  # type: ignore[no-untyped-def]
    start = "2000-01-01T00:00:00Z"
    mine, other = await file_report(client, world), await file_report(client, world)
    east = await file_report(client, world, user="worker1", where=EAST)
    items, since = await sync(client, world, "worker2", start)
    assert [i["id"] for i in items] == [mine["id"], other["id"]]
    assert all(i["removed"] is False and i["version"] >= 1 for i in items)

    r = await act(client, world, mine["id"], "jiaojing", "accept")
    assert r.status_code == 200
    assert (await delete_case(client, world, other["id"])).status_code == 204
    assert (await delete_case(client, world, east["id"])).status_code == 204
    items, since2 = await sync(client, world, "worker2", since)
    by_id = {i["id"]: i for i in items}
    assert by_id[mine["id"]]["status"] == "in_progress"
    assert by_id[other["id"]] == {
        "id": other["id"],
        "removed": True,
        "updated_at": by_id[other["id"]]["updated_at"],
    }
    assert east["id"] not in by_id  # worker2 never saw 东关's case: no tombstone, not even its id
    assert since2 >= since
    w1, _ = await sync(client, world, "worker1", start)
    assert [(i["id"], i["removed"]) for i in w1] == [(east["id"], True)]

    # A deleted case is gone everywhere else.
    h = world.headers("supervisor")
    assert (await client.get(f"/api/v1/reports/{other['id']}", headers=h)).status_code == 404
    listed = (await client.get("/api/v1/reports", headers=h)).json()["items"]
    assert other["id"] not in [i["id"] for i in listed]
    assert (await delete_case(client, world, other["id"])).status_code == 404
    history = (await client.get(f"/api/v1/reports/{mine['id']}/events", headers=h)).json()["items"]
    assert history[-1]["action"] == "accept"


async def test_a_change_behind_the_cursor_comes_again_in_the_same_pass(client, world, session) -> None:  # type: ignore[no-untyped-def]
    cases = [await file_report(client, world) for _ in range(4)]
    first = (
        await client.get(
            "/api/v1/reports",
            params={"updated_since": "2000-01-01T00:00:00Z", "limit": 2},
            headers=world.headers("worker2"),
        )
    ).json()
    # While the phone is between pages, the first case (already read) changes.
    assert (await act(client, world, cases[0]["id"], "jiaojing", "accept")).status_code == 200
    rest = (
        await client.get(
            "/api/v1/reports",
            params={"updated_since": "2000-01-01T00:00:00Z", "limit": 50, "cursor": first["next_cursor"]},
            headers=world.headers("worker2"),
        )
    ).json()
    pass_items = first["items"] + rest["items"]
    assert [i["id"] for i in pass_items] == [c["id"] for c in cases] + [cases[0]["id"]]  # in order of change
    assert (pass_items[0]["status"], pass_items[-1]["status"]) == ("dispatched", "in_progress")
    assert pass_items[-1]["version"] > pass_items[0]["version"]  # the phone keeps the highest version
    assert rest["sync_since"] == first["sync_since"]
    # A transaction that stamped its change before the pass began but committed later is inside the overlap.
    late = dt.datetime.fromisoformat(first["sync_since"]) + dt.timedelta(seconds=1)
    await session.execute(update(Case).where(Case.id == cases[3]["id"]).values(updated_at=late))
    await session.commit()
    again, _ = await sync(client, world, "worker2", first["sync_since"])
    assert cases[3]["id"] in [i["id"] for i in again]


async def test_a_changed_view_asks_the_phone_to_start_again(client, world) -> None:  # type: ignore[no-untyped-def]
    await file_report(client, world)
    _, since = await sync(client, world, "worker2", "2000-01-01T00:00:00Z")
    r = await client.patch(
        f"/api/v1/users/{world.users['worker2'][0]}",
        json={"grid_ids": [world.cells["620802001"]]},
        headers=world.headers("admin"),
    )
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/reports", params={"updated_since": since}, headers=world.headers("worker2"))
    assert r.status_code == 410 and r.json()["code"] == "sync_reset_required"
    full = await client.get("/api/v1/reports", headers=world.headers("worker2"))  # the phone starts again
    assert full.status_code == 200
    r = await client.get(
        "/api/v1/reports",
        params={"updated_since": dt.datetime.now(dt.UTC).isoformat()},
        headers=world.headers("worker2"),
    )
    assert r.status_code == 200
    # Changing nothing about what they see (same cells again) does not reset anyone.
    r = await client.patch(
        f"/api/v1/users/{world.users['jiaojing'][0]}",
        json={"display_name": "交警 王"},
        headers=world.headers("admin"),
    )
    assert r.status_code == 200, r.text
    assert (
        await client.get(
            "/api/v1/reports", params={"updated_since": since}, headers=world.headers("jiaojing")
        )
    ).status_code == 200


async def test_deleting_is_an_admins_act_with_a_reason(client, world) -> None:  # type: ignore[no-untyped-def]
    case = await file_report(client, world)
    for user in ("dispatcher", "supervisor", "worker2", "jiaojing"):
        assert (await delete_case(client, world, case["id"], user=user)).status_code == 403, user
    r = await client.delete(f"/api/v1/reports/{case['id']}", headers=world.headers("admin"))
    assert r.status_code == 422
    assert (await delete_case(client, world, case["id"], reason="   ")).status_code == 422
    assert (await delete_case(client, world, 2_000_000_000)).status_code == 404
    assert (
        await client.get(f"/api/v1/reports/{case['id']}", headers=world.headers("worker2"))
    ).status_code == 200


async def test_sync_cursor_tampering_is_refused_or_harmless(client, world) -> None:  # type: ignore[no-untyped-def]
    import base64
    import json

    for _ in range(3):
        await file_report(client, world)
    h = world.headers("worker2")

    def get(state):  # type: ignore[no-untyped-def]
        cursor = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
        return client.get(
            "/api/v1/reports", params={"updated_since": "2000-01-01T00:00:00Z", "cursor": cursor}, headers=h
        )

    u = "2000-01-01T00:00:00+00:00"
    for state in (
        {"after": 0, "u": u, "sync": "not a time"},
        {"after": 0, "u": u, "sync": "2999-01-01T00:00:00+00:00"},
        {"after": 0, "u": u, "sync": 5},
    ):
        r = await get(state)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 3
        assert dt.datetime.fromisoformat(r.json()["sync_since"]) <= dt.datetime.now(
            dt.UTC
        )  # never the future
    for state in (
        {"after": 0},
        {"after": 0, "u": "yesterday"},
        {"after": 0, "u": "2026-01-01T00:00:00"},
        {"after": 0, "u": 17},
    ):
        r = await get(state)
        assert r.status_code == 400 and r.json()["code"] == "invalid_cursor", state


OPS = st.lists(st.sampled_from(["page", "file", "delete_seen", "delete_unseen"]), min_size=4, max_size=14)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
async def test_paging_never_skips_or_repeats_while_cases_come_and_go(client, world, ops) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("dispatcher")
    present = [(await file_report(client, world))["id"] for _ in range(5)]
    # Examples share the test's database: page from just before this example's first case.
    cursor: str | None = encode_cursor({"after": present[0] - 1})
    seen: list[int] = []
    deleted: set[int] = set()
    done = False
    for op in [*ops, *["page"] * 40]:
        if op == "page" and not done:
            body = (
                await client.get("/api/v1/reports", params={"limit": 2, "cursor": cursor}, headers=h)
            ).json()
            seen += [i["id"] for i in body["items"]]
            cursor = body["next_cursor"]
            done = cursor is None
        elif op == "file":
            new = (await file_report(client, world))["id"]
            if not done:  # filed while the pass was still going: it must show up in it
                present.append(new)
        elif op.startswith("delete"):
            pool = [i for i in present if (i in seen) == (op == "delete_seen") and i not in deleted]
            if pool:
                assert (await delete_case(client, world, pool[0])).status_code == 204
                deleted.add(pool[0])
    assert len(seen) == len(set(seen)) and seen == sorted(seen)  # never repeated, stable order
    assert set(present) - deleted <= set(seen)  # every case that stayed was read (filed ones too)
    assert not (set(seen) - set(present))
    assert done


async def test_photos_added_to_a_case_bring_it_into_the_next_sync(client, world) -> None:  # type: ignore[no-untyped-def]
    case = await file_report(client, world)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=5)
    while dt.datetime.now(dt.UTC) <= later:
        await asyncio.sleep(0.005)
    assert (await sync(client, world, "worker2", later.isoformat()))[0] == []
    r = await add_photos(
        client, world, case["id"], "worker2", "report", [("p.jpg", jpeg_at(35.5428, 106.6652))]
    )
    assert r.status_code == 201, r.text
    items, _ = await sync(client, world, "worker2", later.isoformat())
    assert [i["id"] for i in items] == [case["id"]] and items[0]["version"] > case["version"]


async def test_after_a_reset_the_full_listing_starts_the_next_sync(client, world) -> None:  # type: ignore[no-untyped-def]
    await file_report(client, world)
    r = await client.patch(
        f"/api/v1/users/{world.users['worker2'][0]}",
        json={"grid_ids": [world.cells["620802002"], world.cells["620802001"]]},
        headers=world.headers("admin"),
    )
    assert r.status_code == 200, r.text
    h = world.headers("worker2")
    old = await client.get("/api/v1/reports", params={"updated_since": "2000-01-01T00:00:00Z"}, headers=h)
    assert old.status_code == 410
    full = (await client.get("/api/v1/reports", params={"limit": 1}, headers=h)).json()
    page2 = (
        await client.get("/api/v1/reports", params={"limit": 1, "cursor": full["next_cursor"]}, headers=h)
    ).json()
    assert full["sync_since"] == page2["sync_since"]  # one resume point for the whole listing
    changed = dt.datetime.fromisoformat(old.json()["changed_at"])
    assert dt.datetime.fromisoformat(full["sync_since"]) > changed  # not back before the change
    for _ in range(2):  # and it stays usable, sync after sync
        items, since = await sync(client, world, "worker2", full["sync_since"])
        assert dt.datetime.fromisoformat(since) > changed


async def test_filters_a_case_can_leave_are_refused_in_a_sync(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("jiaojing")
    for params in ({"status": "dispatched"}, {"light": "red"}, {"overdue": "false"}, {"unit": 2}):
        r = await client.get(
            "/api/v1/reports", params={"updated_since": "2026-01-01T00:00:00Z", **params}, headers=h
        )
        assert r.status_code == 422 and r.json()["code"] == "unsupported_filter", params
    for params in ({"category": "09"}, {"grid": world.cells["620802002"]}, {"q": "停车"}):  # fixed attributes
        r = await client.get(
            "/api/v1/reports", params={"updated_since": "2026-01-01T00:00:00Z", **params}, headers=h
        )
        assert r.status_code == 200, (params, r.text)


async def test_extreme_instants_are_refused_not_crashed_on(client, world) -> None:  # type: ignore[no-untyped-def]
    import base64
    import json

    h = world.headers("supervisor")
    for params in (
        {"created_from": "0001-01-01T00:00:00+14:00"},
        {"created_to": "9999-12-31T23:59:59-14:00"},
        {"updated_since": "0001-01-01T00:00:00+01:00"},
        {"created_from": "1850-01-01T00:00:00Z"},
    ):
        for path in ("/api/v1/reports", "/api/v1/reports/export"):
            r = await client.get(path, params=params, headers=h)
            assert r.status_code == 422, (path, params, r.status_code, r.text[:200])
            assert r.headers["content-type"].startswith("application/problem+json")
    for period in ({"from": "0001-01-01", "to": "0001-01-02"}, {"from": "9999-12-30", "to": "9999-12-31"}):
        r = await client.get("/api/v1/stats/assessment", params={"group_by": "unit", **period}, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "invalid_period", period
    r = await client.get(
        "/api/v1/stats/assessment", params={"group_by": "unit", "to": "2000-01-01"}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "to"]
    await file_report(client, world)
    forged = base64.urlsafe_b64encode(
        json.dumps(
            {"after": 0, "u": "2000-01-01T00:00:00+00:00", "sync": "0001-01-01T00:00:00+00:00"}
        ).encode()
    ).decode()
    r = await client.get(
        "/api/v1/reports", params={"updated_since": "2000-01-01T00:00:00Z", "cursor": forged}, headers=h
    )
    assert r.status_code == 200, r.text
    assert dt.datetime.fromisoformat(r.json()["sync_since"]) > dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    r = await client.get("/api/v1/reports", params={"category": "０９"}, headers=h)  # full-width digits
    assert r.status_code == 422


async def test_a_tracking_code_finds_its_case(client, world) -> None:  # type: ignore[no-untyped-def]
    case = await file_report(client, world)
    r = await client.get(
        "/api/v1/reports", params={"q": case["tracking_code"].lower()}, headers=world.headers("dispatcher")
    )
    assert [i["id"] for i in r.json()["items"]] == [case["id"]]
