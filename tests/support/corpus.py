"""The hostile-input corpus's contract and tools (tests/api/test_hostile_*.py).

Every hostile request is refused with a 4xx (never a 500), in the route's error format with a stable code
(RFC 9457 problem+json; under /open311 the spec's ``[{code, description}]``), and leaves nothing behind: no
new row in cases, photos, case_events or grid_cells, no file in the photo store. The ``attack`` fixture
(tests/conftest.py) sends a request and checks all of that with ``assert_refused`` and ``footprint``.

The corpus, one table per kind:
- test_hostile_photos: decompression bombs (huge declared dimensions, zlib bombs in PNG chunks), truncated
  and corrupt JPEG/PNG/HEIC/WebP, polyglots (JPEG/PNG/HEIC/WebP magic + HTML/ZIP/PHP, GIF/JS, SVG, PDF,
  ZIP named .jpg), as report photos and Open311 media (a sample also as evidence and action photos); file
  names: CR/LF header injection, quotes, path traversal, NUL, bad UTF-8, RFC 5987 tricks;
- test_hostile_bodies: huge JSON strings, 10k levels of nesting, bad UTF-8 in JSON bodies and form fields,
  thousands of multipart parts and form fields; NaN, Infinity, -Infinity, 1e999, -1e999 in lat/lon, other
  numeric fields and queries;
- test_hostile_geojson: imports that are self-intersecting, unclosed, wrongly nested, missing, out of
  range, non-finite;
- test_hostile_paths: traversal, NUL, signs, zero, huge, exponent, whitespace, unicode digits and long
  strings in every path parameter of every route.
More beside the features: test_hostile_text, test_report_uploads, test_report_photos, test_open311,
test_report_filing, test_grid_import.
"""

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support import reports
from tests.support.http import PROBLEM
from tests.support.keys import new_api_key
from tests.support.reports import CENTRE, file_report
from tests.support.store import stored_files

REPORTS, ACTIONS, EVIDENCE = (
    "/api/v1/reports",
    "/api/v1/reports/{case}/actions",
    "/api/v1/reports/{case}/photos",
)
O311, LOGIN = "/open311/v2/requests.json", "/api/v1/auth/token"
REPORT = json.dumps(reports.REPORT).encode()
O311_FIELDS = {"service_code": "09009", "lat": str(CENTRE["lat"]), "long": str(CENTRE["lon"])}
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
TABLES = ("cases", "photos", "case_events", "grid_cells")
MANY = 5000
NESTED = b'{"a": ' * 10_000 + b"1" + b"}" * 10_000  # 10k levels
POLYGON_WITH_Y = (
    b'{"type": "Polygon", "coordinates": [[[1, 1], [2, %s], [2, 2], [1, 1]]]}'  # one y to fill in
)
VALIDATION, TOO_LARGE = (422, "validation_error"), (413, "payload_too_large")
O311_400, TOO_MANY = (400, None), (413, "too_many_parts")


def bug(reason: str) -> pytest.MarkDecorator:
    """Marks a corpus case that shows a known bug: it must fail until the bug is fixed."""
    return pytest.mark.xfail(strict=True, reason="BUG: " + reason)


# ---- bodies ----------------------------------------------------------------------------------------
def part(name: bytes, data: bytes, disposition: bytes = b"") -> tuple[bytes, bytes]:
    """A multipart part (head, data) named ``name``; ``disposition`` is appended to its header as is."""
    return b'Content-Disposition: form-data; name="' + name + b'"' + disposition, data


def multipart(*parts: tuple[bytes, bytes], boundary: bytes = b"corpus") -> dict:
    """A raw multipart body (httpx would escape the hostile bytes these cases need)."""
    body = b"".join(b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
    return {
        "content": body + b"--" + boundary + b"--\r\n",
        "headers": {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()},
    }


def raw_json(body: bytes) -> dict:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


def report_with(field: bytes) -> bytes:
    return REPORT[:-1] + b", " + field + b"}"


def open311_parts(*extra: tuple[bytes, bytes]) -> dict:
    return multipart(*[part(k.encode(), v.encode()) for k, v in O311_FIELDS.items()], *extra)


# ---- the attack and what it leaves behind ------------------------------------------------------
async def footprint(session, storage: Path) -> tuple:  # type: ignore[no-untyped-def]
    """Row counts of TABLES and the files in the photo store, to compare before and after a request."""
    counts = [(await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES]
    return dict(zip(TABLES, counts, strict=True)), stored_files(storage)


def assert_refused(r, status: int, code: str | None) -> None:  # type: ignore[no-untyped-def]
    """``r`` is a 4xx in its route's error format: problem+json with ``status`` and ``code``, or under
    /open311 the spec's error list (where a 422 is its 400)."""
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


async def key_caller(client, world) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A new API key as an ``attack`` caller: ``("api_key", key)``."""
    return "api_key", (await new_api_key(client, world.headers("admin"), "hostile corpus"))["key"]


async def resolve(client, world, url: str, caller):  # type: ignore[no-untyped-def]
    """``url`` with ``{case}`` filled by a new case of worker2's (traffic police); ``"key"``: a new API key."""
    if "{case}" in url:
        url = url.replace("{case}", str((await file_report(client, world))["id"]))
    return url, (await key_caller(client, world) if caller == "key" else caller)
