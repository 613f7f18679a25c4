"""The hostile-input corpus: every case is refused with a 4xx (never a 500), in the route's error format
with a stable code (RFC 9457 problem+json; under /open311 the spec's ``[{code, description}]``), and
leaves nothing behind: no new row in cases, photos, case_events or grid_cells, no file in the photo store.

Categories, one table each:
- photos: decompression bombs (huge declared dimensions, zlib bombs in PNG chunks), truncated and
  corrupt JPEG/PNG/HEIC/WebP, polyglots (JPEG/PNG/HEIC/WebP magic + HTML/ZIP/PHP, GIF/JS, SVG, PDF,
  ZIP named .jpg), as report photos and Open311 media (a sample also as evidence and action photos);
- file names: CR/LF header injection, quotes, path traversal, NUL, bad UTF-8, RFC 5987 tricks;
- bodies: huge JSON strings, 10k levels of nesting, bad UTF-8 in JSON bodies and form fields,
  thousands of multipart parts and form fields;
- numbers: NaN, Infinity, -Infinity, 1e999, -1e999 in lat/lon, other numeric fields and queries;
- GeoJSON imports: self-intersecting, unclosed, wrongly nested, missing, out-of-range, non-finite;
- path parameters: traversal, NUL, signs, zero, huge, exponent, whitespace, unicode digits and long
  strings in every path parameter of every route.
More beside the features: test_hostile_text, test_photo_findings, test_open311, test_reports, test_grids.
"""

import functools
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from tests.conftest import PHOTOS
from tests.support.reports import CENTRE, NO_GPS_JPEG, report_files
from tests.support.routes import api_routes

PROBLEM = "application/problem+json"
REPORTS, ACTIONS, EVIDENCE = "/api/v1/reports", "/api/v1/reports/{case}/actions", "/api/v1/reports/{case}/photos"
O311, LOGIN = "/open311/v2/requests.json", "/api/v1/auth/token"
REPORT = json.dumps({"category_code": "06010", **CENTRE}).encode()
O311_FIELDS = {"service_code": "09009", "lat": str(CENTRE["lat"]), "long": str(CENTRE["lon"])}
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
HEIC = PHOTOS / "bigcat88_pillow_heif/tests/images/heif_special/xiaomi.heic"
TABLES = ("cases", "photos", "case_events", "grid_cells")
MANY = 5000
NESTED = b'{"a": ' * 10_000 + b"1" + b"}" * 10_000  # 10k levels
POLYGON_WITH_Y = b'{"type": "Polygon", "coordinates": [[[1, 1], [2, %s], [2, 2], [1, 1]]]}'  # one y to fill in
VALIDATION, TOO_LARGE = (422, "validation_error"), (413, "payload_too_large")


def bug(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason="BUG: " + reason)


# ---- bodies and images ---------------------------------------------------------------------------
def part(name: bytes, data: bytes, disposition: bytes = b"") -> tuple[bytes, bytes]:
    return b'Content-Disposition: form-data; name="' + name + b'"' + disposition, data


def multipart(*parts: tuple[bytes, bytes], boundary: bytes = b"corpus") -> dict:
    """A raw multipart body (httpx would escape the hostile bytes these cases need)."""
    body = b"".join(b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
    return {"content": body + b"--" + boundary + b"--\r\n",
            "headers": {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}}


def raw_json(body: bytes) -> dict:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


def report_with(field: bytes) -> bytes:
    return REPORT[:-1] + b", " + field + b"}"


def open311_parts(*extra: tuple[bytes, bytes]) -> dict:
    return multipart(*[part(k.encode(), v.encode()) for k, v in O311_FIELDS.items()], *extra)


def encoded(fmt: str, size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.effect_mandelbrot(size, (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB").save(out, fmt)  # deterministic
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 16, height: int = 16, before_idat: bytes = b"") -> bytes:
    """A PNG declaring ``width`` x ``height`` over a tiny IDAT: a decompression bomb's header."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + before_idat + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def declaring(fmt: str, width: int, height: int) -> bytes:
    """A JPEG whose SOF, or a WebP whose VP8X header, declares ``width`` x ``height``."""
    if fmt == "WEBP":
        vp8x = b"\0\0\0\0" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        return b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", len(vp8x)) + vp8x
    data = encoded("JPEG")
    sof = data.find(b"\xff\xc0") + 5
    return data[:sof] + struct.pack(">HH", height, width) + data[sof + 4:]


def flipped(data: bytes, start: int, length: int = 1) -> bytes:
    return data[:start] + bytes(b ^ 0x5A for b in data[start:start + length]) + data[start + length:]


def heic_ftyp() -> bytes:
    data = HEIC.read_bytes()
    return data[:int.from_bytes(data[:4], "big")]


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("index.html", HTML)
    return out.getvalue()


CORRUPT, UNSUPPORTED, IMAGE_TOO_LARGE = (422, "corrupt_image"), (415, "unsupported_image_format"), (413, "image_too_large")
ZEROS_20MB = zlib.compress(b"\0" * 20_000_000, 9)  # a zlib bomb for a PNG text or ICC profile chunk
PHOTO_TABLE = [  # id, the bytes, the refusal, marks
    ("bomb-png-10Gpx", lambda: png(100_000, 100_000), IMAGE_TOO_LARGE, ()),
    ("bomb-png-64Mpx-below-pillow-limit", lambda: png(8_000, 8_000), IMAGE_TOO_LARGE, ()),
    ("bomb-jpeg-sof-65500", lambda: declaring("JPEG", 65_500, 65_500), IMAGE_TOO_LARGE, ()),
    ("bomb-webp-vp8x-30000", lambda: declaring("WEBP", 30_000, 30_000), IMAGE_TOO_LARGE, ()),
    ("bomb-png-ztxt", lambda: png(before_idat=chunk(b"zTXt", b"c\0\0" + ZEROS_20MB)), CORRUPT, ()),
    ("bomb-png-iccp", lambda: png(before_idat=chunk(b"iCCP", b"c\0\0" + ZEROS_20MB)), CORRUPT, ()),
    ("png-truncated", lambda: encoded("PNG")[:-30], CORRUPT, ()),
    ("png-ihdr-crc", lambda: flipped(encoded("PNG"), 30), CORRUPT, ()),
    ("png-idat-crc", lambda: flipped(d := encoded("PNG"), d.find(b"IDAT") + 40), CORRUPT, ()),
    ("jpeg-no-scan", lambda: (d := encoded("JPEG"))[:d.find(b"\xff\xda") + 14], CORRUPT, ()),
    ("jpeg-no-eoi", lambda: encoded("JPEG")[:-2], CORRUPT, ()),
    ("heic-ftyp-only", heic_ftyp, CORRUPT, ()),
    ("heic-box-past-eof", lambda: heic_ftyp() + struct.pack(">I4sQ", 1, b"mdat", 2**40) + b"\0" * 64, CORRUPT, ()),
    ("webp-truncated", lambda: encoded("WEBP")[:40], CORRUPT, ()),
    ("polyglot-jpeg-html", lambda: b"\xff\xd8\xff\xe0" + HTML, CORRUPT, ()),
    ("polyglot-jpeg-zip", lambda: b"\xff\xd8\xff" + a_zip(), CORRUPT, ()),
    ("polyglot-png-php", lambda: b"\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>", CORRUPT, ()),
    ("polyglot-heic-html", lambda: heic_ftyp() + HTML, CORRUPT, ()),
    ("polyglot-webp-html", lambda: b"RIFF\x40\0\0\0WEBP" + HTML, CORRUPT, ()),
    ("polyglot-gif-js", lambda: b"GIF89a/*\x01\0\x01\0\0\xff\0,\0\0\0\0\x01\0\x01\0\0\x02\0;*/=alert(1);//", UNSUPPORTED, ()),
    ("svg-script-as-jpg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', UNSUPPORTED, ()),
    ("html-as-jpg", lambda: HTML, UNSUPPORTED, ()),
    ("pdf-as-jpg", lambda: b"%PDF-1.4\n1 0 obj<</JS(app.alert(1))>>endobj\ntrailer<<>>\n%%EOF", UNSUPPORTED, ()),
    ("zip-as-jpg", a_zip, UNSUPPORTED, ()),
]
PHOTO_CASES = [pytest.param(functools.cache(make), *expected, id=name, marks=marks) for name, make, expected, marks in PHOTO_TABLE]
SAMPLE = [p for p in PHOTO_CASES if p.id in ("bomb-png-10Gpx", "png-truncated", "polyglot-jpeg-html", "html-as-jpg")]


# ---- the attack and what it leaves behind ------------------------------------------------------
async def footprint(session, storage: Path) -> tuple:  # type: ignore[no-untyped-def]
    counts = [(await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES]
    files = sorted(str(p) for p in storage.rglob("*") if p.is_file()) if storage.exists() else []
    return dict(zip(TABLES, counts)), files


def assert_refused(r, status: int, code: str | None) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if r.request.url.path.startswith("/open311/"):  # the spec's error list; validation errors are its 400
        assert r.headers["content-type"].startswith("application/json"), r.headers
        body = r.json()
        assert (r.status_code, body[0]["code"]) == ((400 if status == 422 else status),) * 2, body
        assert isinstance(body[0]["description"], str) and body[0]["description"]
        return
    assert r.headers["content-type"] == PROBLEM, r.headers
    if r.request.method != "HEAD":
        body = r.json()
        assert (r.status_code, body["status"], body["code"]) == (status, status, code), body


@pytest.fixture
async def attack(app, client, world, session, settings):  # type: ignore[no-untyped-def]
    """``attack(method, url, caller, status, code, **request)`` sends it, checks the refusal and that
    nothing was left behind. ``caller``: a demo user, None (anonymous) or ``("api_key", key)``."""
    storage = Path(settings.storage.storage_dir)

    async def send(method: str, url: str, caller, status: int, code: str | None, **kw):  # type: ignore[no-untyped-def]
        before = await footprint(session, storage)
        headers = {**kw.pop("headers", {}), **(world.headers(caller) if isinstance(caller, str) else {})}
        if isinstance(caller, tuple):
            url += ("&" if "?" in url else "?") + "api_key=" + caller[1]
        r = await client.request(method, url, headers=headers, **kw)
        assert_refused(r, status, code)
        await app.state.workshop.drain()
        assert await footprint(session, storage) == before, "the refused request left something behind"
        return r
    return send


async def api_key(client, world) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/api-keys", headers=world.headers("admin"), json={"name": "hostile corpus"})
    return "api_key", r.json()["key"]


async def resolve(client, world, url: str, caller):  # type: ignore[no-untyped-def]
    """``url`` with ``{case}`` filled by a new case of worker2's (traffic police); ``"key"``: a new API key."""
    if "{case}" in url:
        case = await client.post(REPORTS, json={"category_code": "09009", **CENTRE}, headers=world.headers("worker2"))
        url = url.replace("{case}", str(case.json()["id"]))
    return url, (await api_key(client, world) if caller == "key" else caller)


# ---- photos --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "status", "code"), PHOTO_CASES)
async def test_hostile_photos(attack, client, world, make, status, code) -> None:  # type: ignore[no-untyped-def]
    await attack("POST", REPORTS, "worker2", status, code,
                 **multipart(part(b"report", REPORT), part(b"photos", make(), b'; filename="p.jpg"')))
    await attack("POST", O311, await api_key(client, world), status, code,
                 **open311_parts(part(b"media", make(), b'; filename="m.jpg"')))


@pytest.mark.parametrize("make", [
    lambda: (d := encoded("JPEG", (640, 480)))[:4000] + b"\x12" * 600 + d[4600:],  # garbage inside the scan
    lambda: flipped(d := HEIC.read_bytes(), len(d) // 2, 2000),  # garbage inside the HEVC data
], ids=["jpeg-scan-garbage", "heic-mdat-garbage"])
async def test_damage_the_decoder_conceals_is_kept_as_a_viewer_would_show_it(client, world, make) -> None:  # type: ignore[no-untyped-def]
    """A complete file with garbage inside its compressed data decodes (with grey or smeared blocks),
    as it does in the phone's gallery: it is evidence, not an attack, so it is kept with a thumbnail."""
    r = await client.post("/api/v1/reports", headers=world.headers("worker2"),
                          files=report_files({"category_code": "06010", **CENTRE}, [("damaged.jpg", make())]))
    assert r.status_code == 201, r.text
    thumb = await client.get(r.json()["photos"][0]["thumbnail_url"], headers=world.headers("worker2"))
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8")


@pytest.mark.parametrize(("make", "status", "code"), SAMPLE)
async def test_hostile_evidence_and_action_photos(attack, client, world, make, status, code) -> None:  # type: ignore[no-untyped-def]
    evidence, _ = await resolve(client, world, EVIDENCE, None)
    photo = part(b"photos", make(), b'; filename="e.jpg"')
    await attack("POST", evidence, "worker2", status, code, **multipart(part(b"stage", b"check"), photo))
    await attack("POST", evidence.replace("/photos", "/actions"), "dispatcher", status, code,
                 **multipart(part(b"action", b'{"action": "comment", "note": "see photo"}'), photo))


# ---- file names ----------------------------------------------------------------------------------
FILENAMES = {
    "traversal": b'; filename="../../etc/passwd"', "traversal-windows": b'; filename="..\\..\\windows\\win.ini"',
    "absolute": b'; filename="/var/www/html/shell.php"', "percent-traversal": b'; filename="..%2F..%2Fetc%2Fpasswd"',
    "crlf-header": b'; filename="a.jpg\r\nContent-Type: image/jpeg"', "lf": b'; filename="a\nb.php"',
    "quote-escaped": b'; filename="a\\".php"', "quote-unterminated": b'; filename="a.php',
    "nul": b'; filename="shell.php\x00.jpg"', "bad-utf8": b'; filename="\xff\xfe\xc0\xaf.php"',
    "overlong-slash": b'; filename="..\xc0\xaf..\xc0\xafetc\xc0\xafpasswd"',
    "rfc5987-traversal": b"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
    "rfc5987-crlf": b"; filename*=UTF-8''a%00%0D%0A.php", "rfc5987-bad-utf8": b"; filename*=UTF-8''%FF%FE.php",
    "rfc5987-bad-charset": b"; filename*=x-nope''%41.php",
}


@pytest.mark.parametrize(("disposition", "status", "code"), [
    *[pytest.param(d, *UNSUPPORTED, id=n) for n, d in FILENAMES.items()],
    pytest.param(b'; filename="a\rb.jpg"', 400, "malformed_multipart", id="bare-cr"),
    pytest.param(b'; filename="' + b"A" * 100_000 + b'.jpg"', 400, "malformed_multipart", id="100k-name"),
    pytest.param(b'; filename="x.jpg"; name="report"', *VALIDATION, id="quote-renames-the-part"),
])
async def test_hostile_file_names_on_a_web_shell(attack, disposition, status, code) -> None:  # type: ignore[no-untyped-def]
    await attack("POST", REPORTS, "worker2", status, code,
                 **multipart(part(b"report", REPORT), part(b"photos", HTML, disposition)))


async def test_hostile_file_names_on_good_photos_stay_harmless(app, client, world, settings) -> None:  # type: ignore[no-untyped-def]
    """Not a refusal: a real photo keeps its name as metadata only, without control characters, and
    the store holds nothing but content-addressed files."""
    names = ["traversal", "absolute", "crlf-header", "lf", "nul", "bad-utf8", "rfc5987-traversal", "rfc5987-crlf"]
    form = multipart(part(b"report", REPORT), *[part(b"photos", NO_GPS_JPEG.read_bytes(), FILENAMES[n]) for n in names])
    r = await client.post(REPORTS, headers={**world.headers("worker2"), **form.pop("headers")}, **form)
    assert r.status_code == 201, r.text
    await app.state.workshop.drain()
    kept = [p["filename"] for p in r.json()["photos"]]
    assert len(kept) == len(names) and not [n for n in kept if re.search(r"[\x00-\x1f\x7f]", n) or len(n) > 255]
    storage = Path(settings.storage.storage_dir)
    stored = [str(p.relative_to(storage)) for p in storage.rglob("*") if p.is_file()]
    assert stored and all(re.fullmatch(r"(originals|thumbnails|display)/[0-9a-f]{2}/[0-9a-f]{64}", s) for s in stored)
    assert [p.name for p in storage.parent.iterdir()] == ["storage"]  # nothing written beside the store


# ---- bodies: huge, deep, bad UTF-8, many parts ---------------------------------------------------
FLOOD = {"content": b"&".join(b"f%d=1" % i for i in range(MANY)), "headers": URLENCODED}
PHOTO_PARTS = [part(b"photos", b"x", b'; filename="a.jpg"')] * MANY
O311_400, TOO_MANY = (400, None), (413, "too_many_parts")


CALLERS = {REPORTS: "worker2", EVIDENCE: "worker2", ACTIONS: "dispatcher", O311: "key", LOGIN: None}  # else admin
UNITS, DEEP_ARRAY = "/api/v1/units", b"[" * 10_000 + b"]" * 10_000


def body(name, url, request, expected, marks=()):  # type: ignore[no-untyped-def]
    return pytest.param(url, request, *expected, id=name, marks=marks)


@pytest.mark.parametrize(("url", "request_", "status", "code"), [
    # huge strings
    body("report-description-5000", REPORTS, raw_json(report_with(b'"description": "%s"' % (b"x" * 5000))), VALIDATION),
    body("report-description-300k", REPORTS, raw_json(report_with(b'"description": "%s"' % (b"x" * 300_000))), TOO_LARGE),
    body("report-key-200k", REPORTS, raw_json(report_with(b'"%s": 1' % (b"k" * 200_000))), VALIDATION),
    body("report-part-300k", REPORTS, multipart(part(b"report", b'{"a": "%s"}' % (b"x" * 300_000))), TOO_LARGE),
    body("action-note-100k", ACTIONS, {"json": {"action": "comment", "note": "x" * 100_000}}, VALIDATION),
    body("unit-name-500k", UNITS, {"json": {"name": "x" * 500_000, "kind": "bureau"}}, VALIDATION),
    body("unit-name-2M", UNITS, {"json": {"name": "x" * 2_000_000, "kind": "bureau"}}, TOO_LARGE),
    body("open311-description-5000", O311, {"data": {**O311_FIELDS, "description": "x" * 5000}}, O311_400),
    body("open311-first-name-100k", O311, {"data": {**O311_FIELDS, "first_name": "x" * 100_000}}, O311_400),
    # 10k levels of nesting
    body("report-deep-array", REPORTS, raw_json(DEEP_ARRAY), VALIDATION),
    body("report-deep-field", REPORTS, raw_json(report_with(b'"description": ' + NESTED)), VALIDATION),
    body("report-part-deep", REPORTS, multipart(part(b"report", NESTED)), VALIDATION),
    body("action-deep", ACTIONS, raw_json(NESTED), VALIDATION),
    body("open311-deep-object", O311, raw_json(NESTED), O311_400),
    body("unit-deep", UNITS, raw_json(NESTED), VALIDATION),
    body("cell-deep-geometry", "/api/v1/grids", raw_json(b'{"code": "H1", "name": "n", "geometry": %s}' % NESTED), VALIDATION),
    body("calendar-deep", "/api/v1/calendar/2026", raw_json(NESTED), VALIDATION),
    # bad UTF-8 in JSON bodies and form fields
    body("report-bad-utf8", REPORTS, raw_json(report_with(b'"description": "\xff\xfe\xc0\xaf"')), VALIDATION),
    body("report-part-cesu8", REPORTS, multipart(part(b"report", report_with(b'"address": "\xed\xa0\x80"'))), VALIDATION),
    body("action-bad-utf8", ACTIONS, raw_json(b'{"action": "comment", "note": "\xc3\x28"}'), VALIDATION),
    body("stage-bad-utf8", EVIDENCE, multipart(part(b"stage", b"ch\xffeck"), PHOTO_PARTS[0]), VALIDATION),
    body("open311-json-bad-utf8", O311, raw_json(b'{"service_code": "09009", "description": "\xff"}'), O311_400),
    body("open311-part-bad-utf8", O311, open311_parts(part(b"description", b"\xff\xfe")), O311_400),
    body("open311-form-name-bad-utf8", O311, {"content": b"service_code=09009&first_%FF=x", "headers": URLENCODED},
         O311_400),
    body("login-form-bad-utf8", LOGIN, {"content": b"username=ad%FFmin&password=demo-admin-2026", "headers": URLENCODED},
         (401, "invalid_credentials")),
    body("login-part-bad-utf8", LOGIN, multipart(part(b"username", b"ad\xffmin"), part(b"password", b"demo-admin-2026")),
         (401, "invalid_credentials")),
    body("unit-bad-utf8", UNITS, raw_json(b'{"name": "\xff\xfe", "kind": "bureau"}'), VALIDATION),
    body("category-bad-utf8", "/api/v1/categories", raw_json(b'{"code": "90097", "name_zh": "\xc3\x28", "name_en": "y", '
         b'"time_limit": 1, "time_unit": "working_days"}'), VALIDATION),
    # thousands of parts and fields
    body("report-5000-report-parts", REPORTS, multipart(*[part(b"report", REPORT)] * MANY), TOO_MANY),
    body("report-5000-photos", REPORTS, multipart(part(b"report", REPORT), *PHOTO_PARTS), TOO_MANY),
    body("report-5000-unknown-parts", REPORTS, multipart(*[part(b"x", b"1")] * MANY), (422, "unknown_part")),
    body("evidence-5000-photos", EVIDENCE, multipart(*PHOTO_PARTS), TOO_MANY),
    body("action-5000-parts", ACTIONS, multipart(*[part(b"action", b"{}")] * MANY), TOO_MANY),
    body("open311-5000-parts", O311, multipart(*[part(b"attribute[a]", b"1")] * MANY), (413, None)),
    body("open311-5000-fields", O311, FLOOD, O311_400),
    body("login-5000-fields", LOGIN, FLOOD, (400, "bad_request")),
    body("login-5000-parts", LOGIN, multipart(*[part(b"f", b"1")] * MANY), (400, "bad_request")),
])
async def test_hostile_bodies(attack, client, world, url, request_, status, code) -> None:  # type: ignore[no-untyped-def]
    method = "PUT" if "/calendar/" in url else "POST"
    await attack(method, *(await resolve(client, world, url, CALLERS.get(url, "admin"))), status, code, **request_)


# ---- numbers that are not numbers ----------------------------------------------------------------
NOT_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"]
NUMERIC_TARGETS = {  # name -> (method, url, caller, the JSON body for a value, %s; None: the url takes it, {})
    "report-lat": ("POST", REPORTS, "worker2", b'{"category_code": "06010", "lat": %s, "lon": 106.6652}'),
    "report-part-lon": ("POST", REPORTS, "worker2", lambda v: multipart(
        part(b"report", b'{"category_code": "06010", "lat": 35.5, "lon": %s}' % v))),
    "action-hours": ("POST", ACTIONS, "jiaojing", b'{"action": "request_extension", "hours": %s}'),
    "action-unit-id": ("POST", ACTIONS, "dispatcher", b'{"action": "dispatch", "unit_id": %s}'),
    "assignment-unit-id": ("POST", "/api/v1/assignments", "admin", b'{"unit_id": %s, "grid_id": 1}'),
    "category-time-limit": ("POST", "/api/v1/categories", "admin",
                            b'{"code": "90097", "name_zh": "x", "name_en": "y", "time_limit": %s, "time_unit": "working_days"}'),
    "user-grid-ids": ("POST", "/api/v1/users", "admin",
                      b'{"username": "abcd", "password": "12345678aa", "role": "worker", "grid_ids": [%s]}'),
    "cell-coordinate": ("POST", "/api/v1/grids", "admin",
                        b'{"code": "H1", "name": "n", "geometry": ' + POLYGON_WITH_Y + b"}"),
    "locate-lat": ("GET", "/api/v1/grids/locate?lon=106.6&lat={}", "worker1", None),
    "preview-lon": ("GET", "/api/v1/routing/preview?lat=35.5&category=06010&lon={}", "admin", None),
    "list-bbox": ("GET", "/api/v1/reports?bbox={},35,107,36", "admin", None),
    "list-limit": ("GET", "/api/v1/reports?limit={}", "admin", None),
    "open311-form-long": ("POST", O311, "key", lambda v: {"data": {**O311_FIELDS, "long": v.decode()}}),
    "open311-json-lat": ("POST", O311, "key", b'{"service_code": "09009", "long": 106.6, "lat": %s}'),
    "open311-page": ("GET", "/open311/v2/requests.json?page={}", None, None),
}


@pytest.mark.parametrize("target", NUMERIC_TARGETS)
async def test_non_finite_numbers(attack, client, world, target) -> None:  # type: ignore[no-untyped-def]
    method, url, caller, make = NUMERIC_TARGETS[target]
    url, caller = await resolve(client, world, url, caller)
    for value in NOT_FINITE:
        request = raw_json(make % value) if isinstance(make, bytes) else make(value) if make else {}
        await attack(method, url.format(value.decode()), caller, *(O311_400 if "/open311/" in url else VALIDATION),
                     **request)


# ---- GeoJSON imports -----------------------------------------------------------------------------
SQUARE = [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]
RAW_POLYGON = b'[{"type": "Feature", "properties": {"code": "H1", "name": "n"}, "geometry": ' + POLYGON_WITH_Y + b"}]"


def feature(geometry: object, **props: object) -> dict:
    return {"type": "Feature", "properties": {"code": "H1", "name": "hostile", **props}, "geometry": geometry}


def polygon(coordinates: object, kind: str = "Polygon") -> list:
    return [feature({"type": kind, "coordinates": coordinates})]


@pytest.mark.parametrize(("doc", "query", "error"), [pytest.param(*case[1:], id=case[0]) for case in [
    ("bow-tie-no-repair", polygon([[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]), "?repair=false", "geometry_invalid"),
    ("spike-no-repair", polygon([[[0, 0], [2, 0], [2, 2], [1, 2], [1, 3], [1, 2], [0, 2], [0, 0]]]), "?repair=false",
     "geometry_invalid"),
    ("collinear-zero-area", polygon([[[1, 1], [2, 2], [3, 3], [1, 1]]]), "", "geometry_invalid"),
    ("hole-outside-shell", polygon(SQUARE + [[[5, 5], [6, 5], [6, 6], [5, 5]]]), "", "geometry_invalid"),
    ("ring-of-three", polygon([[[1, 1], [2, 1], [1, 1]]]), "", "geometry_invalid"),
    ("unclosed-ring", polygon([[[1, 1], [2, 1], [2, 2], [1, 2]]]), "", "geometry_malformed"),
    ("nesting-one-too-shallow", polygon(SQUARE[0]), "", "geometry_malformed"),
    ("nesting-one-too-deep", polygon([SQUARE]), "", "geometry_malformed"),
    ("multipolygon-nested-as-polygon", polygon(SQUARE, "MultiPolygon"), "", "geometry_malformed"),
    ("flat-numbers", polygon([1, 1, 2, 2]), "", "geometry_malformed"),
    ("strings", polygon([[["1", "1"], ["2", "1"], ["2", "2"], ["1", "1"]]]), "", "geometry_malformed"),
    ("mixed-dimensions", polygon([[[1, 1, 0], [2, 1], [2, 2, 5, 6], [1, 1]]]), "", "geometry_malformed"),
    ("no-rings", polygon([]), "", "geometry_empty"),
    ("missing-geometry", [{"type": "Feature", "properties": {"code": "H1", "name": "n"}}], "", "geometry_type"),
    ("null-geometry", [feature(None)], "", "geometry_type"),
    ("point", [feature({"type": "Point", "coordinates": [1, 1]})], "", "geometry_type"),
    ("collection", [feature({"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": SQUARE}]})],
     "", "geometry_type"),
    ("lon-181", polygon([[[179, 1], [181, 1], [181, 2], [179, 1]]]), "", "geometry_out_of_range"),
    ("lat-91", polygon([[[1, 89], [2, 89], [2, 91], [1, 89]]]), "", "geometry_out_of_range"),
    ("lon-1e308-gcj02", polygon([[[1, 1], [1e308, 1], [2, 2], [1, 1]]]), "?coord_system=gcj02", "geometry_out_of_range"),
    ("nan", RAW_POLYGON % b"NaN", "", "json_invalid"),
    ("minus-infinity", RAW_POLYGON % b"-Infinity", "", "json_invalid"),
    ("1e999", RAW_POLYGON % b"1e999", "", "geometry_malformed"),
    ("deep-properties", b'[{"type": "Feature", "properties": ' + NESTED + b', "geometry": null}]', "", "json_invalid"),
    ("1MB-name", [feature({"type": "Polygon", "coordinates": SQUARE}, name="x" * 1_000_000)], "", "name_invalid"),
    ("features-not-a-list", {"type": "FeatureCollection", "features": {"0": feature(None)}}, "", "geojson_shape"),
]])
async def test_hostile_geojson_imports(attack, doc, query, error) -> None:  # type: ignore[no-untyped-def]
    content = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    r = await attack("POST", "/api/v1/grids/import" + query, "admin", *VALIDATION, **raw_json(content))
    assert r.json()["errors"][0]["type"] == error, r.json()["errors"]


# ---- path parameters of every route --------------------------------------------------------------
FINE = {"fmt": "json", "year": "2026", "code": "09009", "service_code": "09009", "token": "NOPE"}  # the other params


@pytest.mark.parametrize("value", [
    "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%00", "1%00", "-1", "0", "-0", "99999999999999999999", "2147483648", "1e3",
    "0x10", "%D9%A1%D9%A2%D9%A3", "%EF%BC%91", "%FF", "1%0D%0ASet-Cookie:%20a=b", "true", "9" * 5000, "x" * 5000,
    "%201", "1%20", "+1", "1.0", "1_0", "01",
])
async def test_hostile_path_parameters_of_every_route(app, client, world, session, settings, value) -> None:  # type: ignore[no-untyped-def]
    storage = Path(settings.storage.storage_dir)
    before, tried, wrong = await footprint(session, storage), 0, []
    for method, path, route in api_routes(app):
        for name in route.param_convertors:
            url = path
            for param in route.param_convertors:
                url = url.replace("{" + param + "}", value if param == name else FINE.get(param, "1"))
            r = await client.request(method, url, headers=world.headers("admin"))
            tried += 1
            try:
                assert_refused(r, r.status_code, {404: "not_found", 422: "validation_error"}.get(r.status_code))
            except AssertionError as exc:
                wrong.append(f"{method} {url[:80]} -> {str(exc)[:200]}")
    assert tried >= 30 and not wrong, "\n".join(wrong)
    assert await footprint(session, storage) == before
