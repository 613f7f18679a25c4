"""Inspection points: placed in their cell from any datum, refused outside the service area, imported all or
nothing with a dry run, filtered, and given duties (docs/campaign.md "Points and duties")."""

from sqlalchemy import text

from app.geo.coords import from_wgs84
from tests.support.campaign import (
    IN_DONGGUAN,
    IN_XIJIAO,
    IN_ZHONGJIE,
    MARKET,
    add_point,
    import_real_checklists,
)

POINTS = "/api/v1/campaign/points"


async def test_points_are_placed_in_their_cell_from_any_datum(client, world) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    h = world.headers("supervisor")
    lat, lon = IN_ZHONGJIE
    glon, glat = from_wgs84(lon, lat, "gcj02")
    by_gcj = await add_point(client, world, "P-GCJ", lat=glat, lon=glon, coord_system="gcj02")
    by_wgs = (await client.get("/api/v1/grids/locate", params={"lat": lat, "lon": lon}, headers=h)).json()
    assert by_gcj["grid"]["code"] == by_wgs["chain"][0]["code"]
    assert abs(by_gcj["lat"] - lat) < 1e-6 and abs(by_gcj["lon"] - lon) < 1e-6
    market = await add_point(client, world, "P-MARKET", geometry=MARKET, tier="key", reported=True)
    assert market["geometry"]["type"] == "Polygon" and market["grid"]["code"].startswith("620802002")
    line = {
        "type": "LineString",
        "coordinates": [[IN_XIJIAO[1], IN_XIJIAO[0]], [IN_DONGGUAN[1], IN_DONGGUAN[0]]],
    }
    bus = await add_point(client, world, "P-LINE", "GJXL", geometry=line)
    assert bus["grid"]["code"].startswith("620802002")  # the middle of a line across the three 街道
    r = await client.post(
        POINTS, json={"code": "P-FAR", "name": "兰州", "type": "NMSC", "lat": 36.06, "lon": 103.83}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (422, "outside_service_area")
    for body, field, kind in (
        ({"type": "XXXX", "lat": 35.54, "lon": 106.66}, "type", "unknown_point_type"),
        ({"type": "NMSC", "lat": 35.54}, "lon", "missing"),
        (
            {"type": "NMSC", "geometry": {"type": "Point", "coordinates": [106.66]}},
            "geometry",
            "geometry_malformed",
        ),
        ({"type": "NMSC", "lat": 35.54, "lon": 106.66, "unit_id": 99999}, "unit_id", "unknown_unit"),
    ):
        r = await client.post(POINTS, json={"code": "P-BAD", "name": "x", **body}, headers=h)
        assert r.status_code == 422, r.text
        assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["type"]) == (field, kind)
    r = await client.post(
        POINTS, json={"code": "P-GCJ", "name": "again", "type": "NMSC", "lat": lat, "lon": lon}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (409, "point_code_taken")


def _feature(code: str, where: tuple[float, float], **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"公交站 {code}", "type": "GJXL", **props},
        "geometry": {"type": "Point", "coordinates": [where[1], where[0]]},
    }


async def test_an_import_is_all_or_nothing_and_a_dry_run_says_what_changes(client, world, session) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    h = world.headers("supervisor")
    unit = world.units["平凉市公安局交通警察支队崆峒大队"]
    doc = {
        "type": "FeatureCollection",
        "features": [
            _feature("S-1", IN_XIJIAO, unit_id=unit),
            _feature("S-2", IN_ZHONGJIE),
            _feature("S-3", (36.06, 103.83)),  # Lanzhou: outside
            _feature("S-2", IN_DONGGUAN),  # a duplicate code
            {**_feature("S-5", IN_DONGGUAN), "properties": {"code": "S-5", "name": "x", "type": "NOPE"}},
        ],
    }
    r = await client.post(f"{POINTS}/import", json=doc, headers=h)
    assert r.status_code == 422, r.text
    assert [(e["index"], e["type"]) for e in r.json()["errors"]] == [
        (2, "outside_service_area"),
        (3, "code_duplicate"),
        (4, "unknown_point_type"),
    ]
    count = text("SELECT count(*) FROM campaign_points")
    assert (await session.execute(count)).scalar_one() == 0
    good = {"type": "FeatureCollection", "features": doc["features"][:2]}
    dry = (await client.post(f"{POINTS}/import", params={"dry_run": "true"}, json=good, headers=h)).json()
    assert dry == {"dry_run": True, "created": ["S-1", "S-2"], "changed": [], "unchanged": 0}
    assert (await session.execute(count)).scalar_one() == 0
    done = (await client.post(f"{POINTS}/import", json=good, headers=h)).json()
    assert done["created"] == ["S-1", "S-2"] and (await session.execute(count)).scalar_one() == 2
    moved = [_feature("S-1", IN_XIJIAO, unit_id=unit, tier="key"), _feature("S-2", IN_DONGGUAN)]
    dry = (await client.post(f"{POINTS}/import", params={"dry_run": "true"}, json=moved, headers=h)).json()
    assert dry["changed"] == [{"code": "S-1", "fields": ["tier"]}, {"code": "S-2", "fields": ["geometry"]}]
    glon, glat = from_wgs84(IN_DONGGUAN[1], IN_DONGGUAN[0], "gcj02")
    await client.post(
        f"{POINTS}/import", params={"coord_system": "gcj02"}, json=[_feature("S-2", (glat, glon))], headers=h
    )
    listed = (await client.get(POINTS, params={"q": "S-2"}, headers=h)).json()["items"]
    assert listed[0]["grid"]["code"].startswith("620802001") and abs(listed[0]["lon"] - IN_DONGGUAN[1]) < 1e-6


async def test_lists_filter_and_duties_are_kept(client, world) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    h = world.headers("supervisor")
    market = await add_point(client, world, "F-MARKET", geometry=MARKET, tier="key")
    await add_point(client, world, "F-WEST", "GJXL", lat=IN_XIJIAO[0], lon=IN_XIJIAO[1])
    jiaojing, shangwu = world.units["平凉市公安局交通警察支队崆峒大队"], world.units["区商务局"]
    duty = {
        "unit_id": shangwu,
        "chief_name": "王建国",
        "chief_phone": "0933-8210001",
        "items": {"NM-12": jiaojing},
    }
    r = await client.put(f"{POINTS}/{market['id']}/duty", json=duty, headers=h)
    assert r.status_code == 200, r.text
    assert (
        r.json()["duty"]["unit"]["name"] == "区商务局"
        and r.json()["duty"]["items"]["NM-12"]["id"] == jiaojing
    )
    r = await client.put(f"{POINTS}/{market['id']}/duty", json={"items": {"GJ-05": jiaojing}}, headers=h)
    assert (r.status_code, r.json()["errors"][0]["type"]) == (422, "unknown_item")  # not a market's item

    async def codes(**params: object) -> list[str]:
        r = await client.get(POINTS, params=params, headers=world.headers("dispatcher"))
        assert r.status_code == 200, r.text
        return [p["code"] for p in r.json()["items"]]

    assert await codes() == ["F-MARKET", "F-WEST"]
    assert await codes(type="GJXL") == ["F-WEST"]
    assert await codes(grid=world.cells["620802002"]) == ["F-MARKET"]
    assert await codes(unit=jiaojing) == ["F-MARKET"]  # answers for an item there
    assert await codes(tier="key") == ["F-MARKET"]
    assert await codes(bbox="106.63,35.53,106.65,35.56") == ["F-WEST"]
    assert await codes(q="west") == ["F-WEST"]
    assert await codes(limit=1) == ["F-MARKET"]
    r = await client.get(POINTS, params={"colour": "red"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_filter")
    r = await client.patch(
        f"{POINTS}/{market['id']}", json={"lat": IN_DONGGUAN[0], "lon": IN_DONGGUAN[1]}, headers=h
    )
    assert r.json()["grid"]["code"].startswith("620802001") and r.json()["geometry"]["type"] == "Point"
    assert (await client.delete(f"{POINTS}/{market['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{POINTS}/{market['id']}", headers=h)).status_code == 404
    again = await add_point(
        client, world, "F-MARKET"
    )  # the code is free again; the old row stays for its visits
    assert again["id"] != market["id"]
