"""Issue 15, item 13 over HTTP: a cell drawn clockwise is stored and served counter-clockwise (RFC 7946
section 3.1.6), and a cell stored clockwise before the rule is served counter-clockwise too."""

from __future__ import annotations

import shapely
from sqlalchemy import select, update

from app.grids.models import GridCell

CW_RING = [[106.75, 35.45], [106.75, 35.46], [106.76, 35.46], [106.76, 35.45], [106.75, 35.45]]


async def test_a_clockwise_cell_is_stored_and_served_counter_clockwise(client, world, session) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    body = {
        "code": "620802101",
        "name": "崆峒镇",
        "parent_id": world.cells["620802"],
        "geometry": {"type": "Polygon", "coordinates": [CW_RING]},
    }
    r = await client.post("/api/v1/grids", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert shapely.is_ccw(shapely.linearrings(r.json()["geometry"]["coordinates"][0]))
    stored = (
        await session.execute(select(GridCell.geometry).where(GridCell.id == r.json()["id"]))
    ).scalar_one()
    assert shapely.is_ccw(shapely.from_wkb(stored).exterior)

    # as a cell imported before the rule was: stored clockwise
    await session.execute(
        update(GridCell)
        .where(GridCell.id == r.json()["id"])
        .values(geometry=shapely.to_wkb(shapely.Polygon(CW_RING)))
    )
    await session.commit()
    served = (await client.get(f"/api/v1/grids/{r.json()['id']}", headers=h)).json()["geometry"]
    assert shapely.is_ccw(shapely.linearrings(served["coordinates"][0]))
    listed = (
        await client.get("/api/v1/grids", params={"code": "620802101", "with_geometry": True}, headers=h)
    ).json()["items"][0]["geometry"]
    assert listed == served
