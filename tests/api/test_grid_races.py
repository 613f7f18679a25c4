"""Issue 15, item 3 (PostgreSQL): checks made against committed cells hold under concurrent writers. Two
imports of overlapping top-level cells, or an import racing a geometry edit, each read the other's cell
before it was committed; both passed the sibling check and the grid stopped being a partition.

These run real concurrent transactions (``live_client``); on SQLite writers are serialised already."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, text

from app.grids.models import GridCell

pytestmark = pytest.mark.postgres_only
ROUNDS = 8


def _square(lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(code: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": code}, "geometry": geometry}


@pytest.fixture
async def tag(live_engine) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A code prefix for this test's cells, removed afterwards (with a new grid revision)."""
    prefix = f"RACE{uuid.uuid4().hex[:6]}"
    yield prefix
    async with live_engine.begin() as conn:
        await conn.execute(delete(GridCell).where(GridCell.code.startswith(prefix)))
        await conn.execute(
            text("UPDATE revisions SET token = :t WHERE name = 'grid'"), {"t": str(uuid.uuid4())}
        )


async def _top_level_overlaps(live_engine, prefix: str) -> int:  # type: ignore[no-untyped-def]
    """Pairs of this test's top-level cells whose interiors overlap by more than a sliver."""
    import shapely

    from app.grids.topology import Shape, sibling_overlaps

    async with live_engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT code, geometry FROM grid_cells WHERE parent_id IS NULL AND code LIKE :p"),
                {"p": f"{prefix}%"},
            )
        ).all()
    return len(sibling_overlaps([Shape(code, shapely.from_wkb(wkb), True) for code, wkb in rows]))


async def test_concurrent_imports_of_overlapping_top_level_cells_one_wins(
    live_client, live_engine, world, tag
) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    outcomes = []
    for i in range(ROUNDS):
        lon, lat = -120.0 + i * 0.1, -70.0  # far from every other test's cells
        a = [_feature(f"{tag}A{i}", _square(lon, lat))]
        b = [_feature(f"{tag}B{i}", _square(lon + 0.005, lat))]  # half of A
        responses = await asyncio.gather(
            live_client.post("/api/v1/grids/import", json=a, headers=h),
            live_client.post("/api/v1/grids/import", json=b, headers=h),
        )
        outcomes.append(sorted(r.status_code for r in responses))
        for r in responses:
            if r.status_code == 422:
                assert {e["type"] for e in r.json()["errors"]} == {"cell_overlap"}, r.text
    assert outcomes == [[201, 422]] * ROUNDS, outcomes
    assert await _top_level_overlaps(live_engine, tag) == 0
    # locate in what would have been the overlap answers the one cell that exists
    r = await live_client.get(
        "/api/v1/grids/locate", params={"lon": -120.0 + 0.0075, "lat": -70.0 + 0.005}, headers=h
    )
    assert r.status_code == 200 and len(r.json()["chain"]) == 1


async def test_a_geometry_edit_racing_an_import_into_the_same_ground_one_wins(
    live_client, live_engine, world, tag
) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    outcomes = []
    for i in range(ROUNDS):
        lon, lat = -110.0 + i * 0.1, -70.0
        r = await live_client.post(
            "/api/v1/grids/import", json=[_feature(f"{tag}E{i}", _square(lon, lat))], headers=h
        )
        assert r.status_code == 201, r.text
        cell_id = (await live_client.get("/api/v1/grids", params={"code": f"{tag}E{i}"}, headers=h)).json()[
            "items"
        ][0]["id"]
        grown = _square(lon, lat, size=0.02)  # spreads east over the ground the import claims
        newcomer = [_feature(f"{tag}N{i}", _square(lon + 0.01, lat))]
        responses = await asyncio.gather(
            live_client.patch(f"/api/v1/grids/{cell_id}", json={"geometry": grown}, headers=h),
            live_client.post("/api/v1/grids/import", json=newcomer, headers=h),
        )
        outcomes.append(sorted(r.status_code for r in responses))
    assert all(o in ([200, 422], [201, 422]) for o in outcomes), outcomes
    assert await _top_level_overlaps(live_engine, tag) == 0
