"""Filing photo-backed reports over HTTP: placement, routing, first state, evidence, retries, limits."""

import hashlib
import io
import json
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.photos.sweeper import sweep_orphans
from app.reports.models import Alert, Case, CaseEvent
from tests.conftest import PHOTOS
from tests.support.reports import CENTRE, ITALY_JPEG, NO_GPS_JPEG, jpeg_at, report_files

PROBLEM = "application/problem+json"
ALL_PHOTOS = sorted(p for p in PHOTOS.rglob("*") if p.suffix.lower() in (".jpg", ".heic"))


async def file(client, world, report: dict, photos=(), user: str = "worker2", **kw):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/reports", headers={**world.headers(user), **kw.pop("headers", {})},
                             files=report_files(report, list(photos), **kw))


async def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


@pytest.mark.parametrize("path", ALL_PHOTOS, ids=lambda p: p.name)
async def test_every_real_photo_through_the_api(client, world, path) -> None:  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    r = await file(client, world, {"category_code": "06010", **CENTRE}, [(path.name, data)])
    if not data:
        assert (r.status_code, r.json()["code"], r.headers["content-type"]) == (422, "empty_image", PROBLEM)
        assert r.json()["errors"][0]["field"] == "photos.0"
        return
    assert r.status_code == 201, r.text
    (photo,) = r.json()["photos"]
    assert photo["filename"] == path.name and photo["format"] in ("jpeg", "heif")
    if path.name.startswith("landscape_"):
        assert photo["width"] > photo["height"]
    if path.name.startswith("portrait_"):
        assert photo["height"] > photo["width"]
    thumb = await client.get(photo["thumbnail_url"], headers=world.headers("worker2"))
    image = Image.open(io.BytesIO(thumb.content))
    assert (image.width > image.height) == (photo["width"] > photo["height"])
    assert not image.getexif()


async def test_worker_report_is_routed_dispatched_and_due(client, world, session) -> None:  # type: ignore[no-untyped-def]
    r = await file(client, world, {"category_code": "09009", "description": "占道停车", "address": "中山街", **CENTRE})
    assert r.status_code == 201 and r.headers["location"] == f"/api/v1/reports/{r.json()['id']}"
    case = r.json()
    assert (case["status"], case["unit"]["name"]) == ("dispatched", "平凉市公安局交通警察支队崆峒大队")
    assert case["routing"]["rule"] == "category" and case["due_at"] and case["light"] == "green"
    assert case["grid"]["code"].startswith("620802002001") and case["location_source"] == "client"
    actions = (await session.execute(select(CaseEvent.action).where(CaseEvent.case_id == case["id"])
                                     .order_by(CaseEvent.id))).scalars().all()
    assert actions == ["report", "register", "dispatch"]


async def test_without_auto_dispatch_or_without_a_unit_the_case_waits(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.workflow.auto_dispatch = False
    case = (await file(client, world, {"category_code": "06010", **CENTRE})).json()
    assert (case["status"], case["unit"], case["due_at"]) == ("reported", None, None)
    settings.workflow.auto_dispatch = True
    for unit in ("市妇联", "崆峒区城市管理综合执法局"):
        await client.patch(f"/api/v1/units/{world.units[unit]}", json={"active": False}, headers=world.headers("admin"))
    case = (await file(client, world, {"category_code": "06010", **CENTRE})).json()
    assert (case["status"], case["unit"], case["routing"]["rule"]) == ("reported", None, "none")


async def test_location_from_exif_when_lat_lon_are_absent(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await file(client, world, {"category_code": "06010"}, [("phone.jpg", jpeg_at(35.5428, 106.6652))])
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["location_source"] == "exif" and abs(case["lat"] - 35.5428) < 1e-5
    assert case["photos"][0]["flags"] == [] and case["photos"][0]["distance_m"] < 1


async def test_no_location_anywhere_is_location_required(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await file(client, world, {"category_code": "06010"}, [("x.jpg", NO_GPS_JPEG.read_bytes())])
    assert (r.status_code, r.json()["code"]) == (422, "location_required")
    r = await client.post("/api/v1/reports", json={"category_code": "06010"}, headers=world.headers("worker2"))
    assert (r.status_code, r.json()["code"]) == (422, "location_required")
    r = await file(client, world, {"category_code": "06010"}, [("zero.jpg", jpeg_at(0.0, 0.0))])
    assert (r.status_code, r.json()["code"]) == (422, "location_required")


async def test_exif_in_italy_is_outside_the_service_area(client, world, session) -> None:  # type: ignore[no-untyped-def]
    r = await file(client, world, {"category_code": "06010"}, [("it.jpg", ITALY_JPEG.read_bytes())])
    assert (r.status_code, r.json()["code"]) == (422, "outside_service_area")
    assert await count(session, Case) == 0


async def test_italian_photo_on_a_kongtong_report_is_flagged_far_and_old(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await file(client, world, {"category_code": "06010", **CENTRE}, [("it.jpg", ITALY_JPEG.read_bytes())])).json()
    photo = case["photos"][0]
    assert {"far_from_report", "taken_before_report"} <= set(photo["flags"])
    assert photo["distance_m"] > 7_000_000 and photo["gps"]["lat"] == pytest.approx(43.46745, abs=1e-4)
    again = (await file(client, world, {"category_code": "07001", **CENTRE}, [("it.jpg", ITALY_JPEG.read_bytes())])).json()
    assert "reused_photo" in again["photos"][0]["flags"]


async def test_gcj02_point_is_converted_and_the_original_kept(client, world, session) -> None:  # type: ignore[no-untyped-def]
    from app.geo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(CENTRE["lon"], CENTRE["lat"])
    case = (await file(client, world, {"category_code": "06010", "lat": glat, "lon": glon, "coord_system": "gcj02"})).json()
    assert case["coord_system"] == "gcj02"
    assert case["lat"] == pytest.approx(CENTRE["lat"], abs=1e-6) and case["lon"] == pytest.approx(CENTRE["lon"], abs=1e-6)
    row = (await session.execute(select(Case.reported_lat, Case.reported_lon).where(Case.id == case["id"]))).one()
    assert row == (glat, glon)


async def test_veto_item_alerts_supervisors_at_once(client, world, session) -> None:  # type: ignore[no-untyped-def]
    case = (await file(client, world, {"category_code": "91002", "description": "脚手架坍塌", **CENTRE})).json()
    assert case["priority"] == "urgent"
    alerts = (await session.execute(select(Alert).where(Alert.case_id == case["id"]))).scalars().all()
    assert [a.kind for a in alerts] == ["veto"] and "91002" in alerts[0].message
    actions = (await session.execute(select(CaseEvent.action).where(CaseEvent.case_id == case["id"]))).scalars().all()
    assert "veto_alert" in actions


async def test_retries_with_a_key_or_client_id_create_nothing(client, world, session) -> None:  # type: ignore[no-untyped-def]
    report = {"client_id": str(uuid.uuid4()), "category_code": "06010", **CENTRE}
    photo = [("a.jpg", NO_GPS_JPEG.read_bytes())]
    first = await file(client, world, report, photo, headers={"Idempotency-Key": "k-1"})
    second = await file(client, world, report, photo, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201 and second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()
    third = await file(client, world, report, photo)  # same client_id, no key
    assert third.json()["id"] == first.json()["id"]
    assert await count(session, Case) == 1
    changed = await file(client, world, {**report, "description": "changed"}, photo, headers={"Idempotency-Key": "k-1"})
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_key_reused")
    other_user = await file(client, world, report, photo, user="worker1", headers={"Idempotency-Key": "k-1"})
    assert other_user.status_code == 201 and other_user.json()["id"] != first.json()["id"]  # keys are per caller


async def test_possible_duplicates_nearby_same_category(client, world) -> None:  # type: ignore[no-untyped-def]
    first = (await file(client, world, {"category_code": "06010", **CENTRE})).json()
    near = {"lat": CENTRE["lat"] + 0.0002, "lon": CENTRE["lon"]}  # ~22 m north
    second = (await file(client, world, {"category_code": "06010", **near})).json()
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    assert 15 < second["possible_duplicates"][0]["distance_m"] < 30
    other = (await file(client, world, {"category_code": "07001", **near})).json()
    assert other["possible_duplicates"] == []
    far = (await file(client, world, {"category_code": "06010", "lat": CENTRE["lat"] + 0.002, "lon": CENTRE["lon"]})).json()
    assert far["possible_duplicates"] == []


@pytest.mark.parametrize(("observed_at", "flagged"), [
    ("2099-01-01T00:00:00+08:00", True), ("1999-12-31T23:59:59Z", True), ("2026-11-30T08:00:00+08:00", False)])
async def test_client_clock_is_kept_and_flagged_when_skewed(client, world, observed_at, flagged) -> None:  # type: ignore[no-untyped-def]
    case = (await file(client, world, {"category_code": "06010", "observed_at": observed_at, **CENTRE})).json()
    assert ("clock_skew" in case["flags"]) is flagged and case["observed_at"]


@pytest.mark.parametrize(("part", "content_type", "field"), [
    ("{not json", "application/json", "report"),
    (json.dumps({"category_code": "06010", "lat": 91, "lon": 106.6}), "text/plain", "report.lat"),
    (json.dumps({"category_code": "6010", **CENTRE}), "application/json", "report.category_code"),
    (json.dumps({"category_code": "06010", "lat": 35.5}), "application/json", "report.lon"),
    (json.dumps({"category_code": "06010", "extra": 1, **CENTRE}), "application/json", "report.extra"),
])
async def test_report_errors_point_at_the_field(client, world, part, content_type, field) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", headers=world.headers("worker2"),
                          files=report_files(part, content_type=content_type))
    assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], r.text


async def test_plain_json_report_and_text_plain_part(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", json={"category_code": "06010", **CENTRE}, headers=world.headers("worker2"))
    assert r.status_code == 201 and r.json()["photos"] == []
    r = await file(client, world, {"category_code": "06010", **CENTRE}, content_type="text/plain")
    assert r.status_code == 201
    r = await client.post("/api/v1/reports", content=b"x", headers={**world.headers("worker2"),
                                                                    "Content-Type": "application/xml"})
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_media_type")


async def test_format_comes_from_the_bytes_not_the_name(client, world, session) -> None:  # type: ignore[no-untyped-def]
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (1, 2, 3)).save(png, "PNG")
    case = (await file(client, world, {"category_code": "06010", **CENTRE}, [("photo.jpg", png.getvalue())])).json()
    assert case["photos"][0]["format"] == "png"
    r = await file(client, world, {"category_code": "06010", **CENTRE},
                   [("ok.jpg", NO_GPS_JPEG.read_bytes()), ("evil.jpg", b"GIF89a" + b"\0" * 64)])
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_image_format")
    assert r.json()["errors"][0]["field"] == "photos.1"
    truncated = NO_GPS_JPEG.read_bytes()[:5000]
    r = await file(client, world, {"category_code": "06010", **CENTRE}, [("cut.jpg", truncated)])
    assert (r.status_code, r.json()["code"]) == (422, "corrupt_image")
    assert await count(session, Case) == 1  # only the PNG report was kept


async def test_limits_are_413_and_leave_nothing_behind(client, world, settings, session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.photos.max_photo_bytes = 100_000
    big = ITALY_JPEG.read_bytes()  # 161,713 bytes
    r = await file(client, world, {"category_code": "06010", **CENTRE}, [("big.jpg", big)])
    assert (r.status_code, r.json()["code"]) == (413, "photo_too_large")
    settings.photos.max_photo_bytes = 15 * 1024 * 1024
    small = jpeg_at(35.5428, 106.6652, (64, 48))
    r = await file(client, world, {"category_code": "06010", **CENTRE}, [(f"{i}.jpg", small) for i in range(10)])
    assert (r.status_code, r.json()["code"]) == (413, "too_many_parts")
    assert await count(session, Case) == 0
    storage = tmp_path / "storage"
    assert not storage.exists() or not [p for p in storage.rglob("*") if p.is_file()]


async def test_unicode_and_rfc5987_file_names_are_kept(client, world) -> None:  # type: ignore[no-untyped-def]
    data = NO_GPS_JPEG.read_bytes()
    names = ["汉.jpg", "фото 1.jpg", "😀.jpg"]
    case = (await file(client, world, {"category_code": "06010", **CENTRE}, [(n, data) for n in names])).json()
    assert [p["filename"] for p in case["photos"]] == names
    boundary = "----gi-test-boundary"
    report = json.dumps({"category_code": "06010", **CENTRE})
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"report\"\r\n"
            f"Content-Type: application/json\r\n\r\n{report}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"fallback.jpg\"; "
            f"filename*=UTF-8''%E5%9E%83%E5%9C%BE%20%E7%85%A7%E7%89%87.jpg\r\nContent-Type: image/jpeg\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    r = await client.post("/api/v1/reports", content=body, headers={
        **world.headers("worker2"), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 201, r.text
    assert r.json()["photos"][0]["filename"] == "垃圾 照片.jpg"


async def test_who_sees_a_case(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await file(client, world, {"category_code": "09009", **CENTRE})).json()  # 中街, goes to 交警
    url = f"/api/v1/reports/{case['id']}"
    for user, status in (("worker2", 200), ("dispatcher", 200), ("supervisor", 200), ("admin", 200),
                         ("jiaojing", 200), ("worker1", 404), ("minzheng", 404), ("chengguan", 404)):
        r = await client.get(url, headers=world.headers(user))
        assert r.status_code == status, user
    r = await client.get(url, headers=world.headers("worker2"))
    assert r.headers["etag"] == f'"case-{case["id"]}-v{case["version"]}"'
    photo_case = (await file(client, world, {"category_code": "09009", **CENTRE},
                             [("a.jpg", NO_GPS_JPEG.read_bytes())])).json()
    photo_url = photo_case["photos"][0]["url"]
    assert (await client.get(photo_url, headers=world.headers("worker1"))).status_code == 404
    assert (await client.get(photo_url + "/thumbnail", headers=world.headers("minzheng"))).status_code == 404
    assert (await client.get("/api/v1/reports/99999999", headers=world.headers("admin"))).status_code == 404


async def test_served_photos_carry_no_exif_and_cache_forever(client, world, app) -> None:  # type: ignore[no-untyped-def]
    data = (PHOTOS / "ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg").read_bytes()
    case = (await file(client, world, {"category_code": "06010", **CENTRE}, [("iphone.jpg", data)])).json()
    photo = case["photos"][0]
    for url, user in ((photo["url"], "worker2"), (photo["thumbnail_url"], "worker2"),
                      (photo["url"] + "?variant=original", "dispatcher")):
        r = await client.get(url, headers=world.headers(user))
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", url
        assert "immutable" in r.headers["cache-control"] and r.headers["etag"]
        image = Image.open(io.BytesIO(r.content))
        assert not image.getexif() and b"Exif\x00\x00" not in r.content and "GPS" not in str(image.info)
        again = await client.get(url, headers={**world.headers(user), "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and not again.content
    original = await client.get(photo["url"] + "?variant=original", headers=world.headers("dispatcher"))
    assert Image.open(io.BytesIO(original.content)).size == (3264, 2448)
    assert (await client.get(photo["url"] + "?variant=original", headers=world.headers("worker2"))).status_code == 403
    display = await client.get(photo["url"], headers=world.headers("worker2"))
    assert max(Image.open(io.BytesIO(display.content)).size) == 1600
    # a crash lost the display copy: it is made again on request
    workshop = app.state.workshop
    await workshop.drain()
    workshop.storage.delete(f"display/{photo['sha256'][:2]}/{photo['sha256']}")
    again = await client.get(photo["url"], headers=world.headers("worker2"))
    assert again.status_code == 200 and again.content == display.content


async def test_evidence_photos_by_stage_and_role(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await file(client, world, {"category_code": "09009", **CENTRE})).json()  # unit: 交警
    url = f"/api/v1/reports/{case['id']}/photos"
    photo = NO_GPS_JPEG.read_bytes()

    async def add(user: str, stage: str):  # type: ignore[no-untyped-def]
        return await client.post(url, headers=world.headers(user),
                                 files=[("stage", (None, stage)), ("photos", ("p.jpg", photo, "image/jpeg"))])

    r = await add("jiaojing", "resolution")
    assert r.status_code == 201 and [p["stage"] for p in r.json()["photos"]] == ["resolution"]
    assert (await add("worker2", "check")).status_code == 201
    r = await add("worker2", "resolution")
    assert (r.status_code, r.json()["code"]) == (403, "stage_not_allowed")
    assert (await add("minzheng", "resolution")).status_code == 404  # not their case: it does not exist for them
    r = await add("worker2", "before")
    assert r.status_code == 422


async def test_self_handled_report_goes_straight_to_resolved(client, world) -> None:  # type: ignore[no-untyped-def]
    before, after = NO_GPS_JPEG.read_bytes(), jpeg_at(35.5428, 106.6652)
    files = report_files({"category_code": "06010", "self_handled": True, **CENTRE}, [("before.jpg", before)])
    files.append(("after_photos", ("after.jpg", after, "image/jpeg")))
    r = await client.post("/api/v1/reports", headers=world.headers("worker2"), files=files)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "resolved" and r.json()["unit"] is None
    assert sorted(p["stage"] for p in r.json()["photos"]) == ["report", "resolution"]
    r = await file(client, world, {"category_code": "06010", "self_handled": True, **CENTRE}, [("b.jpg", before)])
    assert (r.status_code, r.json()["code"]) == (422, "after_photo_required")


async def test_unit_staff_cannot_file_and_api_keys_can(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await file(client, world, {"category_code": "06010", **CENTRE}, user="jiaojing")
    assert r.status_code == 403
    key = (await client.post("/api/v1/api-keys", json={"name": "app"}, headers=world.headers("admin"))).json()["key"]
    r = await client.post("/api/v1/reports", json={"category_code": "06010", **CENTRE}, headers={"X-API-Key": key})
    assert r.status_code == 201 and r.json()["source"] == "api"
    assert (await client.get(f"/api/v1/reports/{r.json()['id']}", headers={"X-API-Key": key})).status_code == 200
    other = (await file(client, world, {"category_code": "06010", **CENTRE})).json()
    assert (await client.get(f"/api/v1/reports/{other['id']}", headers={"X-API-Key": key})).status_code == 404


async def test_sweeper_deletes_only_files_no_row_references(client, world, app, db) -> None:  # type: ignore[no-untyped-def]
    kept = (await file(client, world, {"category_code": "06010", **CENTRE}, [("k.jpg", NO_GPS_JPEG.read_bytes())])).json()
    workshop = app.state.workshop
    orphan = jpeg_at(1.0, 1.0)
    orphan_sha = hashlib.sha256(orphan).hexdigest()
    workshop.storage.put(f"originals/{orphan_sha[:2]}/{orphan_sha}", orphan)
    report = await sweep_orphans(workshop.storage, db, older_than=0)
    assert report.orphans_swept == 1 and orphan_sha[:16] in report.swept_sample[0]
    assert not workshop.storage.exists(f"originals/{orphan_sha[:2]}/{orphan_sha}")
    assert workshop.storage.exists(f"originals/{kept['photos'][0]['sha256'][:2]}/{kept['photos'][0]['sha256']}")
