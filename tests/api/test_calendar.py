"""The working-time calendar: published years, unknown years said so, and an admin loading a year."""

import datetime as dt

from app.deadlines.cache import calendar_for


async def test_a_published_year_and_an_unknown_one(client, world) -> None:  # type: ignore[no-untyped-def]
    year = (await client.get("/api/v1/calendar/2026", headers=world.headers("worker1"))).json()
    assert year["known"] and "published" in year["basis"]
    special = {d["date"]: d["workday"] for d in year["days"]}
    assert (
        special["2026-10-01"] is False and special["2026-10-10"] is True
    )  # National Day; a make-up Saturday
    unknown = (await client.get("/api/v1/calendar/2031", headers=world.headers("worker1"))).json()
    assert unknown["known"] is False and "weekends only" in unknown["basis"] and unknown["days"] == []


async def test_an_admin_loads_a_year_the_package_does_not_know(client, world, app) -> None:  # type: ignore[no-untyped-def]
    days = [
        {"date": "2031-10-01", "workday": False, "note": "国庆节"},
        {"date": "2031-10-02", "workday": False},
        {"date": "2031-09-28", "workday": True, "note": "调休上班"},
    ]
    r = await client.put("/api/v1/calendar/2031", json={"days": days}, headers=world.headers("admin"))
    assert r.status_code == 200 and r.json()["basis"] == "loaded by an admin"
    year = (await client.get("/api/v1/calendar/2031", headers=world.headers("dispatcher"))).json()
    assert {d["date"]: d["workday"] for d in year["days"]} == {
        "2031-09-28": True,
        "2031-10-01": False,
        "2031-10-02": False,
    }
    # What the deadlines use: the process's copy, refreshed by the revision the PUT bumped.
    async with app.state.db.sessionmaker() as session:
        calendar = await calendar_for(session, app.state.settings)

    assert not calendar.is_workday(dt.date(2031, 10, 1)) and calendar.is_workday(dt.date(2031, 9, 28))
    r = await client.put(
        "/api/v1/calendar/2031",
        json={"days": [{"date": "2030-01-01", "workday": False}]},
        headers=world.headers("admin"),
    )
    assert r.status_code == 422
    r = await client.put("/api/v1/calendar/2031", json={"days": days}, headers=world.headers("dispatcher"))
    assert r.status_code == 403


async def test_a_date_listed_twice_in_a_calendar_year_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's run through the loop: a year listing a date twice was accepted.
    days = [{"date": "2031-01-01", "workday": False}, {"date": "2031-01-01", "workday": True}]
    r = await client.put("/api/v1/calendar/2031", json={"days": days}, headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "duplicate"
