"""Hostile photos and file names (the corpus's contract: tests/support/corpus.py): decompression bombs
(huge declared dimensions, zlib bombs in PNG chunks), work and memory bombs within the pixel limit (issue
15: a progressive JPEG with a scan repeated 1,000 times, a 60 MP transparent PNG of 0.23 MB, JPEG marker
and PNG chunk floods), metadata hidden between a JPEG's scans (accepted, but never served), truncated and
corrupt JPEG/PNG/XIAOMI_HEIC/WebP, polyglots
(JPEG/PNG/XIAOMI_HEIC/WebP magic + HTML/ZIP/PHP, GIF/JS, SVG, PDF, ZIP named .jpg), as report photos and Open311
media (a sample also as evidence and action photos); file names with CR/LF header injection, quotes, path
traversal, NUL, bad UTF-8, RFC 5987 tricks."""

import functools
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.support import hostile
from tests.support.corpus import (
    EVIDENCE,
    HTML,
    O311,
    REPORT,
    REPORTS,
    VALIDATION,
    key_caller,
    multipart,
    open311_parts,
    part,
    resolve,
)
from tests.support.photos import NO_GPS_JPEG, XIAOMI_HEIC, encode
from tests.support.reports import CENTRE, post_report
from tests.support.store import stored_files


def encoded(fmt: str, size: tuple[int, int] = (96, 64)) -> bytes:
    return encode(
        Image.effect_mandelbrot(size, (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB"), fmt
    )  # deterministic


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 16, height: int = 16, before_idat: bytes = b"") -> bytes:
    """A PNG declaring ``width`` x ``height`` over a tiny IDAT: a decompression bomb's header."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + ihdr
        + before_idat
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def declaring(fmt: str, width: int, height: int) -> bytes:
    """A JPEG whose SOF, or a WebP whose VP8X header, declares ``width`` x ``height``."""
    if fmt == "WEBP":
        vp8x = b"\0\0\0\0" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        return b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", len(vp8x)) + vp8x
    data = encoded("JPEG")
    sof = data.find(b"\xff\xc0") + 5
    return data[:sof] + struct.pack(">HH", height, width) + data[sof + 4 :]


def flipped(data: bytes, start: int, length: int = 1) -> bytes:
    return data[:start] + bytes(b ^ 0x5A for b in data[start : start + length]) + data[start + length :]


def heic_ftyp() -> bytes:
    data = XIAOMI_HEIC.read_bytes()
    return data[: int.from_bytes(data[:4], "big")]


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("index.html", HTML)
    return out.getvalue()


CORRUPT, UNSUPPORTED, IMAGE_TOO_LARGE, TOO_COMPLEX = (
    (422, "corrupt_image"),
    (415, "unsupported_image_format"),
    (413, "image_too_large"),
    (422, "image_too_complex"),
)
ZEROS_20MB = zlib.compress(b"\0" * 20_000_000, 9)  # a zlib bomb for a PNG text or ICC profile chunk
PHOTO_TABLE = [  # id, the bytes, the refusal, marks
    ("bomb-png-10Gpx", lambda: png(100_000, 100_000), IMAGE_TOO_LARGE, ()),
    ("bomb-png-64Mpx-below-pillow-limit", lambda: png(8_000, 8_000), IMAGE_TOO_LARGE, ()),
    ("bomb-jpeg-sof-65500", lambda: declaring("JPEG", 65_500, 65_500), IMAGE_TOO_LARGE, ()),
    ("bomb-webp-vp8x-30000", lambda: declaring("WEBP", 30_000, 30_000), IMAGE_TOO_LARGE, ()),
    # issue 15: within the pixel limit, but 16 s of CPU to decode (1,010 scans) or 540 MB of memory
    ("bomb-jpeg-49mp-1000-scans", hostile.scan_bomb, TOO_COMPLEX, ()),
    ("bomb-png-60mp-rgba-240mb", hostile.transparent_png, IMAGE_TOO_LARGE, ()),
    ("flood-jpeg-100k-segments", hostile.jpeg_marker_flood, TOO_COMPLEX, ()),
    ("flood-png-50k-chunks", hostile.png_chunk_flood, TOO_COMPLEX, ()),
    ("bomb-png-ztxt", lambda: png(before_idat=chunk(b"zTXt", b"c\0\0" + ZEROS_20MB)), CORRUPT, ()),
    ("bomb-png-iccp", lambda: png(before_idat=chunk(b"iCCP", b"c\0\0" + ZEROS_20MB)), CORRUPT, ()),
    ("png-truncated", lambda: encoded("PNG")[:-30], CORRUPT, ()),
    ("png-ihdr-crc", lambda: flipped(encoded("PNG"), 30), CORRUPT, ()),
    ("png-idat-crc", lambda: flipped(d := encoded("PNG"), d.find(b"IDAT") + 40), CORRUPT, ()),
    ("jpeg-no-scan", lambda: (d := encoded("JPEG"))[: d.find(b"\xff\xda") + 14], CORRUPT, ()),
    ("jpeg-no-eoi", lambda: encoded("JPEG")[:-2], CORRUPT, ()),
    ("heic-ftyp-only", heic_ftyp, CORRUPT, ()),
    (
        "heic-box-past-eof",
        lambda: heic_ftyp() + struct.pack(">I4sQ", 1, b"mdat", 2**40) + b"\0" * 64,
        CORRUPT,
        (),
    ),
    ("webp-truncated", lambda: encoded("WEBP")[:40], CORRUPT, ()),
    ("polyglot-jpeg-html", lambda: b"\xff\xd8\xff\xe0" + HTML, CORRUPT, ()),
    ("polyglot-jpeg-zip", lambda: b"\xff\xd8\xff" + a_zip(), CORRUPT, ()),
    ("polyglot-png-php", lambda: b"\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>", CORRUPT, ()),
    ("polyglot-heic-html", lambda: heic_ftyp() + HTML, CORRUPT, ()),
    ("polyglot-webp-html", lambda: b"RIFF\x40\0\0\0WEBP" + HTML, CORRUPT, ()),
    (
        "polyglot-gif-js",
        lambda: b"GIF89a/*\x01\0\x01\0\0\xff\0,\0\0\0\0\x01\0\x01\0\0\x02\0;*/=alert(1);//",
        UNSUPPORTED,
        (),
    ),
    (
        "svg-script-as-jpg",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        UNSUPPORTED,
        (),
    ),
    ("html-as-jpg", lambda: HTML, UNSUPPORTED, ()),
    (
        "pdf-as-jpg",
        lambda: b"%PDF-1.4\n1 0 obj<</JS(app.alert(1))>>endobj\ntrailer<<>>\n%%EOF",
        UNSUPPORTED,
        (),
    ),
    ("zip-as-jpg", a_zip, UNSUPPORTED, ()),
]
PHOTO_CASES = [
    pytest.param(functools.cache(make), *expected, id=name, marks=marks)
    for name, make, expected, marks in PHOTO_TABLE
]
SAMPLE = [
    p
    for p in PHOTO_CASES
    if p.id
    in ("bomb-png-10Gpx", "bomb-jpeg-49mp-1000-scans", "png-truncated", "polyglot-jpeg-html", "html-as-jpg")
]


# ---- photos --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "status", "code"), PHOTO_CASES)
async def test_hostile_photos(attack, client, world, make, status, code) -> None:  # type: ignore[no-untyped-def]
    await attack(
        "POST",
        REPORTS,
        "worker2",
        status,
        code,
        **multipart(part(b"report", REPORT), part(b"photos", make(), b'; filename="p.jpg"')),
    )
    await attack(
        "POST",
        O311,
        await key_caller(client, world),
        status,
        code,
        **open311_parts(part(b"media", make(), b'; filename="m.jpg"')),
    )


@pytest.mark.parametrize("intake", ["native", "open311"])
async def test_metadata_hidden_between_scans_is_not_served(app, client, world, intake) -> None:  # type: ignore[no-untyped-def]
    """Accepted (it is a photo), but no copy of it carries what was hidden between its scans: not the
    display copy, not the thumbnail, not the "metadata removed" original staff download."""
    data = hostile.exif_between_scans()
    if intake == "native":
        form = multipart(part(b"report", REPORT), part(b"photos", data, b'; filename="p.jpg"'))
        r = await client.post(REPORTS, headers={**world.headers("worker2"), **form.pop("headers")}, **form)
        assert r.status_code == 201, r.text
        photo = r.json()["photos"][0]
    else:
        _, key = await key_caller(client, world)
        form = open311_parts(part(b"media", data, b'; filename="m.jpg"'))
        r = await client.post(O311 + "?api_key=" + key, headers=form.pop("headers"), **form)
        assert r.status_code == 200, r.text
        case_id = int(r.json()[0]["service_request_id"])
        case = await client.get(f"/api/v1/reports/{case_id}", headers=world.headers("admin"))
        photo = case.json()["photos"][0]
    await app.state.workshop.drain()
    for url in (photo["url"] + "?variant=original", photo["url"], photo["thumbnail_url"]):
        served = await client.get(url, headers=world.headers("admin"))
        assert served.status_code == 200 and served.content.startswith(b"\xff\xd8"), url
        assert hostile.SECRET not in served.content and b"Exif" not in served.content, url
        assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(0x8825), url


@pytest.mark.parametrize(
    "make",
    [
        lambda: (
            (d := encoded("JPEG", (640, 480)))[:4000] + b"\x12" * 600 + d[4600:]
        ),  # garbage inside the scan
        lambda: flipped(d := XIAOMI_HEIC.read_bytes(), len(d) // 2, 2000),  # garbage inside the HEVC data
    ],
    ids=["jpeg-scan-garbage", "heic-mdat-garbage"],
)
async def test_damage_the_decoder_conceals_is_kept_as_a_viewer_would_show_it(client, world, make) -> None:  # type: ignore[no-untyped-def]
    """A complete file with garbage inside its compressed data decodes (with grey or smeared blocks),
    as it does in the phone's gallery: it is evidence, not an attack, so it is kept with a thumbnail."""
    r = await post_report(client, world, {"category_code": "06010", **CENTRE}, [("damaged.jpg", make())])
    assert r.status_code == 201, r.text
    thumb = await client.get(r.json()["photos"][0]["thumbnail_url"], headers=world.headers("worker2"))
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8")


@pytest.mark.parametrize(("make", "status", "code"), SAMPLE)
async def test_hostile_evidence_and_action_photos(attack, client, world, make, status, code) -> None:  # type: ignore[no-untyped-def]
    evidence, _ = await resolve(client, world, EVIDENCE, None)
    photo = part(b"photos", make(), b'; filename="e.jpg"')
    await attack("POST", evidence, "worker2", status, code, **multipart(part(b"stage", b"check"), photo))
    await attack(
        "POST",
        evidence.replace("/photos", "/actions"),
        "dispatcher",
        status,
        code,
        **multipart(part(b"action", b'{"action": "comment", "note": "see photo"}'), photo),
    )


# ---- file names ----------------------------------------------------------------------------------
FILENAMES = {
    "traversal": b'; filename="../../etc/passwd"',
    "traversal-windows": b'; filename="..\\..\\windows\\win.ini"',
    "absolute": b'; filename="/var/www/html/shell.php"',
    "percent-traversal": b'; filename="..%2F..%2Fetc%2Fpasswd"',
    "crlf-header": b'; filename="a.jpg\r\nContent-Type: image/jpeg"',
    "lf": b'; filename="a\nb.php"',
    "quote-escaped": b'; filename="a\\".php"',
    "quote-unterminated": b'; filename="a.php',
    "nul": b'; filename="shell.php\x00.jpg"',
    "bad-utf8": b'; filename="\xff\xfe\xc0\xaf.php"',
    "overlong-slash": b'; filename="..\xc0\xaf..\xc0\xafetc\xc0\xafpasswd"',
    "rfc5987-traversal": b"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
    "rfc5987-crlf": b"; filename*=UTF-8''a%00%0D%0A.php",
    "rfc5987-bad-utf8": b"; filename*=UTF-8''%FF%FE.php",
    "rfc5987-bad-charset": b"; filename*=x-nope''%41.php",
}


@pytest.mark.parametrize(
    ("disposition", "status", "code"),
    [
        *[pytest.param(d, *UNSUPPORTED, id=n) for n, d in FILENAMES.items()],
        pytest.param(b'; filename="a\rb.jpg"', 400, "malformed_multipart", id="bare-cr"),
        pytest.param(b'; filename="' + b"A" * 100_000 + b'.jpg"', 400, "malformed_multipart", id="100k-name"),
        pytest.param(b'; filename="x.jpg"; name="report"', *VALIDATION, id="quote-renames-the-part"),
    ],
)
async def test_hostile_file_names_on_a_web_shell(attack, disposition, status, code) -> None:  # type: ignore[no-untyped-def]
    await attack(
        "POST",
        REPORTS,
        "worker2",
        status,
        code,
        **multipart(part(b"report", REPORT), part(b"photos", HTML, disposition)),
    )


async def test_hostile_file_names_on_good_photos_stay_harmless(app, client, world, settings) -> None:  # type: ignore[no-untyped-def]
    """Not a refusal: a real photo keeps its name as metadata only, without control characters, and
    the store holds nothing but content-addressed files."""
    names = [
        "traversal",
        "absolute",
        "crlf-header",
        "lf",
        "nul",
        "bad-utf8",
        "rfc5987-traversal",
        "rfc5987-crlf",
    ]
    form = multipart(
        part(b"report", REPORT), *[part(b"photos", NO_GPS_JPEG.read_bytes(), FILENAMES[n]) for n in names]
    )
    r = await client.post(REPORTS, headers={**world.headers("worker2"), **form.pop("headers")}, **form)
    assert r.status_code == 201, r.text
    await app.state.workshop.drain()
    kept = [p["filename"] for p in r.json()["photos"]]
    assert len(kept) == len(names) and not [
        n for n in kept if re.search(r"[\x00-\x1f\x7f]", n) or len(n) > 255
    ]
    storage = Path(settings.storage.storage_dir)
    stored = stored_files(storage)
    assert stored and all(
        re.fullmatch(r"(originals|thumbnails|display)/[0-9a-f]{2}/[0-9a-f]{64}", s) for s in stored
    )
    assert [p.name for p in storage.parent.iterdir()] == ["storage"]  # nothing written beside the store
