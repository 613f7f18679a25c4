"""Filing a report: placement (client point, EXIF, GCJ-02), routing and the first state, veto alerts,
retries, possible duplicates, self-handling, who may file, and the report's own fields: app/reports
(intake.py, placement.py, retries.py). The request body itself: test_report_uploads.py; its photos:
test_report_photos.py."""

import json
import uuid

import pytest
from sqlalchemy import select

from app.cases.models import Alert, Case, CaseEvent
from tests.support.keys import new_api_key
from tests.support.photos import ITALY_JPEG, NO_GPS_JPEG, jpeg_at
from tests.support.reports import CENTRE, REPORT, post_report
from tests.support.store import count


async def test_worker_report_is_routed_dispatched_and_due(client, world, session) -> None:  # type: ignore[no-untyped-def]
    r = await post_report(
        client, world, {"category_code": "09009", "description": "占道停车", "address": "中山街", **CENTRE}
    )
    assert r.status_code == 201 and r.headers["location"] == f"/api/v1/reports/{r.json()['id']}"
    case = r.json()
    assert (case["status"], case["unit"]["name"]) == ("dispatched", "平凉市公安局交通警察支队崆峒大队")
    assert case["routing"]["rule"] == "category" and case["due_at"] and case["light"] == "green"
    assert case["grid"]["code"].startswith("620802002001") and case["location_source"] == "client"
    actions = (
        (
            await session.execute(
                select(CaseEvent.action).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.id)
            )
        )
        .scalars()
        .all()
    )
    assert actions == ["report", "register", "dispatch"]


async def test_without_auto_dispatch_or_without_a_unit_the_case_waits(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.workflow.auto_dispatch = False
    case = (await post_report(client, world, {"category_code": "06010", **CENTRE})).json()
    assert (case["status"], case["unit"], case["due_at"]) == ("reported", None, None)
    settings.workflow.auto_dispatch = True
    for unit in ("市妇联", "崆峒区城市管理综合执法局"):
        await client.patch(
            f"/api/v1/units/{world.units[unit]}", json={"active": False}, headers=world.headers("admin")
        )
    case = (await post_report(client, world, {"category_code": "06010", **CENTRE})).json()
    assert (case["status"], case["unit"], case["routing"]["rule"]) == ("reported", None, "none")


async def test_location_from_exif_when_lat_lon_are_absent(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await post_report(
        client, world, {"category_code": "06010"}, [("phone.jpg", jpeg_at(35.5428, 106.6652))]
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["location_source"] == "exif" and abs(case["lat"] - 35.5428) < 1e-5
    assert case["photos"][0]["flags"] == [] and case["photos"][0]["distance_m"] < 1


async def test_no_location_anywhere_is_location_required(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await post_report(client, world, {"category_code": "06010"}, [("x.jpg", NO_GPS_JPEG.read_bytes())])
    assert (r.status_code, r.json()["code"]) == (422, "location_required")
    r = await client.post(
        "/api/v1/reports", json={"category_code": "06010"}, headers=world.headers("worker2")
    )
    assert (r.status_code, r.json()["code"]) == (422, "location_required")
    r = await post_report(client, world, {"category_code": "06010"}, [("zero.jpg", jpeg_at(0.0, 0.0))])
    assert (r.status_code, r.json()["code"]) == (422, "location_required")


async def test_exif_in_italy_is_outside_the_service_area(client, world, session) -> None:  # type: ignore[no-untyped-def]
    r = await post_report(client, world, {"category_code": "06010"}, [("it.jpg", ITALY_JPEG.read_bytes())])
    assert (r.status_code, r.json()["code"]) == (422, "outside_service_area")
    assert await count(session, Case) == 0


async def test_gcj02_point_is_converted_and_the_original_kept(client, world, session) -> None:  # type: ignore[no-untyped-def]
    from app.geo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(CENTRE["lon"], CENTRE["lat"])
    case = (
        await post_report(
            client, world, {"category_code": "06010", "lat": glat, "lon": glon, "coord_system": "gcj02"}
        )
    ).json()
    assert case["coord_system"] == "gcj02"
    assert case["lat"] == pytest.approx(CENTRE["lat"], abs=1e-6) and case["lon"] == pytest.approx(
        CENTRE["lon"], abs=1e-6
    )
    row = (
        await session.execute(select(Case.reported_lat, Case.reported_lon).where(Case.id == case["id"]))
    ).one()
    assert row == (glat, glon)


async def test_veto_item_alerts_supervisors_at_once(client, world, session) -> None:  # type: ignore[no-untyped-def]
    case = (
        await post_report(client, world, {"category_code": "91002", "description": "脚手架坍塌", **CENTRE})
    ).json()
    assert case["priority"] == "urgent"
    alerts = (await session.execute(select(Alert).where(Alert.case_id == case["id"]))).scalars().all()
    assert [a.kind for a in alerts] == ["veto"] and "91002" in alerts[0].message
    actions = (
        (await session.execute(select(CaseEvent.action).where(CaseEvent.case_id == case["id"])))
        .scalars()
        .all()
    )
    assert "veto_alert" in actions


async def test_retries_with_a_key_or_client_id_create_nothing(client, world, session) -> None:  # type: ignore[no-untyped-def]
    report = {"client_id": str(uuid.uuid4()), "category_code": "06010", **CENTRE}
    photo = [("a.jpg", NO_GPS_JPEG.read_bytes())]
    first = await post_report(client, world, report, photo, headers={"Idempotency-Key": "k-1"})
    second = await post_report(client, world, report, photo, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201 and second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    third = await post_report(client, world, report, photo)  # same client_id, no key
    assert third.json()["id"] == first.json()["id"]
    assert await count(session, Case) == 1
    changed = await post_report(
        client, world, {**report, "description": "changed"}, photo, headers={"Idempotency-Key": "k-1"}
    )
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_key_reused")
    other_user = await post_report(
        client, world, report, photo, user="worker1", headers={"Idempotency-Key": "k-1"}
    )
    assert (
        other_user.status_code == 201 and other_user.json()["id"] != first.json()["id"]
    )  # keys are per caller


async def test_possible_duplicates_nearby_same_category(client, world) -> None:  # type: ignore[no-untyped-def]
    first = (await post_report(client, world, {"category_code": "06010", **CENTRE})).json()
    near = {"lat": CENTRE["lat"] + 0.0002, "lon": CENTRE["lon"]}  # ~22 m north
    second = (await post_report(client, world, {"category_code": "06010", **near})).json()
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    assert 15 < second["possible_duplicates"][0]["distance_m"] < 30
    other = (await post_report(client, world, {"category_code": "07001", **near})).json()
    assert other["possible_duplicates"] == []
    far = (
        await post_report(
            client, world, {"category_code": "06010", "lat": CENTRE["lat"] + 0.002, "lon": CENTRE["lon"]}
        )
    ).json()
    assert far["possible_duplicates"] == []


@pytest.mark.parametrize(
    ("observed_at", "flagged"),
    [
        ("2099-01-01T00:00:00+08:00", True),
        ("1999-12-31T23:59:59Z", True),
        ("2026-11-30T08:00:00+08:00", False),
    ],
)
async def test_client_clock_is_kept_and_flagged_when_skewed(client, world, observed_at, flagged) -> None:  # type: ignore[no-untyped-def]
    case = (
        await post_report(client, world, {"category_code": "06010", "observed_at": observed_at, **CENTRE})
    ).json()
    assert ("clock_skew" in case["flags"]) is flagged and case["observed_at"]


@pytest.mark.parametrize(
    ("part", "content_type", "field"),
    [
        ("{not json", "application/json", "report"),
        (json.dumps({"category_code": "06010", "lat": 91, "lon": 106.6}), "text/plain", "report.lat"),
        (json.dumps({"category_code": "6010", **CENTRE}), "application/json", "report.category_code"),
        (json.dumps({"category_code": "06010", "lat": 35.5}), "application/json", "report.lon"),
        (json.dumps({"category_code": "06010", "extra": 1, **CENTRE}), "application/json", "report.extra"),
    ],
)
async def test_report_errors_point_at_the_field(client, world, part, content_type, field) -> None:  # type: ignore[no-untyped-def]
    r = await post_report(client, world, part, content_type=content_type)
    assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], r.text


async def test_self_handled_report_goes_straight_to_resolved(client, world) -> None:  # type: ignore[no-untyped-def]
    before, after = NO_GPS_JPEG.read_bytes(), jpeg_at(35.5428, 106.6652)
    r = await post_report(
        client,
        world,
        {"category_code": "06010", "self_handled": True, **CENTRE},
        [("before.jpg", before)],
        after=[("after.jpg", after)],
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "resolved" and r.json()["unit"] is None
    assert sorted(p["stage"] for p in r.json()["photos"]) == ["report", "resolution"]
    r = await post_report(
        client, world, {"category_code": "06010", "self_handled": True, **CENTRE}, [("b.jpg", before)]
    )
    assert (r.status_code, r.json()["code"]) == (422, "after_photo_required")


async def test_unit_staff_cannot_file_and_api_keys_can(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await post_report(client, world, {"category_code": "06010", **CENTRE}, user="jiaojing")
    assert r.status_code == 403
    key = (await new_api_key(client, world.headers("admin"), "app"))["key"]
    r = await client.post(
        "/api/v1/reports", json={"category_code": "06010", **CENTRE}, headers={"X-API-Key": key}
    )
    assert r.status_code == 201 and r.json()["source"] == "api"
    assert (
        await client.get(f"/api/v1/reports/{r.json()['id']}", headers={"X-API-Key": key})
    ).status_code == 200
    other = (await post_report(client, world, {"category_code": "06010", **CENTRE})).json()
    assert (await client.get(f"/api/v1/reports/{other['id']}", headers={"X-API-Key": key})).status_code == 404


@pytest.mark.parametrize("observed", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
async def test_observed_at_at_the_edge_of_time_is_422(client, world, observed) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: an observed_at at the edge of what a datetime can hold
    # must be refused with its field named.
    r = await client.post(
        "/api/v1/reports", json={**REPORT, "observed_at": observed}, headers=world.headers("worker2")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "report.observed_at"


@pytest.mark.parametrize("field", [{"lat": True, "lon": 106.6652}, {"self_handled": "yes"}])
async def test_booleans_are_not_numbers_and_strings_are_not_booleans(client, world, field) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: JSON types were coerced (true as a latitude, "yes" as true).
    r = await client.post("/api/v1/reports", json={**REPORT, **field}, headers=world.headers("worker2"))
    assert r.status_code == 422


async def test_self_handled_rules(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports, the self-handled rules: a before photo is required, a veto
    # item is never handled on the spot, and the routing explanation never reads "None".
    after = [("after.jpg", jpeg_at(35.5428, 106.6652))]
    r = await post_report(client, world, {**REPORT, "self_handled": True}, after=after)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    r = await post_report(
        client,
        world,
        {**REPORT, "category_code": "91001", "self_handled": True},
        [("b.jpg", NO_GPS_JPEG.read_bytes())],
        after=after,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "report.self_handled"
    r = await post_report(
        client, world, {**REPORT, "self_handled": True}, [("b.jpg", NO_GPS_JPEG.read_bytes())], after=after
    )
    assert r.status_code == 201 and "None" not in r.json()["routing"]["explanation"]
