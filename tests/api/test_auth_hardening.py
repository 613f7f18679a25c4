"""Issue 15, items 5 and 7: a bearer token dies with a password change, a deactivation and a logout (and a
token of the old credentials stamped in the same second as the change dies with it too); a unit's contact
and phone are for the command centre and the unit's own staff only."""

from __future__ import annotations

import datetime as dt

import jwt

from app.core.security import create_access_token

PASSWORD, NEW_PASSWORD = "a long passphrase", "another long passphrase"


async def _login(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _new_worker(client, world, username: str) -> int:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/users",
        headers=world.headers("admin"),
        json={"username": username, "password": PASSWORD, "role": "worker"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _me(client, headers: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    return (await client.get("/api/v1/me", headers=headers)).status_code


async def test_a_password_change_revokes_earlier_tokens_and_the_next_login_works(client, world) -> None:  # type: ignore[no-untyped-def]
    user_id = await _new_worker(client, world, "rev.password")
    phone, desktop = (
        await _login(client, "rev.password", PASSWORD),
        await _login(client, "rev.password", PASSWORD),
    )
    assert await _me(client, phone) == await _me(client, desktop) == 200
    r = await client.patch(
        f"/api/v1/users/{user_id}", headers=world.headers("admin"), json={"password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    fresh = await _login(client, "rev.password", NEW_PASSWORD)  # most likely in the same second
    assert await _me(client, phone) == await _me(client, desktop) == 401
    assert await _me(client, fresh) == 200
    r = await client.get("/api/v1/me", headers=phone)
    assert r.json()["code"] == "not_authenticated" and r.headers["www-authenticate"] == "Bearer"


async def test_a_token_of_the_old_credentials_issued_in_the_same_second_does_not_survive_the_change(  # type: ignore[no-untyped-def]
    client, world, settings
) -> None:
    """Whole-second ``iat`` cannot order a token against a change made in the same second: a login that checked
    the old password while the change was committing gets a token stamped with (or after) the change's
    second. Revocation must not be decided by comparing times."""
    user_id = await _new_worker(client, world, "rev.clock")
    token = (await _login(client, "rev.clock", PASSWORD))["Authorization"].removeprefix("Bearer ")
    generation = jwt.decode(token, settings.auth.secret_key, algorithms=["HS256"])["gen"]
    r = await client.patch(
        f"/api/v1/users/{user_id}", headers=world.headers("admin"), json={"password": NEW_PASSWORD}
    )
    assert r.status_code == 200
    changed = dt.datetime.now(dt.UTC)
    late, _ = create_access_token(  # what that login answered: the old generation, stamped after the change
        subject=str(user_id),
        role="worker",
        secret=settings.auth.secret_key,
        algorithm="HS256",
        minutes=10,
        now=changed,
        generation=generation,
    )
    assert jwt.decode(late, settings.auth.secret_key, algorithms=["HS256"])["iat"] >= int(changed.timestamp())
    assert await _me(client, {"Authorization": f"Bearer {late}"}) == 401
    assert await _me(client, {"Authorization": f"Bearer {token}"}) == 401
    assert await _me(client, await _login(client, "rev.clock", NEW_PASSWORD)) == 200


async def test_a_token_from_before_a_deactivation_stays_dead_after_reactivation(client, world) -> None:  # type: ignore[no-untyped-def]
    user_id = await _new_worker(client, world, "rev.active")
    before = await _login(client, "rev.active", PASSWORD)
    admin = world.headers("admin")
    for active in (False, True):
        r = await client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": active})
        assert r.status_code == 200, r.text
    assert await _me(client, before) == 401
    assert await _me(client, await _login(client, "rev.active", PASSWORD)) == 200


async def test_edits_that_are_not_about_credentials_keep_the_user_logged_in(client, world) -> None:  # type: ignore[no-untyped-def]
    user_id = await _new_worker(client, world, "rev.rename")
    token = await _login(client, "rev.rename", PASSWORD)
    admin = world.headers("admin")
    for change in (
        {"display_name": "改名"},
        {"grid_ids": [world.cells["620802001001001"]]},
        {"active": True},
    ):
        assert (await client.patch(f"/api/v1/users/{user_id}", headers=admin, json=change)).status_code == 200
    assert await _me(client, token) == 200


async def test_logout_revokes_every_token_of_the_caller_and_nobody_elses(client, world) -> None:  # type: ignore[no-untyped-def]
    await _new_worker(client, world, "rev.logout")
    phone, desktop = (
        await _login(client, "rev.logout", PASSWORD),
        await _login(client, "rev.logout", PASSWORD),
    )
    other = world.headers("worker2")
    r = await client.post("/api/v1/auth/logout", headers=phone)
    assert r.status_code == 204 and r.content == b""
    assert await _me(client, phone) == await _me(client, desktop) == 401
    assert await _me(client, other) == 200
    assert (await client.post("/api/v1/auth/logout", headers=phone)).status_code == 401  # already gone
    assert await _me(client, await _login(client, "rev.logout", PASSWORD)) == 200


async def test_logout_is_for_users_not_keys_or_strangers(client, world) -> None:  # type: ignore[no-untyped-def]
    key = (
        await client.post("/api/v1/api-keys", headers=world.headers("admin"), json={"name": "logout"})
    ).json()["key"]
    r = await client.post("/api/v1/auth/logout", headers={"X-API-Key": key})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await client.post("/api/v1/auth/logout")
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")


async def _units_seen_by(client, world, username: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/units", params={"limit": 200}, headers=world.headers(username))
    assert r.status_code == 200, r.text
    return {u["name"]: u for u in r.json()["items"]}


async def test_unit_contacts_are_for_the_command_centre_and_the_units_own_staff(client, world) -> None:  # type: ignore[no-untyped-def]
    brigade, bureau = "平凉市公安局交通警察支队崆峒大队", "崆峒区城市管理综合执法局"
    admin = world.headers("admin")
    for name, phone in ((brigade, "0933-1111111"), (bureau, "0933-2222222")):
        r = await client.patch(
            f"/api/v1/units/{world.units[name]}", headers=admin, json={"contact": "值班室", "phone": phone}
        )
        assert r.status_code == 200 and r.json()["phone"] == phone
    for username in ("dispatcher", "supervisor", "admin"):
        seen = await _units_seen_by(client, world, username)
        assert (seen[brigade]["phone"], seen[bureau]["phone"]) == ("0933-1111111", "0933-2222222"), username
        assert seen[brigade]["contact"] == "值班室"
    staff = await _units_seen_by(client, world, "jiaojing")  # the brigade's staff
    assert (staff[brigade]["contact"], staff[brigade]["phone"]) == ("值班室", "0933-1111111")
    assert (staff[bureau]["contact"], staff[bureau]["phone"]) == (None, None)
    assert staff[bureau]["name"] == bureau  # names stay public to staff
    workers = await _units_seen_by(client, world, "worker2")
    assert all((u["contact"], u["phone"]) == (None, None) for u in workers.values())
    for username, unit, shown in (
        ("worker2", brigade, None),
        ("chengguan", brigade, None),
        ("jiaojing", brigade, "0933-1111111"),
        ("chengguan", bureau, "0933-2222222"),
        ("supervisor", bureau, "0933-2222222"),
    ):
        r = await client.get(f"/api/v1/units/{world.units[unit]}", headers=world.headers(username))
        assert r.status_code == 200 and r.json()["phone"] == shown, (username, unit, r.json())
