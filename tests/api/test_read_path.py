"""The read path's statement budget (docs/architecture.md "The read path"): once the per-process copies are
current, a case costs two statements (the caller with the revision tokens; the case with its photos), the
caller one, a list page two; and a change made through the API reaches every copy at the next request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.support.photos import NO_GPS_JPEG, jpeg_at
from tests.support.reports import CENTRE, post_report

SESSION_PLUMBING = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


@contextmanager
def statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(SESSION_PLUMBING):
            seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_case_a_caller_and_a_list_page_within_their_statements(client, world, app) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("worker2")
    for _ in range(3):
        r = await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE}, headers=h)
        assert r.status_code == 201
    r = await post_report(
        client,
        world,
        {"category_code": "09009", **CENTRE},
        [("a.jpg", NO_GPS_JPEG.read_bytes()), ("b.jpg", jpeg_at(35.5428, 106.6652))],
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    for url in (f"/api/v1/reports/{case_id}", "/api/v1/me", "/api/v1/reports?limit=50"):
        assert (await client.get(url, headers=h)).status_code == 200  # the copies are loaded by now
    budgets = {f"/api/v1/reports/{case_id}": 2, "/api/v1/me": 1, "/api/v1/reports?limit=50": 2}
    for url, budget in budgets.items():
        with statements(app) as seen:
            r = await client.get(url, headers=h)
        assert r.status_code == 200
        assert len(seen) <= budget, (url, seen)
    shown = (await client.get(f"/api/v1/reports/{case_id}", headers=h)).json()
    assert [p["stage"] for p in shown["photos"]] == ["report", "report"]  # both, read with the case
    assert shown["photos"][0]["id"] < shown["photos"][1]["id"]


async def test_a_renamed_unit_shows_at_the_next_request(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("worker2")
    case = (await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE}, headers=h)).json()
    unit = case["unit"]["id"]
    r = await client.patch(
        f"/api/v1/units/{unit}", json={"name": "交警崆峒大队(新)"}, headers=world.headers("admin")
    )
    assert r.status_code == 200
    shown = (await client.get(f"/api/v1/reports/{case['id']}", headers=h)).json()
    assert shown["unit"]["name"] == "交警崆峒大队(新)"
    listed = (await client.get("/api/v1/reports?limit=200", headers=h)).json()["items"]
    assert {i["unit_name"] for i in listed if i["id"] == case["id"]} == {"交警崆峒大队(新)"}


def test_no_route_hands_a_dependency_to_the_thread_pool(app) -> None:  # type: ignore[no-untyped-def]
    """FastAPI runs a plain ``def`` dependency in its thread pool: a thread hop and a GIL hand-over per request
    (four of them on every read once: settings, language, paging, hooks). Dependencies are ``async def``; the
    login form (FastAPI's own class, behind an argon2 hash anyway) is the one exception."""
    import inspect

    from fastapi.routing import APIRoute

    def sync_calls(dependant):  # type: ignore[no-untyped-def]
        for dep in dependant.dependencies:
            call = dep.call
            is_async = (
                inspect.iscoroutinefunction(call)
                or inspect.isasyncgenfunction(call)
                or inspect.iscoroutinefunction(type(call).__call__)
            )
            if not is_async:
                yield getattr(call, "__qualname__", type(call).__qualname__)
            yield from sync_calls(dep)

    routes = [r for r in app.router.routes if isinstance(r, APIRoute)]
    for included in app.router.routes:  # FastAPI >= 0.16x keeps included routers whole
        routes += [
            r
            for r in getattr(getattr(included, "original_router", None), "routes", [])
            if isinstance(r, APIRoute)
        ]
    found = {name for route in routes for name in sync_calls(route.dependant)}
    assert len(routes) > 50 and found <= {"OAuth2PasswordRequestForm"}, found
