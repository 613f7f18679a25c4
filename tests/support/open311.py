"""Open311 GeoReport v2 for tests: a citizen's filing form, and the spec's JSON schemas (tests/data/open311,
see tests/data/SOURCES.txt) to validate answers against."""

from __future__ import annotations

import json

import httpx
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from tests.support.paths import DATA
from tests.support.reports import CENTRE

SCHEMAS = DATA / "open311"
BASE = "/open311/v2"
FORM = {  # illegal parking at CENTRE with a citizen's contacts and the service's attributes
    "service_code": "09009",
    "lat": str(CENTRE["lat"]),
    "long": str(CENTRE["lon"]),
    "description": "校门口机动车乱停放",
    "email": "citizen@example.cn",
    "first_name": "明",
    "last_name": "李",
    "phone": "13800000000",
    "attribute[plate_number]": "甘L12345",
    "attribute[vehicle_type]": "car",
}


def validator(name: str) -> Draft7Validator:
    """A validator for the spec's schema file ``name`` (e.g. ``requests.json``), its references resolved."""
    registry: Registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        if path.name != "swagger.json":
            registry = registry.with_resource(path.name, Resource.opaque(json.loads(path.read_text())))
    return Draft7Validator({"$ref": name}, registry=registry)


def assert_valid(name: str, body: object) -> None:
    errors = sorted(validator(name).iter_errors(body), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


async def post_request(
    client: httpx.AsyncClient, key: str, fmt: str = "json", **extra: str
) -> httpx.Response:
    """``POST /open311/v2/requests.{fmt}`` of FORM with ``key`` as its api_key; ``extra`` fields replace or join
    them (``api_key`` too)."""
    return await client.post(f"{BASE}/requests.{fmt}", data={**FORM, "api_key": key, **extra})
