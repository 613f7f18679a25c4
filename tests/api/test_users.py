"""User management (admin), the caller's own account (/me) and API keys: app/users."""

from tests.support.auth import bearer_of, login


async def test_worker_me_lists_patrolled_cells_and_unit_staff_their_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    me = (await client.get("/api/v1/me", headers=world.headers("worker1"))).json()
    assert [g["code"] for g in me["grids"]] == ["620802001"] and me["role_label"] == "网格员"
    me = (await client.get("/api/v1/me", headers=world.headers("jiaojing"))).json()
    assert me["unit"]["name"] == "平凉市公安局交通警察支队崆峒大队"


async def test_admin_creates_a_worker_who_then_logs_in(client, world) -> None:  # type: ignore[no-untyped-def]
    cells = [world.cells["620802001001001"], world.cells["620802001001002"]]
    r = await client.post(
        "/api/v1/users",
        headers=world.headers("admin"),
        json={
            "username": "wang.wei",
            "password": "a long passphrase",
            "role": "worker",
            "display_name": "王伟",
            "grid_ids": cells,
        },
    )
    assert r.status_code == 201, r.text
    assert [g["code"] for g in r.json()["grids"]] == ["620802001001001", "620802001001002"]
    token = (await login(client, "wang.wei", "a long passphrase")).json()["access_token"]
    me = await client.get("/api/v1/me", headers=bearer_of(token))
    assert me.json()["display_name"] == "王伟"


async def test_user_rules_are_422_and_duplicates_409(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    cases = [
        ({"username": "staff1", "password": "long enough", "role": "unit_staff"}, "unit_id"),
        ({"username": "staff2", "password": "long enough", "role": "dispatcher", "unit_id": 1}, "unit_id"),
        (
            {"username": "staff3", "password": "long enough", "role": "unit_staff", "unit_id": 99999},
            "unit_id",
        ),
        (
            {"username": "staff4", "password": "long enough", "role": "supervisor", "grid_ids": [1]},
            "grid_ids",
        ),
        (
            {"username": "staff5", "password": "long enough", "role": "worker", "grid_ids": [99999]},
            "grid_ids",
        ),
        ({"username": "staff6", "password": "short", "role": "worker"}, "password"),
        ({"username": "a b", "password": "long enough", "role": "worker"}, "username"),
        ({"username": "staff7", "password": "long enough", "role": "mayor"}, "role"),
        ({"username": "staff8", "password": "long enough", "role": "worker", "unit_id": 2**40}, "unit_id"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/users", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    r = await client.post(
        "/api/v1/users", headers=h, json={"username": "admin", "password": "long enough", "role": "worker"}
    )
    assert (r.status_code, r.json()["code"]) == (409, "username_taken")


async def test_disabled_user_can_neither_log_in_nor_use_a_token(client, world) -> None:  # type: ignore[no-untyped-def]
    headers = world.headers("worker2")
    user_id = world.users["worker2"][0]
    r = await client.patch(f"/api/v1/users/{user_id}", headers=world.headers("admin"), json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await login(client, "worker2", "demo-worker2-2026")).status_code == 401


async def test_role_change_to_unit_staff_needs_a_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    user_id = world.users["worker2"][0]
    h = world.headers("admin")
    assert (
        await client.patch(f"/api/v1/users/{user_id}", headers=h, json={"role": "unit_staff"})
    ).status_code == 422
    r = await client.patch(
        f"/api/v1/users/{user_id}", headers=h, json={"role": "unit_staff", "unit_id": world.units["市妇联"]}
    )
    assert r.status_code == 200 and r.json()["unit"]["name"] == "市妇联" and r.json()["grids"] == []


async def test_only_admins_manage_users(client, world) -> None:  # type: ignore[no-untyped-def]
    for username in ("worker1", "chengguan", "dispatcher", "supervisor"):
        r = await client.get("/api/v1/users", headers=world.headers(username))
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), username
    names, cursor, pages = [], "", 0
    while cursor is not None:
        query = f"&cursor={cursor}" if cursor else ""
        page = (
            await client.get(f"/api/v1/users?role=unit_staff&limit=3{query}", headers=world.headers("admin"))
        ).json()
        assert len(page["items"]) <= 3
        names += [u["username"] for u in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
    # every unit of the demo has a login (app.demo.builder), in id order
    expected = ["chengguan", "jiaojing", "minzheng", "shilipu", "fulian", "shangwu", "zhujian", "gongshui"]
    assert names == expected and pages == 3


async def test_api_keys_are_shown_once_stored_hashed_and_revocable(client, world, session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    h = world.headers("admin")
    created = (await client.post("/api/v1/api-keys", headers=h, json={"name": "市民随手拍 app"})).json()
    key = created["key"]
    assert key.startswith("gik_")
    listed = (await client.get("/api/v1/api-keys", headers=h)).json()["items"]
    assert [k["name"] for k in listed] == ["市民随手拍 app"] and "key" not in listed[0]
    stored = (await session.execute(text("SELECT key_hash FROM api_keys"))).scalar_one()
    assert key not in stored and len(stored) == 64
    # a key is accepted where machines may call, refused where only people may
    assert (await client.get("/api/v1/categories", headers={"X-API-Key": key})).status_code == 200
    r = await client.get("/api/v1/me", headers={"X-API-Key": key})
    assert r.status_code == 403
    assert (await client.delete(f"/api/v1/api-keys/{created['id']}", headers=h)).status_code == 204
    assert (await client.get("/api/v1/categories", headers={"X-API-Key": key})).status_code == 401
    for bad in ("gik_00000000_nope", "garbage", key[:-1] + ("A" if key[-1] != "A" else "B")):
        assert (await client.get("/api/v1/categories", headers={"X-API-Key": bad})).status_code == 401


async def test_the_last_active_admin_cannot_lock_everyone_out(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: the last admin could disable or demote themselves.
    admin_id = world.users["admin"][0]
    h = world.headers("admin")
    for change in ({"active": False}, {"role": "dispatcher"}):
        r = await client.patch(f"/api/v1/users/{admin_id}", json=change, headers=h)
        assert (r.status_code, r.json()["code"]) == (409, "last_admin"), change
    second = await client.post(
        "/api/v1/users", json={"username": "admin2", "password": "long enough pw", "role": "admin"}, headers=h
    )
    assert second.status_code == 201
    assert (
        await client.patch(f"/api/v1/users/{admin_id}", json={"active": False}, headers=h)
    ).status_code == 200


async def test_usernames_are_case_insensitive(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: usernames were case-sensitive ("ADMIN" beside "admin").
    r = await client.post(
        "/api/v1/users",
        json={"username": "ADMIN", "password": "long enough pw", "role": "worker"},
        headers=world.headers("admin"),
    )
    assert (r.status_code, r.json()["code"]) == (409, "username_taken")
    r = await client.post(
        "/api/v1/users",
        json={"username": "Li.Na", "password": "long enough pw", "role": "worker"},
        headers=world.headers("admin"),
    )
    assert r.json()["username"] == "li.na"
    r = await login(client, "Admin", "demo-admin-2026")
    assert r.status_code == 200
