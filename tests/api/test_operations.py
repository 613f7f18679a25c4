"""What operators rely on: request ids, security headers, readiness, Prometheus metrics, JSON logs, answers when
the database is gone: app/ops.py and app/core (http.py, logs.py, metrics.py, db.py)."""

import json
import logging

import pytest

from app.core.db import Database, create_engine
from app.main import create_app
from app.photos.storage import LocalStorage
from tests.support.auth import bearer_of, login
from tests.support.databases import pg_admin
from tests.support.http import client_of
from tests.support.keys import new_api_key
from tests.support.reports import CENTRE, file_report


async def test_every_response_has_a_request_id_and_security_headers(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/categories")
    assert len(r.headers["x-request-id"]) == 32
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["referrer-policy"] == "no-referrer"
    mine = await client.get(
        "/api/v1/me", headers={**world.headers("worker2"), "X-Request-ID": "phone-42.retry"}
    )
    assert mine.headers["x-request-id"] == "phone-42.retry"
    forged = await client.get("/healthz", headers={"X-Request-ID": "a\tb" + "x" * 100})
    assert forged.headers["x-request-id"] != "a\tb" + "x" * 100  # not a plain token: replaced
    error = await client.get("/api/v1/reports/999999", headers=world.headers("dispatcher"))
    assert error.status_code == 404 and error.headers["x-request-id"]
    assert "script-src 'self'" in (await client.get("/docs")).headers["content-security-policy"]


async def test_readiness_names_what_is_missing(client, app) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    workshop = app.state.workshop
    original = workshop.storage
    workshop.storage = LocalStorage("/dev/null/photos")  # a directory that can never be made
    try:
        r = await client.get("/readyz")
    finally:
        workshop.storage = original
    assert r.status_code == 503 and r.json()["failures"] == ["photo storage is not writable"]
    assert r.headers["retry-after"] == "5"


async def test_metrics_count_requests_by_route_and_cases_by_state(client, world, app) -> None:  # type: ignore[no-untyped-def]
    await file_report(client, world)
    await client.get("/api/v1/reports/123456", headers=world.headers("dispatcher"))
    text = (await client.get("/metrics")).text
    assert 'grid_http_requests_total{method="GET",route="/api/v1/reports/{case_id}",status="404"}' in text
    assert "123456" not in text  # route templates, never raw paths
    assert 'grid_cases{state="dispatched"} 1.0' in text and "grid_cases_overdue 0.0" in text
    app.state.settings.metrics_token = "scrape-secret"
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", auth=("prometheus", "wrong"))).status_code == 401
    assert (await client.get("/metrics", auth=("prometheus", "scrape-secret"))).status_code == 200


def test_log_lines_are_json_with_the_request_id() -> None:
    from app.core.http import request_id_var
    from app.core.logs import JsonFormatter

    token = request_id_var.set("req-1")
    try:
        record = logging.LogRecord("grid_inspector.access", logging.INFO, __file__, 1, "request", None, None)
        record.fields = {"route": "/api/v1/reports", "status": 200}
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-1" and line["route"] == "/api/v1/reports" and line["level"] == "INFO"


async def test_cors_only_for_the_configured_origins(settings, db) -> None:  # type: ignore[no-untyped-def]
    preflight = {
        "Origin": "https://grid.example.cn",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async for plain in client_of(create_app(settings=settings, database=db)):
        r = await plain.options("/api/v1/reports", headers=preflight)
        assert (
            "access-control-allow-origin" not in r.headers
        )  # none configured: browsers elsewhere are refused
    async for open_ in client_of(
        create_app(
            settings=settings.model_copy(update={"cors_origins": ["https://grid.example.cn"]}), database=db
        )
    ):
        r = await open_.options("/api/v1/reports", headers=preflight)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://grid.example.cn"
        r = await open_.get("/open311/v2/services.json", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_every_body_is_bounded_whatever_its_type(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = await client.post("/api/v1/units", content=big, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):  # no Content-Length: counted while it streams
            yield b"y" * 100_000

    r = await client.post(
        "/api/v1/categories", content=chunks(), headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.put(
        "/api/v1/calendar/2027", content=big, headers={**h, "Content-Type": "application/xml"}
    )
    assert r.status_code == 413
    r = await client.post(
        "/open311/v2/requests.xml",
        content=b"a" * (40 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and r.text.startswith("<?xml")


async def test_an_unreachable_database_is_503_with_retry_after_not_500(settings, world) -> None:  # type: ignore[no-untyped-def]
    settings.open311_public_reads = "all"  # so the anonymous feed reaches the database
    gone = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/gone")  # nothing listens on port 1
    try:
        async for c in client_of(create_app(settings=settings, database=Database(gone))):
            calls = [
                c.get("/api/v1/reports", headers=world.headers("supervisor")),
                login(c, "admin", "x"),
                c.post(
                    "/api/v1/reports",
                    json={"category_code": "06010", **CENTRE},
                    headers=world.headers("worker2"),
                ),
                c.get("/open311/v2/requests.json"),
            ]
            for call in calls:
                r = await call
                body = r.json()
                code = body[0]["code"] if isinstance(body, list) else body["code"]
                assert (r.status_code, code, r.headers["retry-after"]) in {
                    (503, "database_unavailable", "5"),
                    (503, 503, "5"),
                }, r.text
            assert (await c.get("/healthz")).status_code == 200
            assert (await c.get("/readyz")).status_code == 503
    finally:
        await gone.dispose()


async def test_no_secret_or_personal_data_reaches_the_logs(client, world, caplog) -> None:  # type: ignore[no-untyped-def]
    """Passwords, tokens, API keys (even in a query string), and a citizen's contacts and words never
    appear in a log line, whatever the outcome of the request."""
    from app.core.logs import JsonFormatter

    caplog.set_level(logging.INFO)  # the level `grid-inspector serve` logs at
    key = await new_api_key(client, world.headers("admin"), "citizen app")
    token = await login(client, "admin", "demo-admin-2026")
    await login(client, "admin", "wrong-but-secret-pw")
    citizen = {
        "service_code": "09009",
        "lat": str(CENTRE["lat"]),
        "long": str(CENTRE["lon"]),
        "email": "li.ming@example.cn",
        "phone": "13912345678",
        "description": "校门口 张三 的车",
    }
    await client.post(f"/open311/v2/requests.json?api_key={key['key']}", data=citizen)
    await client.post("/open311/v2/requests.json", data={**citizen, "lat": "NaN", "api_key": key["key"]})
    await client.get(
        f"/api/v1/reports?q=13912345678&api_key={key['key']}", headers=world.headers("supervisor")
    )
    await client.get("/api/v1/me", headers=bearer_of(token.json()["access_token"]))
    # httpx logs the test client's own requests (URLs included): that is the client's side.
    lines = "\n".join(
        JsonFormatter().format(r) for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert '"route": "/open311/v2/requests.{fmt}"' in lines  # the access lines were captured
    for secret in (
        key["key"],
        "demo-admin-2026",
        "wrong-but-secret-pw",
        token.json()["access_token"],
        "li.ming@example.cn",
        "13912345678",
        "张三",
    ):
        assert secret not in lines


async def _raw(
    app, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> list[dict]:  # type: ignore[no-untyped-def]
    """Drive the ASGI app as a server would, with a client that sends ``chunks`` and then hangs up."""
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks] + [
        {"type": "http.disconnect"}
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_a_client_hanging_up_mid_body_is_a_400_not_a_500_and_no_traceback(app, world, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    bearer = world.headers("worker2")["Authorization"].encode()
    for path, content_type, auth in [
        ("/api/v1/reports", b"multipart/form-data; boundary=xyz", [(b"authorization", bearer)]),
        ("/open311/v2/requests.json", b"application/x-www-form-urlencoded", []),
    ]:
        sent = await _raw(
            app,
            "POST",
            path,
            [(b"content-type", content_type), (b"content-length", b"100000"), *auth],
            [b'--xyz\r\nContent-Disposition: form-data; name="report"\r\n\r\n{"a": '],
        )
        assert sent[0]["status"] == 400, (path, sent[0])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_unexpected_error_is_a_500_with_the_request_id_in_the_answer_and_the_log(
    app, client, caplog
) -> None:  # type: ignore[no-untyped-def]
    from app.core.logs import JsonFormatter

    @app.get("/_boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    caplog.set_level(logging.INFO)
    r = await client.get("/_boom", headers={"X-Request-ID": "trace-me-123"})
    assert (r.status_code, r.json()["code"]) == (500, "internal_error")
    assert r.headers["x-request-id"] == "trace-me-123" and r.headers["x-content-type-options"] == "nosniff"
    errors = [
        json.loads(JsonFormatter().format(rec)) for rec in caplog.records if rec.levelno >= logging.ERROR
    ]
    assert errors and all(
        e["request_id"] == "trace-me-123" and "RuntimeError: a bug" in e["error"] for e in errors
    )


async def test_a_database_that_stops_answering_is_a_prompt_503_and_probes_still_answer(
    settings, world
) -> None:  # type: ignore[no-untyped-def]
    """A database dropped off the network (packets vanish): connecting gives up after the connect timeout,
    not asyncpg's minute; liveness ignores credentials; metrics still serve the request counters."""
    import asyncio
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts, never answers
    gone = create_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{silent.getsockname()[1]}/x", connect_timeout_s=1
    )
    try:
        async for c in client_of(create_app(settings=settings, database=Database(gone))):
            r = await asyncio.wait_for(c.get("/api/v1/categories", headers=world.headers("supervisor")), 10)
            assert (r.status_code, r.json()["code"]) == (503, "database_unavailable")
            bogus = {"Authorization": "Bearer not-a-token"}
            assert (await c.get("/healthz", headers=world.headers("supervisor"))).status_code == 200
            assert (await c.get("/healthz", headers=bogus)).status_code == 200
            r = await asyncio.wait_for(c.get("/metrics", headers=bogus), 10)
            assert r.status_code == 200 and "grid_database_up 0.0" in r.text
            assert 'route="/api/v1/categories",status="503"' in r.text
    finally:
        await gone.dispose()
        silent.close()


async def test_a_database_refusing_connections_is_503(settings, world, test_database) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    if test_database.dialect != "postgresql":
        pytest.skip("PostgreSQL refusing connections to one database (ALLOW_CONNECTIONS false)")

    url = test_database.new_scratch()
    name = make_url(url).database
    await pg_admin(test_database.url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    engine = create_engine(url)
    try:
        async for c in client_of(create_app(settings=settings, database=Database(engine))):
            r = await c.get("/api/v1/categories", headers=world.headers("supervisor"))
            assert (r.status_code, r.json()["code"]) == (503, "database_unavailable"), r.text
    finally:
        await engine.dispose()
        await pg_admin(test_database.url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def test_metrics_in_production_need_the_operators_token(settings, db) -> None:  # type: ignore[no-untyped-def]
    production = settings.model_copy(update={"env": "production", "public_url": "https://grid.example.cn/"})
    async for c in client_of(create_app(settings=production, database=db)):
        r = await c.get("/metrics")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden") and "GRID_METRICS_TOKEN" in r.json()[
            "detail"
        ]
    with_token = production.model_copy(update={"metrics_token": "scrape-secret"})
    async for c in client_of(create_app(settings=with_token, database=db)):
        r = await c.get("/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert (await c.get("/metrics", auth=("prometheus", "scrape-secret"))).status_code == 200
