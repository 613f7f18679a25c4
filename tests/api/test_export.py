"""Streamed exports: CSV (zh/en labels, spreadsheet-safe) and GeoJSON ([lon, lat]) with the list's filters:
app/reports/export.py."""

import csv
import io

from tests.support.reports import CENTRE, EAST, delete_case, file_report


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # spreadsheet programs need the BOM to read UTF-8
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


async def test_csv_export_has_labels_in_both_languages_and_neutralises_formulas(client, world) -> None:  # type: ignore[no-untyped-def]
    a = await file_report(client, world, description='=HYPERLINK("http://evil")', address="+1 路口")
    b = await file_report(client, world, description='井盖破损, "两处"\n第二行')
    h = world.headers("supervisor")
    r = await client.get("/api/v1/reports/export", params={"format": "csv"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="cases-')
    rows = _rows(r.content)
    header = rows[0]
    assert header[:3] == ["编号", "案件号", "状态"] and "责任单位" in header
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_id) == {a["id"], b["id"]}
    assert (
        by_id[a["id"]]["问题描述"] == '\'=HYPERLINK("http://evil")' and by_id[a["id"]]["地址"] == "'+1 路口"
    )
    assert by_id[b["id"]]["问题描述"] == '井盖破损, "两处"\n第二行'
    assert by_id[a["id"]]["状态"] == "已派遣" and by_id[a["id"]]["类别"] == "机动车乱停放"
    assert by_id[a["id"]]["责任单位"] == "平凉市公安局交通警察支队崆峒大队"
    assert float(by_id[a["id"]]["经度"]) == CENTRE["lon"] and float(by_id[a["id"]]["纬度"]) == CENTRE["lat"]
    en = _rows((await client.get("/api/v1/reports/export", params={"lang": "en"}, headers=h)).content)
    assert en[0][:3] == ["id", "tracking code", "status"] and en[1][2] == "dispatched"
    by_header = _rows(
        (await client.get("/api/v1/reports/export", headers={**h, "Accept-Language": "en"})).content
    )
    assert by_header[0] == en[0]


async def test_export_applies_filters_visibility_and_deletion(client, world) -> None:  # type: ignore[no-untyped-def]
    centre = await file_report(client, world)
    east = await file_report(client, world, user="worker1", where=EAST)
    gone = await file_report(client, world)
    assert (await delete_case(client, world, gone["id"], reason="测试")).status_code == 204

    async def exported(user, **params):  # type: ignore[no-untyped-def]
        r = await client.get("/api/v1/reports/export", params=params, headers=world.headers(user))
        assert r.status_code == 200, r.text
        return [int(row[0]) for row in _rows(r.content)[1:]]

    assert await exported("supervisor") == [centre["id"], east["id"]]
    assert await exported("supervisor", grid=world.cells["620802001"]) == [east["id"]]
    assert await exported("worker1") == [east["id"]]  # a worker exports only what they may see
    assert await exported("minzheng") == []
    assert await exported("supervisor", status="closed") == []
    r = await client.get(
        "/api/v1/reports/export", params={"format": "xlsx"}, headers=world.headers("supervisor")
    )
    assert r.status_code == 422
    r = await client.get("/api/v1/reports/export", params={"limit": 5}, headers=world.headers("supervisor"))
    assert r.status_code == 422 and r.json()["code"] == "unsupported_filter"
    assert (await client.get("/api/v1/reports/export")).status_code == 401


async def test_geojson_export_is_a_feature_collection_in_lon_lat(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    ids = [(await file_report(client, world))["id"] for _ in range(5)]
    r = await client.get(
        "/api/v1/reports/export",
        params={"format": "geojson", "lang": "en"},
        headers=world.headers("dispatcher"),
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and [f["id"] for f in doc["features"]] == ids
    feature = doc["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [CENTRE["lon"], CENTRE["lat"]]}
    assert (
        feature["properties"]["status"] == "dispatched"
        and feature["properties"]["category"] == "Illegal parking"
    )
    empty = await client.get(
        "/api/v1/reports/export",
        params={"format": "geojson", "status": "closed"},
        headers=world.headers("dispatcher"),
    )
    assert empty.json() == {"type": "FeatureCollection", "features": []}


async def test_export_reads_in_batches_across_many_rows(client, world, app) -> None:  # type: ignore[no-untyped-def]
    app.state.settings.reports.export_batch_rows = 100
    ids = [(await file_report(client, world))["id"] for _ in range(230)]
    r = await client.get(
        "/api/v1/reports/export", params={"format": "geojson"}, headers=world.headers("dispatcher")
    )
    assert [f["id"] for f in r.json()["features"]] == ids
    rows = _rows((await client.get("/api/v1/reports/export", headers=world.headers("dispatcher"))).content)
    assert [int(row[0]) for row in rows[1:]] == ids


async def test_formulas_behind_blanks_or_in_full_width_are_neutralised_too(client, world) -> None:  # type: ignore[no-untyped-def]
    texts = [" =1+1", "\u00a0@SUM(A1)", "\ufeff-2+3", '＝HYPERLINK("x")', "\u200b+cmd"]
    for text in texts:
        await file_report(client, world, description=text)
    rows = _rows((await client.get("/api/v1/reports/export", headers=world.headers("supervisor"))).content)
    column = rows[0].index("问题描述")
    assert [row[column] for row in rows[1:]] == ["'" + t for t in texts]


async def test_export_labels_states_in_chinese_and_says_whether_handled_on_time(client, world) -> None:  # type: ignore[no-untyped-def]
    await file_report(client, world)
    rows = _rows((await client.get("/api/v1/reports/export", headers=world.headers("supervisor"))).content)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["优先级"], row["来源"], row["亮灯"], row["按期处置"]) == (
        "一般",
        "APP/工作台上报",
        "绿灯",
        "",
    )
