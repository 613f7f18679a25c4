"""Every result of a round as CSV: a row per result and per visit without results, zh or en headers, times in
the city's zone, cells a spreadsheet would run as a formula defused, and read in batches (never all at once)."""

from __future__ import annotations

import csv
import io

from app.campaign.export import COLUMNS, round_csv
from tests.support.campaign import (
    IPHONE,
    MARKET,
    NO_GPS,
    add_point,
    import_real_checklists,
    items_of,
    make_round,
    open_round,
    submit,
    with_results,
)

SHANGWU = "区商务局"


async def _round(client, world) -> dict:  # type: ignore[no-untyped-def,type-arg]
    await import_real_checklists(client, world)
    market = await add_point(client, world, "E-MARKET", geometry=MARKET, name="=中山街农贸市场")
    stop = await add_point(client, world, "E-STOP", "GJXL", name="1路 中山街站")
    pending = await add_point(client, world, "E-MARKET-2", geometry=MARKET, name="东门市场")
    r = await client.put(
        f"/api/v1/campaign/points/{market['id']}/duty",
        json={"unit_id": world.units[SHANGWU], "items": {}},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    round_ = await make_round(
        client,
        world,
        title="十二月测评",
        grid_id=world.cells["620802002"],
        points=[market["id"], stop["id"], pending["id"]],
    )
    await open_round(client, world, round_["id"])
    visits = {v["point"]["code"]: v["id"] for v in round_["visits"]}
    failed = {"result": "noncompliant", "note": "+1 摊位占道", "photos": ["p.jpg"]}
    r = await submit(
        client,
        world,
        "worker2",
        visits["E-MARKET"],
        {"results": with_results("NMSC", NM_13=failed), "observed_at": "2026-12-07T02:00:00Z"},
        [("p.jpg", IPHONE.read_bytes())],
    )
    assert r.status_code == 200, r.text
    r = await submit(  # worker2's visit, submitted by the supervisor: the export names who inspected
        client,
        world,
        "supervisor",
        visits["E-STOP"],
        {"unable": True, "reason": "@站台施工封闭"},
        [("c.jpg", NO_GPS.read_bytes())],
    )
    assert r.status_code == 200, r.text
    return round_


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode())))


async def test_a_round_exports_a_row_per_result_in_zh_and_en(client, world) -> None:  # type: ignore[no-untyped-def]
    round_ = await _round(client, world)
    h = world.headers("dispatcher")
    r = await client.get("/api/v1/campaign/export", params={"round": round_["id"], "lang": "zh"}, headers=h)
    assert r.status_code == 200, r.text
    assert (
        r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    )
    header, *rows = _rows(r.content)
    assert header == [zh for _, zh, _, _ in COLUMNS]
    col = {key: i for i, (key, *_) in enumerate(COLUMNS)}
    market = [row for row in rows if row[col["point_code"]] == "E-MARKET"]
    assert len(market) == len(items_of("NMSC"))
    (fail,) = [row for row in market if row[col["answer"]] == "不符合"]
    assert fail[col["item_code"]] == "NM-13" and fail[col["tracking_code"]]
    assert fail[col["case_status"]] == "已派遣" and fail[col["unit"]] == SHANGWU
    assert (
        fail[col["note"]] == "'+1 摊位占道" and fail[col["point_name"]] == "'=中山街农贸市场"
    )  # formula-safe
    assert fail[col["observed_at"]] == "2026-12-07 10:00:00+08:00"  # the city's time
    assert fail[col["round"]] == "十二月测评" and fail[col["visit_status"]] == "已测评"
    (unable,) = [row for row in rows if row[col["point_code"]] == "E-STOP"]
    assert unable[col["visit_status"]] == "无法测评" and unable[col["note"]] == "'@站台施工封闭"
    assert unable[col["item_code"]] == "" and unable[col["point_type"]] == "GJXL"
    # Who submitted it, not who was assigned; no phone time given: when it was submitted (a newcomer's).
    assert unable[col["inspector"]] not in ("", fail[col["inspector"]]) and fail[col["inspector"]]
    assert unable[col["observed_at"]].endswith("+08:00")
    (pending,) = [row for row in rows if row[col["point_code"]] == "E-MARKET-2"]
    assert pending[col["visit_status"]] == "待测评"

    en = await client.get(
        "/api/v1/campaign/export", params={"round": round_["id"]}, headers={**h, "Accept-Language": "en"}
    )
    header, *rows = _rows(en.content)
    assert header == [e for _, _, e, _ in COLUMNS]
    (fail,) = [row for row in rows if row[col["answer"]] == "noncompliant"]
    assert fail[col["case_status"]] == "dispatched" and fail[col["visit_status"]] == "submitted"


async def test_the_export_reads_visits_in_batches(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    round_ = await _round(client, world)
    db, tz = app.state.db, settings.workflow_tz
    chunks = [chunk async for chunk in round_csv(db, round_["id"], round_["title"], 1, "en", tz)]
    # The header, then one chunk per visit (batches of one visit), then the empty read that ends it.
    assert len(chunks) == 1 + 3 + 1 and chunks[-1] == b""
    whole = await client.get(
        "/api/v1/campaign/export",
        params={"round": round_["id"], "lang": "en"},
        headers=world.headers("supervisor"),
    )
    assert _rows(b"".join(chunks)) == _rows(whole.content)


async def test_who_may_export_and_what_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    point = await add_point(client, world, "E-ONE")
    round_ = await make_round(client, world, points=[point["id"]])
    for user, status in (("supervisor", 200), ("dispatcher", 200), ("jiaojing", 403), ("worker2", 403)):
        r = await client.get(
            "/api/v1/campaign/export", params={"round": round_["id"]}, headers=world.headers(user)
        )
        assert r.status_code == status, (user, r.text)
    h = world.headers("supervisor")
    r = await client.get("/api/v1/campaign/export", params={"round": 999999}, headers=h)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = await client.get("/api/v1/campaign/export", params={"round": round_["id"], "unit": 1}, headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_filter")
    r = await client.get(
        "/api/v1/campaign/export", params={"round": round_["id"], "format": "xlsx"}, headers=h
    )
    assert r.status_code == 422
