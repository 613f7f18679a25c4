"""Rounds: points listed or sampled from a cell's subtree by seed (the same seed, the same sample), a visit per
point assigned to an inspector who may inspect it, and the round's states."""

from sqlalchemy import text

from tests.support.campaign import (
    DONGGUAN,
    IN_DONGGUAN,
    IN_XIJIAO,
    IN_ZHONGJIE,
    ZHONGJIE,
    add_point,
    import_real_checklists,
    make_round,
)

ROUNDS = "/api/v1/campaign/rounds"


async def _stops(client, world) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Twelve bus stops, four in each 街道, and two markets in 中街."""
    ids = {}
    for street, (lat, lon) in (("Z", IN_ZHONGJIE), ("D", IN_DONGGUAN), ("X", IN_XIJIAO)):
        for n in range(4):
            point = await add_point(client, world, f"{street}-{n}", "GJXL", lat=lat + n * 0.0002, lon=lon)
            ids[point["code"]] = point["id"]
    for n in range(2):
        point = await add_point(
            client, world, f"M-{n}", "NMSC", lat=IN_ZHONGJIE[0] - 0.001, lon=IN_ZHONGJIE[1] + n * 0.0005
        )
        ids[point["code"]] = point["id"]
    return ids


async def test_a_sample_is_reproducible_by_seed_and_limited_to_the_scope(client, world, session) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    await _stops(client, world)
    scope = world.cells[ZHONGJIE]

    async def drawn(seed: int, sample: dict) -> list[str]:  # type: ignore[type-arg]
        r = await make_round(client, world, grid_id=scope, sample=sample, seed=seed)
        assert (r["seed"], r["sample"], r["status"]) == (seed, sample, "draft")
        return [v["point"]["code"] for v in r["visits"]]

    first = await drawn(7, {"GJXL": 2, "NMSC": 1})
    assert len(first) == 3 and all(code[0] in "ZM" for code in first)  # only 中街's points
    assert await drawn(7, {"GJXL": 2, "NMSC": 1}) == first
    assert await drawn(7, {"GJXL": 2}) == first[:2]  # another type's count leaves a type's draw alone
    others = {tuple(await drawn(seed, {"GJXL": 2})) for seed in range(8)}
    assert len(others) > 1  # different seeds draw differently
    everything = await drawn(3, {"GJXL": 4})
    assert sorted(everything) == ["Z-0", "Z-1", "Z-2", "Z-3"]
    # The draw is a function of the codes and the seed only (app.campaign.sampling): computed here the same.
    from app.campaign.sampling import draw

    assert draw({"GJXL": [(f"Z-{n}", f"Z-{n}") for n in (3, 1, 0, 2)]}, {"GJXL": 2}, 7) == first[:2]
    r = await client.post(
        ROUNDS,
        json={
            "kind": "mock",
            "title": "t",
            "period_from": "2026-12-07",
            "period_to": "2026-12-08",
            "grid_id": scope,
            "sample": {"GJXL": 5},
            "seed": 1,
        },
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "not_enough_points"
    assert "4 in the round's cell" in r.json()["errors"][0]["msg"]
    unseeded = await make_round(client, world, grid_id=scope, sample={"NMSC": 1})
    assert isinstance(unseeded["seed"], int)  # chosen, and recorded so the draw can be made again


async def test_listed_points_and_who_inspects_them(client, world) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    ids = await _stops(client, world)
    h = world.headers("supervisor")
    base = {"kind": "patrol", "title": "常态巡查", "period_from": "2026-12-07", "period_to": "2026-12-07"}
    r = await client.post(
        ROUNDS, json={**base, "grid_id": world.cells[ZHONGJIE], "points": [ids["Z-0"], ids["D-0"]]}, headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "outside_scope"
    assert r.json()["errors"][0]["loc"] == ["points", 1]
    listed = await make_round(client, world, **base, points=[ids["Z-0"], ids["D-0"], ids["X-0"]])
    inspectors = {v["point"]["code"]: (v["inspector"] or {}).get("username") for v in listed["visits"]}
    assert inspectors == {"Z-0": "worker2", "D-0": "worker1", "X-0": None}  # the worker patrolling the cell
    r = await client.post(
        ROUNDS,
        json={
            **base,
            "grid_id": world.cells["620802"],
            "points": [ids["Z-0"], ids["D-0"]],
            "inspector_id": world.users["worker2"][0],
        },
        headers=h,
    )
    assert (r.status_code, r.json()["code"]) == (
        422,
        "inspector_not_eligible",
    )  # worker2 does not patrol 东关
    visit = next(v for v in listed["visits"] if v["point"]["code"] == "X-0")
    r = await client.patch(
        f"/api/v1/campaign/visits/{visit['id']}", json={"inspector_id": world.users["worker1"][0]}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (422, "inspector_not_eligible")
    r = await client.patch(
        f"/api/v1/campaign/visits/{visit['id']}",
        json={"inspector_id": world.users["supervisor"][0]},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["inspector"]["username"] == "supervisor"
    assert r.json()["checklist"]["code"] == "GJXL" and len(r.json()["checklist"]["items"]) == 9


async def test_a_round_opens_publishes_and_closes(client, world, session) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    ids = await _stops(client, world)
    round_ = await make_round(client, world, grid_id=world.cells[DONGGUAN], points=[ids["D-1"]])
    url, h = f"{ROUNDS}/{round_['id']}/actions", world.headers("supervisor")
    r = await client.post(url, json={"action": "close"}, headers=world.headers("dispatcher"))
    assert r.status_code == 403  # the command centre reads rounds, the campaign office runs them
    r = await client.post(url, json={"action": "open"}, headers=h)
    assert (r.json()["status"], r.json()["progress"]) == ("open", {"pending": 1, "submitted": 0, "unable": 0})
    r = await client.post(url, json={"action": "open"}, headers=h)
    assert (r.status_code, r.json()["code"], r.json()["allowed_actions"]) == (
        409,
        "invalid_transition",
        ["publish", "close"],
    )
    assert (await client.delete(f"/api/v1/campaign/points/{ids['D-1']}", headers=h)).json()[
        "code"
    ] == "point_in_use"
    r = await client.post(url, json={"action": "publish"}, headers=h)
    assert (r.status_code, r.json()["status"]) == (200, "published") and r.json()["published_at"]
    frozen = (
        await session.execute(
            text("SELECT frozen_code, frozen_type_code, frozen_grid_path FROM campaign_visits")
        )
    ).one()
    assert frozen[:2] == ("D-1", "GJXL") and frozen[2]  # what the point was when published
    r = await client.post(url, json={"action": "publish"}, headers=h)
    assert (r.status_code, r.json()["allowed_actions"]) == (409, ["close"])
    r = await client.post(url, json={"action": "close"}, headers=h)
    assert r.json()["status"] == "closed" and r.json()["closed_at"] and r.json()["published_at"]
    listed = (
        await client.get(ROUNDS, params={"status": "closed"}, headers=world.headers("dispatcher"))
    ).json()
    assert [x["id"] for x in listed["items"]] == [round_["id"]] and listed["items"][0]["visits"] is None
    count = (await session.execute(text("SELECT count(*) FROM campaign_visits"))).scalar_one()
    assert count == 1
