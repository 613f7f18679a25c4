"""Regressions for what the second newcomer's attack run on photo reports found."""

import asyncio
import io
import json

import pytest
from PIL import Image

from tests.conftest import PHOTOS
from tests.support.reports import CENTRE, ITALY_JPEG, NO_GPS_JPEG, jpeg_at, report_files

REPORT = {"category_code": "06010", **CENTRE}


async def post(client, world, files, user="worker2", **headers):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/reports", headers={**world.headers(user), **headers}, files=files)


async def test_a_stalled_upload_blocks_no_one(live_client, world, settings) -> None:  # type: ignore[no-untyped-def]
    release = asyncio.Event()
    head = json.dumps(REPORT).encode()
    boundary = "stall"

    async def stalled_body():  # type: ignore[no-untyped-def]
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n").encode() + head
        await release.wait()  # a phone that went into a tunnel
        yield f"\r\n--{boundary}--\r\n".encode()

    stalled = asyncio.create_task(live_client.post("/api/v1/reports", content=stalled_body(), headers={
        **world.headers("worker2"), "Content-Type": f"multipart/form-data; boundary={boundary}"}))
    await asyncio.sleep(0.3)
    others = await asyncio.gather(*[live_client.post("/api/v1/reports", json=REPORT, headers=world.headers("worker1"))
                                    for _ in range(3)])
    login = await live_client.post("/api/v1/auth/token", data={"username": "admin", "password": "demo-admin-2026"})
    assert [r.status_code for r in others] == [201] * 3 and login.status_code == 200
    release.set()
    assert (await stalled).status_code == 201


async def test_an_idle_upload_times_out_with_408(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.photos.body_idle_seconds = 0.3

    async def idle_body():  # type: ignore[no-untyped-def]
        yield b"--b\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n{}"
        await asyncio.sleep(2)
        yield b"\r\n--b--\r\n"

    r = await client.post("/api/v1/reports", content=idle_body(), headers={
        **world.headers("worker2"), "Content-Type": "multipart/form-data; boundary=b"})
    assert (r.status_code, r.json()["code"]) == (408, "request_timeout")


@pytest.mark.parametrize("observed", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
async def test_observed_at_at_the_edge_of_time_is_422(client, world, observed) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", json={**REPORT, "observed_at": observed}, headers=world.headers("worker2"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "report.observed_at"


@pytest.mark.parametrize(("body", "content_type", "code"), [
    (b"--" + b"q" * 300 + b"\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n{}\r\n--" + b"q" * 300 + b"--\r\n",
     "multipart/form-data; boundary=" + "q" * 300, "malformed_multipart"),
    (b"--b\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n" + json.dumps(REPORT).encode() +
     b"\r\n--b\r\nContent-Disposition: form-data; name=\"photos\"; filen", "multipart/form-data; boundary=b",
     "malformed_multipart"),
    (b"--b\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n" + json.dumps(REPORT).encode(),
     "multipart/form-data; boundary=b", "malformed_multipart"),
    (b"--b\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n" + json.dumps(REPORT).encode() +
     b"\r\n--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.jpg\"\r\n\r\nxx\r\n--b--\r\n",
     "multipart/form-data; boundary=b", "unknown_part"),
])
async def test_broken_multipart_bodies_are_refused_not_half_kept(client, world, body, content_type, code) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", content=body, headers={**world.headers("worker2"),
                                                                    "Content-Type": content_type})
    assert r.json()["code"] == code and 400 <= r.status_code < 500


def _jpeg(**save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 150), (10, 20, 30)).save(out, "JPEG", **save)
    return out.getvalue()


async def test_trailers_and_comments_do_not_survive_stripping(client, world) -> None:  # type: ignore[no-untyped-def]
    secret = jpeg_at(35.1234, 106.9876)  # a second image with GPS hidden after the first one's end
    photo = _jpeg(comment=b"SECRET GPS 35.5428,106.6652") + secret + b"ftypmp42 motion photo +35.5428+106.6652/"
    png = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "SECRET PNG 35.5428")
    Image.new("RGB", (200, 150)).save(png, "PNG", pnginfo=info)
    case = (await post(client, world, report_files(REPORT, [("a.jpg", photo), ("b.png", png.getvalue())]))).json()
    for p in case["photos"]:
        for url, user in ((p["url"], "worker2"), (p["thumbnail_url"], "worker2"),
                          (p["url"] + "?variant=original", "dispatcher")):
            data = (await client.get(url, headers=world.headers(user))).content
            assert b"SECRET" not in data and b"Exif" not in data and b"motion" not in data, url
            assert data.endswith(b"\xff\xd9"), url


async def test_originals_of_turned_photos_still_come_out_upright(client, world) -> None:  # type: ignore[no-untyped-def]
    from PIL import ImageOps

    data = (PHOTOS / "ianare_exif-samples/jpg/orientation/landscape_6.jpg").read_bytes()
    case = (await post(client, world, report_files(REPORT, [("l6.jpg", data)]))).json()
    raw = (await client.get(case["photos"][0]["url"] + "?variant=original", headers=world.headers("dispatcher"))).content
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(raw)))
    assert image.width > image.height
    assert set(Image.open(io.BytesIO(raw)).getexif()) == {0x0112}  # nothing but the orientation


async def test_a_truncated_heic_is_corrupt(client, world) -> None:  # type: ignore[no-untyped-def]
    data = (PHOTOS / "bigcat88_pillow_heif/tests/images/heif_special/xiaomi.heic").read_bytes()
    r = await post(client, world, report_files(REPORT, [("half.heic", data[: len(data) // 2])]))
    assert (r.status_code, r.json()["code"]) == (422, "corrupt_image")


async def test_hidden_photos_and_duplicates_stay_hidden(client, world) -> None:  # type: ignore[no-untyped-def]
    mine = (await post(client, world, report_files(REPORT, [("a.jpg", NO_GPS_JPEG.read_bytes())]))).json()
    r = await client.get(mine["photos"][0]["url"], headers=world.headers("worker1"))
    assert r.json()["detail"] == f"No photo with id {mine['photos'][0]['id']}"
    theirs = (await post(client, world, report_files(REPORT), user="worker1")).json()
    assert theirs["possible_duplicates"] == []  # worker1 may not see worker2's case, so it is not listed
    staff = (await client.get(f"/api/v1/reports/{mine['id']}", headers=world.headers("dispatcher"))).json()
    assert staff["photos"][0]["filename"] == "a.jpg"


async def test_unit_staff_do_not_see_where_and_when_the_worker_took_photos(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await post(client, world, report_files({**REPORT, "category_code": "09009"},
                                                   [("it.jpg", ITALY_JPEG.read_bytes())]))).json()
    assert case["photos"][0]["gps"] is not None  # the reporter sees it
    staff = (await client.get(f"/api/v1/reports/{case['id']}", headers=world.headers("jiaojing"))).json()
    assert (staff["photos"][0]["gps"], staff["photos"][0]["taken_at"], staff["photos"][0]["filename"]) == (None,) * 3
    assert "far_from_report" in staff["photos"][0]["flags"]  # the evidence check still shows


async def test_self_handled_rules(client, world) -> None:  # type: ignore[no-untyped-def]
    after = [("after_photos", ("after.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg"))]
    r = await post(client, world, report_files({**REPORT, "self_handled": True}) + after)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    r = await post(client, world, report_files({**REPORT, "category_code": "91001", "self_handled": True},
                                               [("b.jpg", NO_GPS_JPEG.read_bytes())]) + after)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "report.self_handled"
    r = await post(client, world, report_files({**REPORT, "self_handled": True},
                                               [("b.jpg", NO_GPS_JPEG.read_bytes())]) + after)
    assert r.status_code == 201 and "None" not in r.json()["routing"]["explanation"]


async def test_conditional_and_head_requests_on_photos(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await post(client, world, report_files(REPORT, [("a.jpg", NO_GPS_JPEG.read_bytes())]))).json()
    url = case["photos"][0]["thumbnail_url"]
    etag = (await client.get(url, headers=world.headers("worker2"))).headers["etag"]
    for tag in (f"W/{etag}", "*", f'"other", {etag}'):
        r = await client.get(url, headers={**world.headers("worker2"), "If-None-Match": tag})
        assert r.status_code == 304, tag
    r = await client.head(url, headers=world.headers("worker2"))
    assert r.status_code == 200 and r.headers["etag"] == etag


@pytest.mark.parametrize("field", [{"lat": True, "lon": 106.6652}, {"self_handled": "yes"}])
async def test_booleans_are_not_numbers_and_strings_are_not_booleans(client, world, field) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", json={**REPORT, **field}, headers=world.headers("worker2"))
    assert r.status_code == 422


async def test_a_bom_before_the_report_json_is_fine(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, report_files(b"\xef\xbb\xbf" + json.dumps(REPORT).encode()))
    assert r.status_code == 201
