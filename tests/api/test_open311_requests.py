"""Open311 GeoReport v2, reading service requests: the spec's list filters, what the public feed leaves out
(veto items, citizens' contacts): app/open311 (filing, services, updates: test_open311.py)."""

from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest

from tests.support.open311 import BASE, FORM, assert_valid, post_request
from tests.support.reports import CENTRE

# These tests read the public feed; what it publishes without a key is a setting (none by default, see
# test_case_privacy.py).
pytestmark = pytest.mark.usefixtures("public_open311_feed")


async def test_request_lists_filter_as_the_spec_says(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    first = int((await post_request(client, api_key)).json()[0]["service_request_id"])
    second = int((await post_request(client, api_key, description="第二起")).json()[0]["service_request_id"])
    r = await client.post(
        f"/api/v1/reports/{first}/actions",
        json={"action": "return", "reason": "不属交警"},
        headers=world.headers("jiaojing"),
    )
    assert r.status_code == 200
    r = await client.post(
        f"/api/v1/reports/{first}/actions",
        json={"action": "reject", "reason": "重复上报", "public_note": "重复上报", "duplicate_of": second},
        headers=world.headers("dispatcher"),
    )
    assert r.status_code == 200, r.text

    async def ids(**params):  # type: ignore[no-untyped-def]
        r = await client.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 200, r.text
        assert_valid("requests.json", r.json()) if r.json() else None
        return [int(i["service_request_id"]) for i in r.json()]

    assert await ids() == [second, first]  # newest first
    assert await ids(status="closed") == [first] and await ids(status="open") == [second]
    closed = (await client.get(f"{BASE}/requests/{first}.json")).json()[0]
    assert (
        closed["status"] == "closed"
        and "重复上报" in closed["status_notes"]
        and str(second) in closed["status_notes"]
    )
    assert "expected_datetime" not in closed
    assert await ids(service_request_id=f"{first},{second}", status="open") == [second, first]
    for start in ("2026-01-01T00:00:00Z", "2026-01-01T08:00:00+08:00", "2026-01-01T00:00:00.123456Z"):
        assert await ids(start_date=start, end_date="2026-01-02T00:00:00Z") == []
    assert await ids(service_code="09009,06010") == [second, first]
    assert await ids(page_size=1, page=2) == [first]
    for bad in (
        {"service_code": "99999"},
        {"start_date": "yesterday"},
        {"start_date": "2026-01-01T00:00:00"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"status": "pending"},
        {"service_request_id": "1;DROP"},
        {"jurisdiction_id": "beijing"},
    ):
        r = await client.get(f"{BASE}/requests.json", params=bad)
        assert r.status_code in (400, 404) and r.json()[0]["code"] == r.status_code, bad
    updates = (await client.get(f"{BASE}/servicerequestupdates.json")).json()
    assert {u["service_request_id"] for u in updates} >= {str(first)}
    assert any(u["status"] == "closed" for u in updates if u["service_request_id"] == str(first))


async def test_veto_items_stay_out_of_the_public_feed(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/reports", json={"category_code": "91001", **CENTRE}, headers=world.headers("worker2")
    )
    veto = r.json()["id"]
    assert (await client.get(f"{BASE}/requests/{veto}.json")).status_code == 404
    assert veto not in [
        int(i["service_request_id"]) for i in (await client.get(f"{BASE}/requests.json")).json()
    ]
    mine = await client.post(
        f"{BASE}/requests.json",
        data={**{k: v for k, v in FORM.items() if "[" not in k}, "api_key": api_key, "service_code": "91001"},
    )
    assert mine.status_code == 200, mine.text
    mine_id = mine.json()[0]["service_request_id"]
    assert (await client.get(f"{BASE}/requests/{mine_id}.json")).status_code == 404
    assert (
        await client.get(f"{BASE}/requests/{mine_id}.json", params={"api_key": api_key})
    ).status_code == 200


async def test_contacts_reach_the_command_centre_only(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    case_id = (await post_request(client, api_key)).json()[0]["service_request_id"]
    seen = (await client.get(f"/api/v1/reports/{case_id}", headers=world.headers("dispatcher"))).json()
    assert seen["contact"]["email"] == "citizen@example.cn" and seen["attributes"]["vehicle_type"] == "car"
    for user in ("jiaojing", "worker2"):
        other = (await client.get(f"/api/v1/reports/{case_id}", headers=world.headers(user))).json()
        assert other["contact"] is None, user
    mine = (await client.get(f"/api/v1/reports/{case_id}", headers={"X-API-Key": api_key})).json()
    assert mine["contact"] is None


async def test_repeated_filters_and_multivalue_attributes_add_up(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    form = urlencode(
        [
            ("api_key", api_key),
            ("service_code", "01001"),
            ("lat", str(CENTRE["lat"])),
            ("long", str(CENTRE["lon"])),
            ("attribute[hazards][]", "traffic"),
            ("attribute[hazards]", "night"),
        ]
    )
    r = await client.post(
        f"{BASE}/requests.json", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 200, r.text
    case_id = r.json()[0]["service_request_id"]
    native = (await client.get(f"/api/v1/reports/{case_id}", headers=world.headers("dispatcher"))).json()
    assert native["attributes"] == {"hazards": ["night", "traffic"]}
    other = (await post_request(client, api_key)).json()[0]["service_request_id"]
    r = await client.get(
        f"{BASE}/requests.json", params=[("service_code", "01001"), ("service_code", "09009")]
    )
    assert {i["service_request_id"] for i in r.json()} == {case_id, other}
    r = await client.get(f"{BASE}/requests.json", params=[("status", "open"), ("status", "closed")])
    assert {i["service_request_id"] for i in r.json()} == {case_id, other}
    r = await client.post(f"{BASE}/requests.json?api_key={api_key}", data={k: v for k, v in FORM.items()})
    assert r.status_code == 200, r.text  # api_key in the query, as the spec's swagger declares it


async def test_a_nul_in_the_query_is_refused_in_the_specs_format(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{BASE}/requests.xml?api_key=%00")
    assert r.status_code == 400 and ET.fromstring(r.content).findtext("error/code") == "400"
    r = await client.get("/api/v1/categories?x=%00")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
