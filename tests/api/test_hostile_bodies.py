"""Hostile bodies (the corpus's contract: tests/support/corpus.py): huge JSON strings, 10k levels of
nesting, bad UTF-8 in JSON bodies and form fields, thousands of multipart parts and form fields; and numbers
that are not numbers (NaN, Infinity, -Infinity, 1e999, -1e999) in lat/lon, other numeric fields and
queries."""

import pytest

from tests.support.corpus import (
    ACTIONS,
    EVIDENCE,
    LOGIN,
    MANY,
    NESTED,
    O311,
    O311_400,
    O311_FIELDS,
    POLYGON_WITH_Y,
    REPORT,
    REPORTS,
    TOO_LARGE,
    TOO_MANY,
    URLENCODED,
    VALIDATION,
    multipart,
    open311_parts,
    part,
    raw_json,
    report_with,
    resolve,
)

# ---- bodies: huge, deep, bad UTF-8, many parts ---------------------------------------------------
FLOOD = {"content": b"&".join(b"f%d=1" % i for i in range(MANY)), "headers": URLENCODED}
PHOTO_PARTS = [part(b"photos", b"x", b'; filename="a.jpg"')] * MANY


CALLERS = {
    REPORTS: "worker2",
    EVIDENCE: "worker2",
    ACTIONS: "dispatcher",
    O311: "key",
    LOGIN: None,
}  # else admin
UNITS, DEEP_ARRAY = "/api/v1/units", b"[" * 10_000 + b"]" * 10_000


def body(name, url, request, expected, marks=()):  # type: ignore[no-untyped-def]
    return pytest.param(url, request, *expected, id=name, marks=marks)


@pytest.mark.parametrize(
    ("url", "request_", "status", "code"),
    [
        # huge strings
        body(
            "report-description-5000",
            REPORTS,
            raw_json(report_with(b'"description": "%s"' % (b"x" * 5000))),
            VALIDATION,
        ),
        body(
            "report-description-300k",
            REPORTS,
            raw_json(report_with(b'"description": "%s"' % (b"x" * 300_000))),
            TOO_LARGE,
        ),
        body("report-key-200k", REPORTS, raw_json(report_with(b'"%s": 1' % (b"k" * 200_000))), VALIDATION),
        body(
            "report-part-300k",
            REPORTS,
            multipart(part(b"report", b'{"a": "%s"}' % (b"x" * 300_000))),
            TOO_LARGE,
        ),
        body("action-note-100k", ACTIONS, {"json": {"action": "comment", "note": "x" * 100_000}}, VALIDATION),
        body("unit-name-500k", UNITS, {"json": {"name": "x" * 500_000, "kind": "bureau"}}, VALIDATION),
        body("unit-name-2M", UNITS, {"json": {"name": "x" * 2_000_000, "kind": "bureau"}}, TOO_LARGE),
        body(
            "open311-description-5000", O311, {"data": {**O311_FIELDS, "description": "x" * 5000}}, O311_400
        ),
        body(
            "open311-first-name-100k", O311, {"data": {**O311_FIELDS, "first_name": "x" * 100_000}}, O311_400
        ),
        # 10k levels of nesting
        body("report-deep-array", REPORTS, raw_json(DEEP_ARRAY), VALIDATION),
        body("report-deep-field", REPORTS, raw_json(report_with(b'"description": ' + NESTED)), VALIDATION),
        body("report-part-deep", REPORTS, multipart(part(b"report", NESTED)), VALIDATION),
        body("action-deep", ACTIONS, raw_json(NESTED), VALIDATION),
        body("open311-deep-object", O311, raw_json(NESTED), O311_400),
        body("unit-deep", UNITS, raw_json(NESTED), VALIDATION),
        body(
            "cell-deep-geometry",
            "/api/v1/grids",
            raw_json(b'{"code": "H1", "name": "n", "geometry": %s}' % NESTED),
            VALIDATION,
        ),
        body("calendar-deep", "/api/v1/calendar/2026", raw_json(NESTED), VALIDATION),
        # bad UTF-8 in JSON bodies and form fields
        body(
            "report-bad-utf8",
            REPORTS,
            raw_json(report_with(b'"description": "\xff\xfe\xc0\xaf"')),
            VALIDATION,
        ),
        body(
            "report-part-cesu8",
            REPORTS,
            multipart(part(b"report", report_with(b'"address": "\xed\xa0\x80"'))),
            VALIDATION,
        ),
        body("action-bad-utf8", ACTIONS, raw_json(b'{"action": "comment", "note": "\xc3\x28"}'), VALIDATION),
        body("stage-bad-utf8", EVIDENCE, multipart(part(b"stage", b"ch\xffeck"), PHOTO_PARTS[0]), VALIDATION),
        body(
            "open311-json-bad-utf8",
            O311,
            raw_json(b'{"service_code": "09009", "description": "\xff"}'),
            O311_400,
        ),
        body("open311-part-bad-utf8", O311, open311_parts(part(b"description", b"\xff\xfe")), O311_400),
        body(
            "open311-form-name-bad-utf8",
            O311,
            {"content": b"service_code=09009&first_%FF=x", "headers": URLENCODED},
            O311_400,
        ),
        body(
            "login-form-bad-utf8",
            LOGIN,
            {"content": b"username=ad%FFmin&password=demo-admin-2026", "headers": URLENCODED},
            (401, "invalid_credentials"),
        ),
        body(
            "login-part-bad-utf8",
            LOGIN,
            multipart(part(b"username", b"ad\xffmin"), part(b"password", b"demo-admin-2026")),
            (401, "invalid_credentials"),
        ),
        body("unit-bad-utf8", UNITS, raw_json(b'{"name": "\xff\xfe", "kind": "bureau"}'), VALIDATION),
        body(
            "category-bad-utf8",
            "/api/v1/categories",
            raw_json(
                b'{"code": "90097", "name_zh": "\xc3\x28", "name_en": "y", '
                b'"time_limit": 1, "time_unit": "working_days"}'
            ),
            VALIDATION,
        ),
        # thousands of parts and fields
        body("report-5000-report-parts", REPORTS, multipart(*[part(b"report", REPORT)] * MANY), TOO_MANY),
        body("report-5000-photos", REPORTS, multipart(part(b"report", REPORT), *PHOTO_PARTS), TOO_MANY),
        body(
            "report-5000-unknown-parts", REPORTS, multipart(*[part(b"x", b"1")] * MANY), (422, "unknown_part")
        ),
        body("evidence-5000-photos", EVIDENCE, multipart(*PHOTO_PARTS), TOO_MANY),
        body("action-5000-parts", ACTIONS, multipart(*[part(b"action", b"{}")] * MANY), TOO_MANY),
        body("open311-5000-parts", O311, multipart(*[part(b"attribute[a]", b"1")] * MANY), (413, None)),
        body("open311-5000-fields", O311, FLOOD, O311_400),
        body("login-5000-fields", LOGIN, FLOOD, (400, "bad_request")),
        body("login-5000-parts", LOGIN, multipart(*[part(b"f", b"1")] * MANY), (400, "bad_request")),
    ],
)
async def test_hostile_bodies(attack, client, world, url, request_, status, code) -> None:  # type: ignore[no-untyped-def]
    method = "PUT" if "/calendar/" in url else "POST"
    # ``attack`` checks the refusal and that nothing was left behind (tests/conftest.py); the answer is
    # checked here too, so the test says what it expects on its face.
    r = await attack(
        method, *(await resolve(client, world, url, CALLERS.get(url, "admin"))), status, code, **request_
    )
    assert r.status_code == status, r.text


# ---- numbers that are not numbers ----------------------------------------------------------------
NOT_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"]
NUMERIC_TARGETS = {  # name -> (method, url, caller, the JSON body for a value, %s; None: the url takes it, {})
    "report-lat": ("POST", REPORTS, "worker2", b'{"category_code": "06010", "lat": %s, "lon": 106.6652}'),
    "report-part-lon": (
        "POST",
        REPORTS,
        "worker2",
        lambda v: multipart(part(b"report", b'{"category_code": "06010", "lat": 35.5, "lon": %s}' % v)),
    ),
    "action-hours": ("POST", ACTIONS, "jiaojing", b'{"action": "request_extension", "hours": %s}'),
    "action-unit-id": ("POST", ACTIONS, "dispatcher", b'{"action": "dispatch", "unit_id": %s}'),
    "assignment-unit-id": ("POST", "/api/v1/assignments", "admin", b'{"unit_id": %s, "grid_id": 1}'),
    "category-time-limit": (
        "POST",
        "/api/v1/categories",
        "admin",
        b'{"code": "90097", "name_zh": "x", "name_en": "y", "time_limit": %s, "time_unit": "working_days"}',
    ),
    "user-grid-ids": (
        "POST",
        "/api/v1/users",
        "admin",
        b'{"username": "abcd", "password": "12345678aa", "role": "worker", "grid_ids": [%s]}',
    ),
    "cell-coordinate": (
        "POST",
        "/api/v1/grids",
        "admin",
        b'{"code": "H1", "name": "n", "geometry": ' + POLYGON_WITH_Y + b"}",
    ),
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
        expected = O311_400 if "/open311/" in url else VALIDATION
        r = await attack(method, url.format(value.decode()), caller, *expected, **request)
        assert r.status_code == expected[0], (value, r.text)
