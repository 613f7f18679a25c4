"""Grid cells for tests: square GeoJSON features, importing them, counting what is there."""

from __future__ import annotations

import json

import httpx

INSIDE_KONGTONG = (35.5428, 106.6652)  # lat, lon WGS-84: 平凉 city centre, a 中街街道 cell
BEIJING = (39.9042, 116.4074)  # lat, lon: outside the service area


def square(code: str, x: float, y: float, d: float = 0.01, **props: object) -> dict:
    """A GeoJSON Feature: the square from (x, y) (lon, lat degrees) with side ``d``, named ``cell {code}``;
    ``props`` join its properties (``parent_code``, ``level``...)."""
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"cell {code}", **props},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]],
        },
    }


async def post_import(client: httpx.AsyncClient, doc: object, headers: dict, **params: str) -> httpx.Response:
    """``POST /api/v1/grids/import`` of ``doc`` (bytes and text as they are, anything else as JSON) with the
    query ``params`` (``coord_system``, ``repair``, ``on_existing``)."""
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    return await client.post(
        "/api/v1/grids/import",
        params=params,
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


async def count_cells(client: httpx.AsyncClient, headers: dict) -> int:
    """How many cells ``GET /api/v1/grids`` lists, every page."""
    total, cursor = 0, None
    while True:
        page = (
            await client.get(
                "/api/v1/grids",
                params={"limit": 200, **({"cursor": cursor} if cursor else {})},
                headers=headers,
            )
        ).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return total
