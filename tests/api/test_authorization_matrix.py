"""Every route x every kind of caller: who is let in, written down here from DOMAIN.md and API.md, not
read back from the code. A route the application serves that this table does not name fails the test,
so a new endpoint cannot ship without someone deciding who may call it.

Admitted callers must get past authentication and role checks (any status but 401/403; object-level
refusals such as 404 for a case they may not see are fine); the others get 401 (anonymous) or 403.
Who sees which case (object level): test_cases_visibility.py.
"""

import pytest

from tests.support.keys import new_api_key
from tests.support.reports import file_report
from tests.support.routes import api_routes

ANON, KEY = "anonymous", "api_key"
STAFF = {"worker", "unit_staff", "dispatcher", "supervisor", "admin"}
CENTRE_STAFF = {"dispatcher", "supervisor", "admin"}
ADMIN = {"admin"}
EVERYONE = STAFF | {ANON, KEY}

MATRIX: dict[str, set[str]] = {
    # accounts
    "POST /api/v1/auth/token": EVERYONE,
    "POST /api/v1/auth/logout": STAFF,
    "GET /api/v1/me": STAFF,
    "GET /api/v1/users": ADMIN,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users/{user_id}": ADMIN,
    "PATCH /api/v1/users/{user_id}": ADMIN,
    "POST /api/v1/api-keys": ADMIN,
    "GET /api/v1/api-keys": ADMIN,
    "DELETE /api/v1/api-keys/{key_id}": ADMIN,
    # grid, units, catalogue, routing: staff read, admins edit; the catalogue is public like Open311's services
    "GET /api/v1/grids/locate": STAFF,
    "POST /api/v1/grids/import": ADMIN,
    "GET /api/v1/grids": STAFF,
    "POST /api/v1/grids": ADMIN,
    "GET /api/v1/grids/{cell_id}": STAFF,
    "PATCH /api/v1/grids/{cell_id}": ADMIN,
    "GET /api/v1/units": STAFF,
    "POST /api/v1/units": ADMIN,
    "GET /api/v1/units/{unit_id}": STAFF,
    "PATCH /api/v1/units/{unit_id}": ADMIN,
    "GET /api/v1/assignments": CENTRE_STAFF,
    "POST /api/v1/assignments": ADMIN,
    "DELETE /api/v1/assignments/{assignment_id}": ADMIN,
    "GET /api/v1/categories": EVERYONE,
    "POST /api/v1/categories": ADMIN,
    "PATCH /api/v1/categories/{code}": ADMIN,
    "GET /api/v1/routing/preview": CENTRE_STAFF,
    # cases: third-party servers file and read their own; unit staff do not file reports
    "GET /api/v1/reports": STAFF | {KEY},
    "GET /api/v1/reports/export": STAFF | {KEY},
    "POST /api/v1/reports": {"worker", "dispatcher", "supervisor", "admin", KEY},
    "GET /api/v1/reports/{case_id}": STAFF | {KEY},
    "DELETE /api/v1/reports/{case_id}": ADMIN,
    "POST /api/v1/reports/{case_id}/photos": STAFF,
    "POST /api/v1/reports/{case_id}/actions": STAFF,
    "GET /api/v1/reports/{case_id}/events": STAFF | {KEY},
    "GET /api/v1/photos/{photo_id}": STAFF | {KEY},
    "HEAD /api/v1/photos/{photo_id}": STAFF | {KEY},
    "GET /api/v1/photos/{photo_id}/thumbnail": STAFF | {KEY},
    "HEAD /api/v1/photos/{photo_id}/thumbnail": STAFF | {KEY},
    "GET /api/v1/calendar/{year}": STAFF,
    "PUT /api/v1/calendar/{year}": ADMIN,
    "GET /api/v1/stats/assessment": STAFF,
    "GET /api/v1/stats/overview": STAFF,
    # campaign (CAMPAIGN.md "Who does what"): the campaign office keeps checklists, points, duties and rounds;
    # the command centre reads points and rounds; inspectors see and submit their visits; all staff read the
    # checklists (the standards units are judged by)
    **{
        route: {"supervisor", "admin"}
        for route in (
            "POST /api/v1/campaign/checklists/import",
            "POST /api/v1/campaign/editions/{code}/activate",
            "POST /api/v1/campaign/points",
            "POST /api/v1/campaign/points/import",
            "PATCH /api/v1/campaign/points/{point_id}",
            "DELETE /api/v1/campaign/points/{point_id}",
            "PUT /api/v1/campaign/points/{point_id}/duty",
            "POST /api/v1/campaign/rounds",
            "POST /api/v1/campaign/rounds/{round_id}/actions",
            "POST /api/v1/campaign/rounds/{round_id}/notices",
            "PATCH /api/v1/campaign/visits/{visit_id}",
            "POST /api/v1/campaign/negative-events",
            "POST /api/v1/campaign/negative-events/{event_id}/actions",
        )
    },
    # scores, boards and the negative list are read by the campaign office and the command centre
    **{
        route: CENTRE_STAFF
        for route in (
            "GET /api/v1/campaign/scores",
            "GET /api/v1/campaign/scores/trend",
            "GET /api/v1/campaign/scores/items",
            "GET /api/v1/campaign/boards",
            "GET /api/v1/campaign/boards.csv",
            "GET /api/v1/campaign/negative-events",
        )
    },
    "GET /api/v1/campaign/checklists/export": STAFF,
    "GET /api/v1/campaign/editions": STAFF,
    "GET /api/v1/campaign/point-types": STAFF,
    "GET /api/v1/campaign/points": CENTRE_STAFF,
    "GET /api/v1/campaign/points/{point_id}": CENTRE_STAFF,
    "GET /api/v1/campaign/rounds": CENTRE_STAFF,
    "GET /api/v1/campaign/rounds/{round_id}": CENTRE_STAFF,
    "GET /api/v1/campaign/rounds/{round_id}/report": CENTRE_STAFF,
    "GET /api/v1/campaign/visits": {"worker", "supervisor", "admin"},
    "GET /api/v1/campaign/visits/{visit_id}": {"worker", "supervisor", "admin"},
    "GET /api/v1/campaign/visits/{visit_id}/photos/{photo_id}": {"worker", "supervisor", "admin"},
    "POST /api/v1/campaign/visits/{visit_id}/submit": {"worker", "supervisor", "admin"},
    # rectification notices: the office and the command centre read all, a unit's staff their own unit's
    # (object level: test_campaign_notices.py); the round's results export is the office's and the centre's
    "GET /api/v1/campaign/notices": {"unit_staff", *CENTRE_STAFF},
    "GET /api/v1/campaign/notices/{notice_id}": {"unit_staff", *CENTRE_STAFF},
    "GET /api/v1/campaign/export": CENTRE_STAFF,
    # Open311: public by the spec; filing checks its api_key field itself
    **{
        f"GET /open311/v2/{p}": EVERYONE
        for p in (
            "discovery.{fmt}",
            "services.{fmt}",
            "services/{service_code}.{fmt}",
            "requests.{fmt}",
            "requests/{request_id}.{fmt}",
            "tokens/{token}.{fmt}",
            "servicerequestupdates.{fmt}",
            "media/{photo_id}.jpg",
        )
    },
    "POST /open311/v2/requests.{fmt}": EVERYONE,
    "GET /healthz": EVERYONE,
    "GET /readyz": EVERYONE,
    "GET /metrics": EVERYONE,  # operators scrape it on the internal network; GRID_METRICS_TOKEN closes it
    # notifications: admins and supervisors manage endpoints; a unit's staff read their own unit's
    **{
        route: {"supervisor", "admin"}
        for route in (
            "POST /api/v1/notifications/endpoints",
            "PATCH /api/v1/notifications/endpoints/{endpoint_id}",
            "DELETE /api/v1/notifications/endpoints/{endpoint_id}",
            "POST /api/v1/notifications/endpoints/{endpoint_id}/rotate-secret",
            "POST /api/v1/notifications/endpoints/{endpoint_id}/test",
            "POST /api/v1/notifications/deliveries/{delivery_id}/resend",
        )
    },
    **{
        route: {"unit_staff", "supervisor", "admin"}
        for route in (
            "GET /api/v1/notifications/endpoints",
            "GET /api/v1/notifications/endpoints/{endpoint_id}",
            "GET /api/v1/notifications/deliveries",
            "GET /api/v1/notifications/deliveries/{delivery_id}",
        )
    },
}


@pytest.fixture
async def callers(client, world):  # type: ignore[no-untyped-def]
    admin = world.headers("admin")
    keys = [await new_api_key(client, admin, f"matrix {i}") for i in range(2)]
    headers = {
        role: world.headers(user)
        for role, user in (
            ("worker", "worker2"),
            ("unit_staff", "jiaojing"),
            ("dispatcher", "dispatcher"),
            ("supervisor", "supervisor"),
            ("admin", "admin"),
        )
    }
    return {**headers, ANON: {}, KEY: {"X-API-Key": keys[0]["key"]}}, keys[1]["id"]


async def test_every_route_admits_exactly_its_callers(app, client, world, callers) -> None:  # type: ignore[no-untyped-def]
    headers, spare_key = callers
    case = await file_report(client, world)
    values = {
        "user_id": world.users["worker1"][0],
        "key_id": spare_key,
        "cell_id": world.cells["620802002"],
        "unit_id": world.units["市妇联"],
        "assignment_id": 1,
        "code": "09009",
        "case_id": case["id"],
        "photo_id": 1,
        "year": 2026,
        "fmt": "json",
        "service_code": "09009",
        "request_id": case["id"],
        "token": case["tracking_code"],
        "endpoint_id": 1,
        "delivery_id": 1,
        "point_id": 1,
        "round_id": 1,
        "visit_id": 1,
        "event_id": 1,
        "notice_id": 1,
    }
    routes = {f"{method} {path}" for method, path, _ in api_routes(app)}
    assert not routes - MATRIX.keys(), (
        f"routes nobody decided the callers of: {sorted(routes - MATRIX.keys())}"
    )
    assert not MATRIX.keys() - routes, (
        f"the table names routes that are gone: {sorted(MATRIX.keys() - routes)}"
    )
    wrong = []
    # Deleting routes last, so the objects they remove stay for the others; logging out after them, since
    # it revokes the callers' tokens.
    for name in sorted(MATRIX, key=lambda n: (n == "POST /api/v1/auth/logout", n.startswith("DELETE"))):
        method, path = name.split(" ", 1)
        url = path.format(**values)
        for caller, h in headers.items():
            r = await client.request(method, url, headers=h)
            admitted = caller in MATRIX[name]
            refused = r.status_code in (401, 403) and not url.startswith("/open311/")
            if admitted == refused or (not admitted and r.status_code != (401 if caller == ANON else 403)):
                wrong.append(f"{name} as {caller}: {r.status_code} {r.text[:80]}")
    assert not wrong, "\n".join(wrong)
