"""Editions and checklists: the real files import, export the same, and a bad file is refused whole with
errors naming the item (docs/campaign.md "Exchange format of checklists")."""

import copy

from tests.support.campaign import checklists, import_real_checklists

IMPORT = "/api/v1/campaign/checklists/import"


async def test_the_real_checklists_import_and_export_the_same(client, world) -> None:  # type: ignore[no-untyped-def]
    answer = await import_real_checklists(client, world)
    assert (answer["point_types"], answer["items"], answer["created"], answer["updated"]) == (3, 39, 39, 0)
    assert answer["edition"]["code"] == "DEMO-2026" and answer["edition"]["active"] is True
    exported = (
        await client.get("/api/v1/campaign/checklists/export", headers=world.headers("worker2"))
    ).json()
    original = checklists()
    assert exported["edition"] == original["edition"]
    assert [t["code"] for t in exported["point_types"]] == [t["code"] for t in original["point_types"]]
    for mine, theirs in zip(exported["point_types"], original["point_types"], strict=True):
        assert mine["protocol"] == theirs["protocol"] and mine["name_zh"] == theirs["name_zh"]
        assert mine["items"] == theirs["items"]  # every field, in the file's order
    again = (await client.post(IMPORT, json=exported, headers=world.headers("supervisor"))).json()
    assert (again["created"], again["updated"], again["retired"]) == (0, 0, 0)
    types = (await client.get("/api/v1/campaign/point-types", headers=world.headers("chengguan"))).json()
    market = next(t for t in types["items"] if t["code"] == "NMSC")
    assert len(market["items"]) == 15 and market["items"][0]["code"] == "NM-01"


async def test_a_reimport_updates_texts_and_retires_what_it_no_longer_lists(client, world) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    changed = checklists()
    market = next(t for t in changed["point_types"] if t["code"] == "NMSC")
    market["items"][12]["text"] = "无占道经营、出店经营现象"
    del market["items"][14]  # NM-15
    r = await client.post(IMPORT, json=changed, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["retired"]) == (0, 1, 1)
    items = (await client.get("/api/v1/campaign/point-types", headers=world.headers("supervisor"))).json()[
        "items"
    ]
    market_items = next(t for t in items if t["code"] == "NMSC")["items"]
    assert [i["code"] for i in market_items][-1] == "NM-14"
    assert market_items[12]["text"] == "无占道经营、出店经营现象"


def _bad(mutate) -> dict:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(checklists())
    mutate(doc)
    return doc


async def test_a_bad_file_is_refused_whole_naming_each_item(client, world, session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    h = world.headers("supervisor")

    def duplicate_and_unknown(doc: dict) -> None:
        doc["point_types"][1]["items"][3]["code"] = "GJ-02"  # a bus item's code on a square's item
        doc["point_types"][2]["items"][12]["category_code"] = "99999"

    r = await client.post(IMPORT, json=_bad(duplicate_and_unknown), headers=h)
    assert r.status_code == 422, r.text
    errors = {(tuple(e["loc"]), e["type"]) for e in r.json()["errors"]}
    assert errors == {
        (("point_types", 1, "items", 3, "code"), "duplicate_code"),
        (("point_types", 2, "items", 12, "category_code"), "unknown_category"),
    }
    assert {e.get("item") for e in r.json()["errors"]} == {"GJ-02", "NM-13"}
    for mutate, loc in (
        (lambda d: d["point_types"][2]["items"][0].update(threshold=None), ["point_types", 2, "items", 0]),
        (lambda d: d["point_types"][2]["items"][2].update(threshold=3), ["point_types", 2, "items", 2]),
        (
            lambda d: d["point_types"][2]["items"][4].update(answer_kind="yes_no"),
            ["point_types", 2, "items", 4, "answer_kind"],
        ),
        (
            lambda d: d["point_types"][0]["items"][1].update(weight=0),
            ["point_types", 0, "items", 1, "weight"],
        ),
        (lambda d: d["point_types"][0].update(items=[]), ["point_types", 0, "items"]),
        (
            lambda d: d["point_types"][0]["items"][1].update(colour="red"),
            ["point_types", 0, "items", 1, "colour"],
        ),
    ):
        r = await client.post(IMPORT, json=_bad(mutate), headers=h)
        assert r.status_code == 422, r.text
        # Shapes are the schema's errors, whose locations the framework writes as strings.
        assert r.json()["errors"][0]["loc"] == [str(p) for p in loc], r.json()["errors"]
    assert (await session.execute(text("SELECT count(*) FROM campaign_items"))).scalar_one() == 0
    assert (await session.execute(text("SELECT count(*) FROM campaign_editions"))).scalar_one() == 0


async def test_editions_and_the_active_one(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("supervisor")
    r = await client.get("/api/v1/campaign/point-types", headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "no_active_edition")
    await import_real_checklists(client, world)
    second = checklists()
    second["edition"] = {**second["edition"], "code": "LOCAL-2027", "year": 2027}
    r = await client.post(IMPORT, json=second, headers=h)
    assert r.json()["edition"]["active"] is False  # the first edition stays active until one is activated
    r = await client.post("/api/v1/campaign/editions/LOCAL-2027/activate", headers=h)
    assert r.status_code == 200 and r.json()["active"] is True
    listed = (await client.get("/api/v1/campaign/editions", headers=h)).json()["items"]
    assert [(e["code"], e["active"]) for e in listed] == [("LOCAL-2027", True), ("DEMO-2026", False)]
    assert (await client.post("/api/v1/campaign/editions/NOPE/activate", headers=h)).status_code == 404
    r = await client.get("/api/v1/campaign/checklists/export", params={"edition": "DEMO-2026"}, headers=h)
    assert r.json()["edition"]["code"] == "DEMO-2026"
