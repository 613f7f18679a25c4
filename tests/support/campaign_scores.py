"""A round with hand-computed figures for the tests of scores, boards and the negative list.

The real checklists, with NM-03 weighing 3 and NM-15 a ``problem_count`` item (the real lists have none).
Four points of the round over the district (620802), all inspected by the supervisor:

| point | type, street, unit | answers | score | 符合率 | 达标 |
|---|---|---|---|---|---|
| S-M1 | NMSC, 中街, 交警 | NM-01 1 < 2 and NM-03 (w 3) fail, NM-14 n/a | 100*12/16 = 75 | 12/14 | no |
| S-M2 | NMSC, 东关, 商务局 | NM-15 2 problems (w 1) fail | 100*16/17 = 94.12 | 14/15 | yes (>= 85) |
| S-G1 | GJXL, 中街, 交警 | all comply (GJ-01 3 >= 3) | 100 | 9/9 | yes |
| S-G2 | GJXL, 中街, 交警 | unable: not scored | - | - | - |
"""

from __future__ import annotations

from typing import Any

from tests.support.campaign import (
    IN_DONGGUAN,
    IN_ZHONGJIE,
    IPHONE,
    NO_GPS,
    NOKIA,
    checklists,
    make_round,
    open_round,
    submit,
)

JIAOJING = "平凉市公安局交通警察支队崆峒大队"
SHANGWU = "区商务局"
M2_SCORE = 100 * 16 / 17


def weighted_checklists(nm03_weight: float = 3) -> dict[str, Any]:
    data = checklists()
    market = next(t for t in data["point_types"] if t["code"] == "NMSC")
    for item in market["items"]:
        if item["code"] == "NM-03":
            item["weight"] = nm03_weight
        if item["code"] == "NM-15":
            item["answer_kind"] = "problem_count"
            item.pop("threshold", None)
    return data


def answers(data: dict[str, Any], type_code: str, **changed: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of ``type_code`` compliant (counts at their threshold, no problems) but those named."""
    items = next(t for t in data["point_types"] if t["code"] == type_code)["items"]
    out = []
    for item in items:
        row: dict[str, Any] = {"item": item["code"], "result": "compliant"}
        if item["answer_kind"] == "count_min":
            row["amount"] = item["threshold"]
        elif item["answer_kind"] == "problem_count":
            row["amount"] = 0
        key = item["code"].replace("-", "_")
        if key in changed:
            row = {"item": item["code"], **changed[key]}
        out.append(row)
    return out


def fail(photo: str, **fields: Any) -> dict[str, Any]:
    return {"result": "noncompliant", "note": "问题", "photos": [photo], **fields}


async def import_weighted(client: Any, world: Any, nm03_weight: float = 3) -> dict[str, Any]:
    data = weighted_checklists(nm03_weight)
    r = await client.post(
        "/api/v1/campaign/checklists/import", json=data, headers=world.headers("supervisor")
    )
    assert r.status_code == 200, r.text
    return data


async def point(client: Any, world: Any, code: str, type_: str, where: tuple[float, float], unit: str) -> int:
    body = {
        "code": code,
        "name": f"点位 {code}",
        "type": type_,
        "lat": where[0],
        "lon": where[1],
        "unit_id": world.units[unit],
    }
    r = await client.post("/api/v1/campaign/points", json=body, headers=world.headers("supervisor"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def scored_round(client: Any, world: Any, **round_fields: Any) -> dict[str, Any]:
    """The round of the module docstring, submitted (not published): ids of its round, points and cases."""
    data = await import_weighted(client, world)
    lat, lon = IN_ZHONGJIE
    ids = {
        "S-M1": await point(client, world, "S-M1", "NMSC", (lat, lon), JIAOJING),
        "S-M2": await point(client, world, "S-M2", "NMSC", IN_DONGGUAN, SHANGWU),
        "S-G1": await point(client, world, "S-G1", "GJXL", (lat + 0.0003, lon), JIAOJING),
        "S-G2": await point(client, world, "S-G2", "GJXL", (lat + 0.0006, lon), JIAOJING),
    }
    round_ = await make_round(
        client,
        world,
        points=list(ids.values()),
        inspector_id=world.users["supervisor"][0],
        pass_mark=85,
        **round_fields,
    )
    await open_round(client, world, round_["id"])
    visits = {v["point"]["code"]: v["id"] for v in round_["visits"]}
    cases: dict[str, int] = {}
    sent = [
        (
            "S-M1",
            {
                "results": answers(
                    data,
                    "NMSC",
                    NM_01=fail("a.jpg", amount=1),
                    NM_03=fail("b.jpg"),
                    NM_14={"result": "not_applicable"},
                )
            },
            [("a.jpg", IPHONE.read_bytes()), ("b.jpg", NOKIA.read_bytes())],
        ),
        (
            "S-M2",
            {"results": answers(data, "NMSC", NM_15=fail("c.jpg", amount=2))},
            [("c.jpg", NO_GPS.read_bytes())],
        ),
        ("S-G1", {"results": answers(data, "GJXL")}, []),
        ("S-G2", {"unable": True, "reason": "站台施工封闭"}, [("d.jpg", IPHONE.read_bytes())]),
    ]
    for code, visit, photos in sent:
        r = await submit(client, world, "supervisor", visits[code], visit, photos)
        assert r.status_code == 200, r.text
        for case in r.json().get("cases") or []:
            cases[f"{code} {case['item']}"] = case["id"]
    return {"round": round_["id"], "points": ids, "visits": visits, "cases": cases, "data": data}


async def publish(client: Any, world: Any, round_id: int) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/campaign/rounds/{round_id}/actions",
        json={"action": "publish"},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out
