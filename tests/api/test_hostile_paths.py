"""Hostile path parameters (the corpus's contract: tests/support/corpus.py): traversal, NUL, signs, zero,
huge, exponent, whitespace, unicode digits and long strings in every path parameter of every route."""

from pathlib import Path

import pytest

from tests.support.corpus import assert_refused, footprint
from tests.support.routes import api_routes

# ---- path parameters of every route --------------------------------------------------------------
FINE = {
    "fmt": "json",
    "year": "2026",
    "code": "09009",
    "service_code": "09009",
    "token": "NOPE",
}  # the other params


@pytest.mark.parametrize(
    "value",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "%00",
        "1%00",
        "-1",
        "0",
        "-0",
        "99999999999999999999",
        "2147483648",
        "1e3",
        "0x10",
        "%D9%A1%D9%A2%D9%A3",
        "%EF%BC%91",
        "%FF",
        "1%0D%0ASet-Cookie:%20a=b",
        "true",
        "9" * 5000,
        "x" * 5000,
        "%201",
        "1%20",
        "+1",
        "1.0",
        "1_0",
        "01",
    ],
)
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
                assert_refused(
                    r, r.status_code, {404: "not_found", 422: "validation_error"}.get(r.status_code)
                )
            except AssertionError as exc:
                wrong.append(f"{method} {url[:80]} -> {str(exc)[:200]}")
    assert tried >= 30 and not wrong, "\n".join(wrong)
    assert await footprint(session, storage) == before
