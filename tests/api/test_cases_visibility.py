"""Who sees which case, and what of it: the case, its photos and their EXIF details, possible duplicates:
app/cases/permissions.py (who may call each route: test_authorization_matrix.py; an Open311 reporter's
contacts: test_open311_requests.py)."""

from tests.support.photos import ITALY_JPEG, NO_GPS_JPEG, jpeg_at
from tests.support.reports import CENTRE, REPORT, post_report


async def test_who_sees_a_case(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (
        await post_report(client, world, {"category_code": "09009", **CENTRE})
    ).json()  # 中街, goes to 交警
    url = f"/api/v1/reports/{case['id']}"
    for user, status in (
        ("worker2", 200),
        ("dispatcher", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("jiaojing", 200),
        ("worker1", 404),
        ("minzheng", 404),
        ("chengguan", 404),
    ):
        r = await client.get(url, headers=world.headers(user))
        assert r.status_code == status, user
    r = await client.get(url, headers=world.headers("worker2"))
    assert r.headers["etag"] == f'"case-{case["id"]}-v{case["version"]}"'
    photo_case = (
        await post_report(
            client, world, {"category_code": "09009", **CENTRE}, [("a.jpg", NO_GPS_JPEG.read_bytes())]
        )
    ).json()
    photo_url = photo_case["photos"][0]["url"]
    assert (await client.get(photo_url, headers=world.headers("worker1"))).status_code == 404
    assert (await client.get(photo_url + "/thumbnail", headers=world.headers("minzheng"))).status_code == 404
    assert (await client.get("/api/v1/reports/99999999", headers=world.headers("admin"))).status_code == 404


async def test_hidden_photos_and_duplicates_stay_hidden(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: photos and possible duplicates of cases the caller may not
    # see gave themselves away.
    mine = (await post_report(client, world, REPORT, [("a.jpg", NO_GPS_JPEG.read_bytes())])).json()
    r = await client.get(
        mine["photos"][0]["url"], headers={**world.headers("worker1"), "Accept-Language": "en"}
    )
    assert r.json()["detail"] == f"No photo with id {mine['photos'][0]['id']}"
    theirs = (await post_report(client, world, REPORT, user="worker1")).json()
    assert theirs["possible_duplicates"] == []  # worker1 may not see worker2's case, so it is not listed
    staff = (await client.get(f"/api/v1/reports/{mine['id']}", headers=world.headers("dispatcher"))).json()
    assert staff["photos"][0]["filename"] == "a.jpg"


async def test_unit_staff_do_not_see_where_and_when_the_worker_took_photos(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: unit staff saw where and when the worker stood (EXIF GPS,
    # time, file name).
    case = (
        await post_report(
            client, world, {**REPORT, "category_code": "09009"}, [("it.jpg", ITALY_JPEG.read_bytes())]
        )
    ).json()
    assert case["photos"][0]["gps"] is not None  # the reporter sees it
    staff = (await client.get(f"/api/v1/reports/{case['id']}", headers=world.headers("jiaojing"))).json()
    assert (staff["photos"][0]["gps"], staff["photos"][0]["taken_at"], staff["photos"][0]["filename"]) == (
        None,
    ) * 3
    assert "far_from_report" in staff["photos"][0]["flags"]  # the evidence check still shows


async def test_unit_staff_never_reach_another_units_case(client, world) -> None:  # type: ignore[no-untyped-def]
    """Object level: the brigade's case does not exist for the city bureau's staff (see, act, photos, history)."""
    r = await post_report(
        client,
        world,
        {"category_code": "09009", **CENTRE},
        [("p.jpg", jpeg_at(CENTRE["lat"], CENTRE["lon"]))],
    )
    case = r.json()
    photo = case["photos"][0]
    h = world.headers("chengguan")
    for method, url, kwargs in (
        ("GET", f"/api/v1/reports/{case['id']}", {}),
        ("GET", f"/api/v1/reports/{case['id']}/events", {}),
        ("POST", f"/api/v1/reports/{case['id']}/actions", {"json": {"action": "accept"}}),
        ("POST", f"/api/v1/reports/{case['id']}/actions", {"json": {"action": "comment", "note": "x"}}),
        ("GET", photo["url"], {}),
        ("GET", photo["thumbnail_url"], {}),
    ):
        r = await client.request(method, url, headers=h, **kwargs)
        assert r.status_code == 404, (method, url, r.status_code)
    listed = (await client.get("/api/v1/reports", headers=h)).json()["items"]
    exported = (await client.get("/api/v1/reports/export", headers=h)).text
    assert case["id"] not in [i["id"] for i in listed] and case["tracking_code"] not in exported
    figures = (await client.get("/api/v1/stats/assessment", params={"group_by": "unit"}, headers=h)).json()
    assert figures["total"]["counts"]["filed"] == 0
