"""Helpers for the campaign's tests: the real checklists, points in the demo's 街道, rounds and visits, sent
over HTTP as the campaign office's frontend and an inspector's phone would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.paths import PHOTOS

CHECKLISTS_FILE = Path(__file__).parent.parent.parent / "app" / "campaign" / "data" / "checklists.json"
# Real phone photos (tests/data/photos/SOURCES.txt): none was taken in China, so each is "far" from a point.
IPHONE = PHOTOS / "ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg"
NOKIA = PHOTOS / "ianare_exif-samples/jpg/mobile/HMD_Nokia_8.3_5G.jpg"
HEIC = PHOTOS / "ianare_exif-samples/heic/IMG_5195.HEIC"
NO_GPS = PHOTOS / "ianare_exif-samples/jpg/orientation/landscape_6.jpg"
ZHONGJIE, DONGGUAN, XIJIAO = "620802002", "620802001", "620802003"  # the demo's 街道
# Places in each 街道 (WGS-84): a market's outline in 中街, points elsewhere.
MARKET = {
    "type": "Polygon",
    "coordinates": [
        [
            [106.6651, 35.5428],
            [106.6659, 35.5428],
            [106.6659, 35.5434],
            [106.6651, 35.5434],
            [106.6651, 35.5428],
        ]
    ],
}
IN_ZHONGJIE = (35.5425, 106.6620)
IN_DONGGUAN = (35.5425, 106.6780)
IN_XIJIAO = (35.5425, 106.6450)


def checklists() -> dict[str, Any]:
    out: dict[str, Any] = json.loads(CHECKLISTS_FILE.read_text(encoding="utf-8"))
    return out


def items_of(type_code: str) -> list[dict[str, Any]]:
    return next(t for t in checklists()["point_types"] if t["code"] == type_code)["items"]


async def import_real_checklists(client: Any, world: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/campaign/checklists/import", json=checklists(), headers=world.headers("supervisor")
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def add_point(client: Any, world: Any, code: str, type_: str = "NMSC", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": fields.pop("name", f"点位 {code}"), "type": type_, **fields}
    if "geometry" not in body and "lat" not in body:
        body["lat"], body["lon"] = IN_ZHONGJIE
    r = await client.post("/api/v1/campaign/points", json=body, headers=world.headers("supervisor"))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def make_round(client: Any, world: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "kind": "mock",
        "title": "模拟测评",
        "period_from": "2026-12-07",
        "period_to": "2026-12-18",
        "grid_id": world.cells["620802"],
        **fields,
    }
    r = await client.post("/api/v1/campaign/rounds", json=body, headers=world.headers("supervisor"))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def open_round(client: Any, world: Any, round_id: int) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/campaign/rounds/{round_id}/actions",
        json={"action": "open"},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def all_compliant(type_code: str) -> list[dict[str, Any]]:
    """A result for every item of the real checklist that complies (counts at their threshold)."""
    out = []
    for item in items_of(type_code):
        result: dict[str, Any] = {"item": item["code"], "result": "compliant"}
        if item["answer_kind"] == "count_min":
            result["amount"] = item["threshold"]
        elif item["answer_kind"] == "problem_count":
            result["amount"] = 0
        out.append(result)
    return out


def with_results(type_code: str, **changed: dict[str, Any]) -> list[dict[str, Any]]:
    """All compliant but the items named (``NM_13={...}`` for NM-13), which take the given fields."""
    out = all_compliant(type_code)
    for key, fields in changed.items():
        code = key.replace("_", "-")
        row = next(r for r in out if r["item"] == code)
        row.clear()
        row.update({"item": code, **fields})
    return out


def visit_files(
    visit: dict[str, Any] | str | bytes, photos: list[tuple[str, bytes]] = ()
) -> list[tuple[str, tuple]]:  # type: ignore[assignment]
    body = visit if isinstance(visit, (str, bytes)) else json.dumps(visit, ensure_ascii=False)
    files: list[tuple[str, tuple]] = [("visit", (None, body, "application/json"))]
    files += [("photos", (name, data, "image/jpeg")) for name, data in photos]
    return files


async def submit(
    client: Any, world: Any, user: str, visit_id: int, visit: dict[str, Any], photos=(), headers=None
):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/campaign/visits/{visit_id}/submit",
        files=visit_files(visit, list(photos)),
        headers={**world.headers(user), **(headers or {})},
    )
