"""Importing grid cells (GeoJSON, admin): real DataV exports, all-or-nothing imports refused by feature,
parents and levels, on_existing=skip, overlaps: app/grids (service.py, geojson.py, topology.py). One cell at
a time and locating points: test_grids.py."""

import pytest

from tests.support.grids import BEIJING, INSIDE_KONGTONG, count_cells, post_import, square
from tests.support.http import PROBLEM
from tests.support.paths import DATA, DEMO_DATA


async def test_real_kongtong_export_imports_as_gcj02_and_locates(empty_client, admin_token) -> None:  # type: ignore[no-untyped-def]
    raw = (DEMO_DATA / "620802.json").read_bytes()  # a bare array of Features, GCJ-02
    r = await post_import(empty_client, raw, admin_token, coord_system="gcj02")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["created"], body["codes"]) == (1, ["620802"])
    assert body["repaired"][0]["index"] == 0  # the export's two parts share an edge
    lat, lon = INSIDE_KONGTONG
    r = await empty_client.get("/api/v1/grids/locate", params={"lat": lat, "lon": lon}, headers=admin_token)
    assert r.status_code == 200
    assert [(c["code"], c["name"], c["level"], c["kind"]) for c in r.json()["chain"]] == [
        ("620802", "崆峒区", 1, "district")
    ]
    r = await empty_client.get(
        "/api/v1/grids/locate", params={"lat": BEIJING[0], "lon": BEIJING[1]}, headers=admin_token
    )
    assert (r.status_code, r.json()["code"], r.headers["content-type"]) == (
        422,
        "outside_service_area",
        PROBLEM,
    )


async def test_import_refuses_invalid_geometry_when_repair_is_off_and_writes_nothing(
    empty_client, admin_token
) -> None:  # type: ignore[no-untyped-def]
    r = await post_import(
        empty_client,
        (DEMO_DATA / "620802.json").read_bytes(),
        admin_token,
        coord_system="gcj02",
        repair="false",
    )
    assert r.status_code == 422
    (err,) = r.json()["errors"]
    assert (err["index"], err["type"], err["field"]) == (0, "geometry_invalid", "features.0.geometry")
    assert await count_cells(empty_client, admin_token) == 0


async def test_real_feature_collection_of_seven_counties(empty_client, admin_token) -> None:  # type: ignore[no-untyped-def]
    r = await post_import(
        empty_client, (DATA / "620800_full.json").read_bytes(), admin_token, coord_system="gcj02"
    )
    assert r.status_code == 201, r.text
    assert sorted(r.json()["codes"]) == ["620802", "620821", "620822", "620823", "620825", "620826", "620881"]
    cells = (await empty_client.get("/api/v1/grids", params={"level": 1}, headers=admin_token)).json()[
        "items"
    ]
    assert len(cells) == 7 and {c["parent_id"] for c in cells} == {None}  # DataV's parent 620800 is not here
    # the other copy of the same counties (bare array) collides on every code, and nothing is written
    r = await post_import(
        empty_client, (DATA / "620800.json").read_bytes(), admin_token, coord_system="gcj02"
    )
    assert r.status_code == 422 and {e["type"] for e in r.json()["errors"]} == {"code_exists"}
    assert len(r.json()["errors"]) == 7


async def test_children_before_parents_in_the_file_and_levels_derived(empty_client, admin_token) -> None:  # type: ignore[no-untyped-def]
    doc = {
        "type": "FeatureCollection",
        "features": [
            square("T001001", 0.0, 0.0, 0.5, parent_code="T001"),
            square("T001", 0.0, 0.0, 1.0, parent_code="T"),
            square("T", 0.0, 0.0, 2.0),
        ],
    }
    r = await post_import(empty_client, doc, admin_token)
    assert r.status_code == 201, r.text
    assert r.json()["codes"] == ["T", "T001", "T001001"]
    chain = (
        await empty_client.get("/api/v1/grids/locate", params={"lat": 0.25, "lon": 0.25}, headers=admin_token)
    ).json()["chain"]
    assert [(c["code"], c["level"]) for c in chain] == [("T001001", 3), ("T001", 2), ("T", 1)]
    # a later import hangs cells under an existing parent
    r = await post_import(empty_client, [square("T002", 1.0, 0.0, 1.0, parent_code="T")], admin_token)
    assert r.status_code == 201
    root = (await empty_client.get("/api/v1/grids", params={"code": "T"}, headers=admin_token)).json()[
        "items"
    ][0]
    under = (
        await empty_client.get("/api/v1/grids", params={"under": root["id"]}, headers=admin_token)
    ).json()
    assert sorted(c["code"] for c in under["items"]) == ["T", "T001", "T001001", "T002"]


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ([square("A", 0, 0), square("B", 1, 1, parent_code="ZZZ")], [(1, "parent_unknown")]),
        ([square("A", 0, 0), square("A", 1, 1)], [(1, "code_duplicate")]),
        ([square("A", 0, 0, parent_code="B"), square("B", 1, 1, parent_code="A")], [(0, "parent_cycle")]),
        ([square("A", 0, 0, level=2), square("B", 0, 0, level=1, parent_code="A")], [(1, "level_invalid")]),
        (
            [
                square("A", 0, 0),
                square("B", 1, 1),
                {
                    "type": "Feature",
                    "properties": {"code": "C", "name": "bow"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                    },
                },
            ],
            [(2, "geometry_invalid")],
        ),
    ],
)
async def test_bad_imports_are_422_by_feature_and_import_nothing(
    empty_client, admin_token, features, expected
) -> None:  # type: ignore[no-untyped-def]
    r = await post_import(empty_client, features, admin_token)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert [(e["index"], e["type"]) for e in r.json()["errors"]] == expected
    assert "未导入任何网格" in r.json()["detail"]  # zh-CN unless the caller asks for English
    assert await count_cells(empty_client, admin_token) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"{not json",
        b'[{"type": "Feature", "geometry": {"coordinates": [NaN]}}]',
        b"\xff\xfe\x00",
        b"",
        b"[]",
        b'"text"',
    ],
)
async def test_bodies_that_are_not_geojson_are_422(empty_client, admin_token, body: bytes) -> None:  # type: ignore[no-untyped-def]
    r = await post_import(empty_client, body, admin_token)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


async def test_import_body_limit_is_413(settings, empty_client, admin_token) -> None:  # type: ignore[no-untyped-def]
    settings.grids.max_import_bytes = 1000
    r = await post_import(empty_client, [square(f"A{i}", i, 0) for i in range(20)], admin_token)
    assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
    assert await count_cells(empty_client, admin_token) == 0


async def test_only_admins_import_and_anonymous_is_401(client, world) -> None:  # type: ignore[no-untyped-def]
    for username in ("worker1", "dispatcher", "supervisor", "jiaojing"):
        r = await post_import(client, [square("X", 0, 0)], world.headers(username))
        assert r.status_code == 403, username
    assert (await post_import(client, [square("X", 0, 0)], {})).status_code == 401


async def test_on_existing_skip_keeps_existing_cells_and_imports_the_rest(empty_client, admin_token) -> None:  # type: ignore[no-untyped-def]
    assert (
        await post_import(
            empty_client, (DEMO_DATA / "620802.json").read_bytes(), admin_token, coord_system="gcj02"
        )
    ).status_code == 201
    before = (await empty_client.get("/api/v1/grids", params={"code": "620802"}, headers=admin_token)).json()[
        "items"
    ]
    r = await post_import(
        empty_client, (DATA / "620800.json").read_bytes(), admin_token, coord_system="gcj02"
    )
    assert r.status_code == 422 and "on_existing=skip" in r.json()["errors"][0]["msg"]
    r = await post_import(
        empty_client,
        (DATA / "620800.json").read_bytes(),
        admin_token,
        coord_system="gcj02",
        on_existing="skip",
    )
    assert r.status_code == 201, r.text
    assert (r.json()["created"], r.json()["skipped"]) == (6, ["620802"])
    after = (await empty_client.get("/api/v1/grids", params={"code": "620802"}, headers=admin_token)).json()[
        "items"
    ]
    assert after == before  # the existing cell is untouched
    r = await post_import(
        empty_client,
        (DATA / "620800.json").read_bytes(),
        admin_token,
        coord_system="gcj02",
        on_existing="skip",
    )
    assert (r.json()["created"], len(r.json()["skipped"])) == (0, 7)
    assert (await post_import(empty_client, b"[]", admin_token, on_existing="merge")).status_code == 422


async def test_overlapping_siblings_and_cells_outside_their_parent_are_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    raw = (DATA / "620800_full.json").read_bytes()
    r = await post_import(client, raw, h, coord_system="gcj02", on_existing="skip")
    assert r.status_code == 201, r.text  # the other six counties sit beside 崆峒区: no overlap
    square = {
        "type": "Polygon",
        "coordinates": [[[106.0, 35.0], [107.5, 35.0], [107.5, 36.0], [106.0, 36.0], [106.0, 35.0]]],
    }
    r = await post_import(
        client, [{"type": "Feature", "geometry": square, "properties": {"code": "BIG", "name": "平凉"}}], h
    )
    assert r.status_code == 422 and {e["type"] for e in r.json()["errors"]} == {"cell_overlap"}
    far = {
        "type": "Polygon",
        "coordinates": [[[100, 30], [100.01, 30], [100.01, 30.01], [100, 30.01], [100, 30]]],
    }
    r = await post_import(
        client,
        [
            {
                "type": "Feature",
                "geometry": far,
                "properties": {"code": "X1", "name": "x", "parent_code": "620802001"},
            }
        ],
        h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "outside_parent"
    street = world.cells["620802001"]
    tiny = {
        "type": "Polygon",
        "coordinates": [
            [[106.69, 35.53], [106.691, 35.53], [106.691, 35.531], [106.69, 35.531], [106.69, 35.53]]
        ],
    }
    r = await client.patch(f"/api/v1/grids/{street}", json={"geometry": tiny}, headers=h)
    assert r.status_code == 422 and {e["type"] for e in r.json()["errors"]} == {"children_outside"}


async def test_a_province_file_over_the_district_is_refused_not_silently_shadowing_it(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer: 平凉市 (620800) imported beside 崆峒区 took every point by the smaller code.
    r = await post_import(
        client,
        (DATA / "620000_full.json").read_bytes(),
        world.headers("admin"),
        coord_system="gcj02",
        on_existing="skip",
    )
    assert r.status_code == 422
    assert {(e["type"], "620802" in e["msg"]) for e in r.json()["errors"]} == {("cell_overlap", True)}
    chain = (
        await client.get(
            "/api/v1/grids/locate", params={"lat": 35.5428, "lon": 106.6652}, headers=world.headers("admin")
        )
    ).json()["chain"]
    assert chain[-1]["code"] == "620802"


@pytest.mark.parametrize(
    ("level", "ok"),
    [
        ("²", True),
        ("9223372036854775808", False),
        ("99999999999", False),
        ("40", False),
        ("3", True),
        ([1], False),
        ("district", True),
    ],
)
async def test_import_levels_given_as_strings(client, world, level: object, ok: bool) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    doc = [{"type": "Feature", "geometry": square, "properties": {"code": "LV", "name": "n", "level": level}}]
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == (201 if ok else 422), r.text


async def test_a_too_deep_chain_of_long_codes_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    doc = [
        {
            "type": "Feature",
            "geometry": square,
            "properties": {
                "code": f"{i:02d}" + "x" * 30,
                "name": "n",
                **({"parent_code": f"{i - 1:02d}" + "x" * 30} if i else {}),
            },
        }
        for i in range(20)
    ]
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == 422 and {e["type"] for e in r.json()["errors"]} == {"tree_too_deep"}
