"""Open311 GeoReport v2: services and definitions (JSON validated against the spec's schemas, XML checked by
element paths), requests filed through the native intake, tokens, discovery and updates, errors in the spec's
format: app/open311 (reading request lists: test_open311_requests.py)."""

import json
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest

from tests.support.open311 import BASE, FORM, SCHEMAS, assert_valid, post_request
from tests.support.photos import jpeg_at
from tests.support.reports import CENTRE

# These tests read the public feed; what it publishes without a key is a setting (none by default, see
# test_case_privacy.py).
pytestmark = pytest.mark.usefixtures("public_open311_feed")


async def test_services_validate_and_keep_leading_zeros(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{BASE}/services.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    services = r.json()
    assert_valid("services.json", services)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["01001"]["service_code"] == "01001"  # a string: the leading zero survives
    assert by_code["09009"]["metadata"] is True and by_code["09009"]["group"] == "街面秩序"
    assert by_code["10004"]["metadata"] is False and by_code["09009"]["type"] == "realtime"
    en = (await client.get(f"{BASE}/services.json", headers={"Accept-Language": "en"})).json()
    assert {s["service_code"]: s["service_name"] for s in en}["09009"] == "Illegal parking"


async def test_services_xml_has_the_shape_real_servers_send(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{BASE}/services.xml")
    assert r.headers["content-type"].startswith("text/xml")
    ours = ET.fromstring(r.content)
    dc = ET.parse(SCHEMAS / "dc-services.xml").getroot()
    assert ours.tag == dc.tag == "services"
    assert {child.tag for child in ours[0]} == {child.tag for child in dc[0]}
    parking = next(s for s in ours if s.findtext("service_code") == "09009")
    assert parking.findtext("metadata") == "true" and "," in (parking.findtext("keywords") or ",")


async def test_service_definitions_validate_in_json_and_xml(client) -> None:  # type: ignore[no-untyped-def]
    body = (await client.get(f"{BASE}/services/06010.json")).json()
    assert_valid("service-definition.json", body)
    assert body["attributes"][0]["code"] == "amount" and body["attributes"][0]["required"] is True
    doc = ET.fromstring((await client.get(f"{BASE}/services/06010.xml")).content)
    assert doc.tag == "service_definition" and doc.findtext("service_code") == "06010"
    assert [v.findtext("key") for v in doc.findall("attributes/attribute/values/value")] == [
        "small",
        "medium",
        "large",
    ]
    r = await client.get(f"{BASE}/services/99999.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = await client.get(f"{BASE}/services/99999.xml")
    assert r.status_code == 404 and ET.fromstring(r.content).find("error/description") is not None


async def test_a_posted_request_becomes_a_routed_case_everyone_sees(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    r = await post_request(client, api_key)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert_valid(
        "requests.json",
        [
            {
                **answer[0],
                "status": "open",
                "service_code": "09009",
                "requested_datetime": "2026-01-01T00:00:00Z",
            }
        ],
    )
    case_id = int(answer[0]["service_request_id"])
    native = (await client.get(f"/api/v1/reports/{case_id}", headers=world.headers("dispatcher"))).json()
    assert native["unit"]["name"] == "平凉市公安局交通警察支队崆峒大队" and native["status"] == "dispatched"
    one = (await client.get(f"{BASE}/requests/{case_id}.json")).json()
    assert_valid("requests.json", one)
    item = one[0]
    assert item["agency_responsible"] == "平凉市公安局交通警察支队崆峒大队" and item["status"] == "open"
    assert item["expected_datetime"] and item["extended_attributes"]["status"] == "dispatched"
    assert "attributes" not in item["extended_attributes"]  # the citizen's answers are for staff
    assert native["attributes"] == {"plate_number": "甘L12345", "vehicle_type": "car"}
    assert "citizen@example.cn" not in json.dumps(one) and "13800000000" not in json.dumps(one)
    token = answer[0]["token"]
    assert (await client.get(f"{BASE}/tokens/{token}.json")).json()[0]["service_request_id"] == str(case_id)
    stats = (
        await client.get(
            "/api/v1/stats/assessment", params={"group_by": "unit"}, headers=world.headers("supervisor")
        )
    ).json()
    assert stats["total"]["counts"]["filed"] == 1
    doc = ET.fromstring((await client.get(f"{BASE}/requests/{case_id}.xml")).content)
    assert doc.tag == "service_requests" and doc.findtext("request/service_request_id") == str(case_id)
    assert doc.findtext("request/long") == str(CENTRE["lon"])


async def test_posts_refused_in_the_specs_error_format(client, api_key) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({"api_key": ""}, 403),
        ({"api_key": "gik_nope_nope"}, 403),
        ({"service_code": "99999"}, 400),
        ({"service_code": ""}, 400),
        ({"lat": "", "long": "", "address_string": "中山街 12 号"}, 400),
        ({"lat": "NaN"}, 400),
        ({"long": "181"}, 400),
        ({"attribute[vehicle_type]": "tank"}, 400),
        ({"attribute[colour]": "red"}, 400),
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"lat": "0", "long": "0"}, 400),
    ]
    for extra, status in cases:
        r = await post_request(client, api_key, **extra)
        assert r.status_code == status, (extra, r.text)
        body = r.json()
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"], (extra, body)
    r = await post_request(client, api_key, "xml", service_code="99999")
    error = ET.fromstring(r.content)
    assert error.tag == "errors" and error.findtext("error/code") == "400"
    r = await post_request(client, api_key, service_code="06010")
    assert r.status_code == 400 and "amount" in r.json()[0]["description"]  # a required attribute is missing
    assert (await client.get(f"{BASE}/nothing-here.json")).json()[0]["code"] == 404
    # A body in a format the spec does not take is 415, as on the native intake (it was 400).
    r = await client.post(
        f"{BASE}/requests.json?api_key={api_key}",
        content=b"service_code,lat\n09009,35.5",
        headers={"Content-Type": "text/csv"},
    )
    assert (r.status_code, r.json()[0]["code"]) == (415, 415), r.text


async def test_json_and_multipart_posts_with_media(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        f"{BASE}/requests.json",
        json={
            **{k: v for k, v in FORM.items() if "[" not in k},
            "api_key": api_key,
            "attribute": {"vehicle_type": "truck"},
        },
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{BASE}/requests.json",
        data={**FORM, "api_key": api_key},
        files=[("media", ("p.jpg", jpeg_at(CENTRE["lat"], CENTRE["lon"]), "image/jpeg"))],
    )
    assert r.status_code == 200, r.text
    case_id = r.json()[0]["service_request_id"]
    item = (await client.get(f"{BASE}/requests/{case_id}.json")).json()[0]
    assert item["media_url"].endswith(".jpg")
    photo = await client.get(urlsplit(item["media_url"]).path)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert b"Exif" not in photo.content[:200]
    r = await post_request(client, api_key, media_url="https://x.cn/a.jpg")
    linked = (await client.get(f"{BASE}/requests/{r.json()[0]['service_request_id']}.json")).json()[0]
    assert linked["media_url"] == "https://x.cn/a.jpg"


async def test_discovery(client) -> None:  # type: ignore[no-untyped-def]
    body = (await client.get(f"{BASE}/discovery.json")).json()
    assert body["endpoints"][0]["formats"] == ["application/json", "text/xml"]
    doc = ET.fromstring((await client.get(f"{BASE}/discovery.xml")).content)
    assert [f.text for f in doc.findall("endpoints/endpoint/formats/format")] == [
        "application/json",
        "text/xml",
    ]


async def test_updates_carry_state_changes_not_staff_notes(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    case_id = (await post_request(client, api_key)).json()[0]["service_request_id"]
    r = await client.post(
        f"/api/v1/reports/{case_id}/actions",
        json={"action": "comment", "note": "车主电话 139xxxx"},
        headers=world.headers("dispatcher"),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/reports/{case_id}/actions",
        json={"action": "return", "reason": "内部: 非本单位"},
        headers=world.headers("jiaojing"),
    )
    assert r.status_code == 200, r.text
    text = (await client.get(f"{BASE}/servicerequestupdates.json")).text
    assert "139xxxx" not in text and "内部" not in text
    updates = [u for u in json.loads(text) if u["service_request_id"] == case_id]
    assert [u["extended_attributes"]["action"] for u in updates] == [
        "report",
        "register",
        "dispatch",
        "return",
    ]


async def test_hostile_input_from_the_newcomer_run(client, world, api_key) -> None:  # type: ignore[no-untyped-def]
    base = {k: v for k, v in FORM.items() if "[" not in k}
    as_json = {"Content-Type": "application/json"}
    bad_posts = [  # JSON escapes for lone surrogates, as a JS client that cut an emoji in half sends them
        {
            "content": json.dumps({**base, "api_key": api_key, "attribute": {"plate_number": "\ud800"}}),
            "headers": as_json,
        },
        {"content": json.dumps({"\ud800": {"a": 1}}), "headers": as_json},
        {
            "content": json.dumps({**base, "api_key": api_key, "attribute": {"\ud800": "x"}}),
            "headers": as_json,
        },
        {"content": b"[" * 100_000 + b"]" * 100_000, "headers": {"Content-Type": "application/json"}},
        {"data": {**FORM, "api_key": api_key, "attribute[vehicle_type]]": "car"}},
        {"data": {**FORM, "api_key": api_key, "lat": "3_5.5428"}},
        {"data": {**FORM, "api_key": api_key, "lat": "３５.５４２８"}},
        {"data": {**FORM, "api_key": api_key, "media_url": "http://a b/c d.jpg"}},
        {"data": {**FORM, "api_key": api_key, "media_url": "http://"}},
        {"data": {**FORM, "api_key": api_key, "address_string": "路" * 300}},
        {
            "content": f"api_key={api_key}&service_code=09009&lat=35.5&long=106.6&description=%FF".encode(),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ]
    for kwargs in bad_posts:
        r = await client.post(f"{BASE}/requests.json", **kwargs)
        assert r.status_code in (400, 403), (str(kwargs)[:80], r.status_code, r.text[:200])
        assert r.json()[0]["code"] == r.status_code
    # A control character stored by a native report cannot break the public XML.
    r = await client.post(
        "/api/v1/reports",
        json={"category_code": "09009", "description": "esc \u001b here", **CENTRE},
        headers=world.headers("worker2"),
    )
    assert r.status_code == 201
    ET.fromstring((await client.get(f"{BASE}/requests.xml")).content)
    for path in (f"{BASE}/requests/1%1B.xml", f"{BASE}/tokens/%1B.xml", f"{BASE}/services/%0B.xml"):
        ET.fromstring((await client.get(path)).content)  # echoed input stays well-formed
    for params in (
        {"start_date": "9999-12-31T23:59:59Z"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "20261101T000000Z"},
        {"start_date": "2026-11-01T00:00:00+08"},
    ):
        r = await client.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 400, params
    assert (
        await client.get(f"{BASE}/servicerequestupdates.xml", params={"end_date": "0001-01-01T00:00:00Z"})
    ).status_code == 400
    for ok in ("2026-11-01T00:00:00z", "2016-12-31T23:59:60Z", "2026-11-01T08:00:00 08:00"):
        r = await client.get(f"{BASE}/requests.json", params={"start_date": ok})
        assert r.status_code == 200, (ok, r.text)
    assert (await client.get(f"{BASE}/media/99999999999999999999999.jpg")).status_code in (400, 404)


async def test_a_retry_with_other_open311_fields_is_a_conflict(client, api_key) -> None:  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": "o311-retry-1"}
    first = await client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    again = await client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    other = await client.post(
        f"{BASE}/requests.json",
        headers=headers,
        data={**FORM, "api_key": api_key, "attribute[vehicle_type]": "truck"},
    )
    assert other.status_code == 409 and other.json()[0]["code"] == 409


async def test_links_use_the_configured_address_not_the_host_header(client, app, api_key) -> None:  # type: ignore[no-untyped-def]
    app.state.settings.public_url = "https://grid.example.cn"
    r = await client.post(
        f"{BASE}/requests.json",
        data={**FORM, "api_key": api_key},
        files=[("media", ("p.jpg", jpeg_at(CENTRE["lat"], CENTRE["lon"]), "image/jpeg"))],
    )
    case_id = r.json()[0]["service_request_id"]
    item = (await client.get(f"{BASE}/requests/{case_id}.json", headers={"Host": "evil.example"})).json()[0]
    assert item["media_url"].startswith("https://grid.example.cn/open311/v2/media/")
    discovery = (await client.get(f"{BASE}/discovery.json", headers={"Host": "evil.example"})).json()
    assert discovery["endpoints"][0]["url"] == "https://grid.example.cn/open311/v2/"
    page1 = (await client.get(f"{BASE}/servicerequestupdates.json", params={"page_size": 2})).json()
    page2 = (
        await client.get(f"{BASE}/servicerequestupdates.json", params={"page_size": 2, "page": 2})
    ).json()
    assert len(page1) == 2 and page2 and page1[-1]["update_id"] != page2[0]["update_id"]
