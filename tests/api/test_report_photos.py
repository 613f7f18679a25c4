"""Photos of a case: every real photo through the API, the format read from the bytes, evidence checks
(far, old, reused), serving them without EXIF (display, thumbnail, original), evidence photos by stage and
role: app/photos and app/reports/photos.py."""

import io

import pytest
from PIL import Image, ImageOps, PngImagePlugin

from app.cases.models import Case
from tests.support.http import PROBLEM
from tests.support.paths import PHOTOS
from tests.support.photos import ITALY_JPEG, NO_GPS_JPEG, REAL_PHOTOS, XIAOMI_HEIC, encode, jpeg_at
from tests.support.reports import CENTRE, REPORT, add_photos, post_report
from tests.support.store import count


@pytest.mark.parametrize("path", REAL_PHOTOS, ids=lambda p: p.name)
async def test_every_real_photo_through_the_api(client, world, path) -> None:  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    r = await post_report(client, world, {"category_code": "06010", **CENTRE}, [(path.name, data)])
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


async def test_format_comes_from_the_bytes_not_the_name(client, world, session) -> None:  # type: ignore[no-untyped-def]
    png = encode(Image.new("RGB", (300, 200), (1, 2, 3)), "PNG")
    case = (
        await post_report(client, world, {"category_code": "06010", **CENTRE}, [("photo.jpg", png)])
    ).json()
    assert case["photos"][0]["format"] == "png"
    r = await post_report(
        client,
        world,
        {"category_code": "06010", **CENTRE},
        [("ok.jpg", NO_GPS_JPEG.read_bytes()), ("evil.jpg", b"GIF89a" + b"\0" * 64)],
    )
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_image_format")
    assert r.json()["errors"][0]["field"] == "photos.1"
    truncated = NO_GPS_JPEG.read_bytes()[:5000]
    r = await post_report(client, world, {"category_code": "06010", **CENTRE}, [("cut.jpg", truncated)])
    assert (r.status_code, r.json()["code"]) == (422, "corrupt_image")
    assert await count(session, Case) == 1  # only the PNG report was kept


async def test_italian_photo_on_a_kongtong_report_is_flagged_far_and_old(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (
        await post_report(
            client, world, {"category_code": "06010", **CENTRE}, [("it.jpg", ITALY_JPEG.read_bytes())]
        )
    ).json()
    photo = case["photos"][0]
    assert {"far_from_report", "taken_before_report"} <= set(photo["flags"])
    assert photo["distance_m"] > 7_000_000 and photo["gps"]["lat"] == pytest.approx(43.46745, abs=1e-4)
    again = (
        await post_report(
            client, world, {"category_code": "07001", **CENTRE}, [("it.jpg", ITALY_JPEG.read_bytes())]
        )
    ).json()
    assert "reused_photo" in again["photos"][0]["flags"]


async def test_served_photos_carry_no_exif_and_cache_forever(client, world, app) -> None:  # type: ignore[no-untyped-def]
    data = (PHOTOS / "ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg").read_bytes()
    case = (
        await post_report(client, world, {"category_code": "06010", **CENTRE}, [("iphone.jpg", data)])
    ).json()
    photo = case["photos"][0]
    for url, user in (
        (photo["url"], "worker2"),
        (photo["thumbnail_url"], "worker2"),
        (photo["url"] + "?variant=original", "dispatcher"),
    ):
        r = await client.get(url, headers=world.headers(user))
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", url
        assert "immutable" in r.headers["cache-control"] and r.headers["etag"]
        image = Image.open(io.BytesIO(r.content))
        assert not image.getexif() and b"Exif\x00\x00" not in r.content and "GPS" not in str(image.info)
        again = await client.get(url, headers={**world.headers(user), "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and not again.content
    original = await client.get(photo["url"] + "?variant=original", headers=world.headers("dispatcher"))
    assert Image.open(io.BytesIO(original.content)).size == (3264, 2448)
    assert (
        await client.get(photo["url"] + "?variant=original", headers=world.headers("worker2"))
    ).status_code == 403
    display = await client.get(photo["url"], headers=world.headers("worker2"))
    assert max(Image.open(io.BytesIO(display.content)).size) == 1600
    # a crash lost the display copy: it is made again on request
    workshop = app.state.workshop
    await workshop.drain()
    workshop.storage.delete(f"display/{photo['sha256'][:2]}/{photo['sha256']}")
    again = await client.get(photo["url"], headers=world.headers("worker2"))
    assert again.status_code == 200 and again.content == display.content


async def test_evidence_photos_by_stage_and_role(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await post_report(client, world, {"category_code": "09009", **CENTRE})).json()  # unit: 交警
    photo = NO_GPS_JPEG.read_bytes()

    async def add(user: str, stage: str):  # type: ignore[no-untyped-def]
        return await add_photos(client, world, case["id"], user, stage, [("p.jpg", photo)])

    r = await add("jiaojing", "resolution")
    assert r.status_code == 201 and [p["stage"] for p in r.json()["photos"]] == ["resolution"]
    assert (await add("worker2", "check")).status_code == 201
    r = await add("worker2", "resolution")
    assert (r.status_code, r.json()["code"]) == (403, "stage_not_allowed")
    assert (
        await add("minzheng", "resolution")
    ).status_code == 404  # not their case: it does not exist for them
    r = await add("worker2", "before")
    assert r.status_code == 422


async def test_trailers_and_comments_do_not_survive_stripping(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: stripped originals kept what followed the image (a second
    # image, a motion photo), and comments reached the derivatives.
    secret = jpeg_at(35.1234, 106.9876)  # a second image with GPS hidden after the first one's end
    commented = encode(
        Image.new("RGB", (200, 150), (10, 20, 30)), "JPEG", comment=b"SECRET GPS 35.5428,106.6652"
    )
    photo = commented + secret + b"ftypmp42 motion photo +35.5428+106.6652/"
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "SECRET PNG 35.5428")
    png = encode(Image.new("RGB", (200, 150)), "PNG", pnginfo=info)
    case = (await post_report(client, world, REPORT, [("a.jpg", photo), ("b.png", png)])).json()
    for p in case["photos"]:
        for url, user in (
            (p["url"], "worker2"),
            (p["thumbnail_url"], "worker2"),
            (p["url"] + "?variant=original", "dispatcher"),
        ):
            data = (await client.get(url, headers=world.headers(user))).content
            assert b"SECRET" not in data and b"Exif" not in data and b"motion" not in data, url
            assert data.endswith(b"\xff\xd9"), url


async def test_originals_of_turned_photos_still_come_out_upright(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: stripping an original must keep its orientation, and only it.
    data = NO_GPS_JPEG.read_bytes()  # landscape_6.jpg: stored turned, EXIF orientation 6
    case = (await post_report(client, world, REPORT, [("l6.jpg", data)])).json()
    raw = (
        await client.get(case["photos"][0]["url"] + "?variant=original", headers=world.headers("dispatcher"))
    ).content
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(raw)))
    assert image.width > image.height
    assert set(Image.open(io.BytesIO(raw)).getexif()) == {0x0112}  # nothing but the orientation


async def test_a_truncated_heic_is_corrupt(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: half a HEIC file was accepted.
    data = XIAOMI_HEIC.read_bytes()
    r = await post_report(client, world, REPORT, [("half.heic", data[: len(data) // 2])])
    assert (r.status_code, r.json()["code"]) == (422, "corrupt_image")


async def test_conditional_and_head_requests_on_photos(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack on photo reports: weak ETags, * and lists in If-None-Match, and HEAD, were not
    # answered as HTTP says.
    case = (await post_report(client, world, REPORT, [("a.jpg", NO_GPS_JPEG.read_bytes())])).json()
    url = case["photos"][0]["thumbnail_url"]
    etag = (await client.get(url, headers=world.headers("worker2"))).headers["etag"]
    for tag in (f"W/{etag}", "*", f'"other", {etag}'):
        r = await client.get(url, headers={**world.headers("worker2"), "If-None-Match": tag})
        assert r.status_code == 304, tag
    r = await client.head(url, headers=world.headers("worker2"))
    assert r.status_code == 200 and r.headers["etag"] == etag
