"""Logging in and access tokens: app/auth (users, /me and API keys: test_users.py; who may call each route:
test_route_declarations.py, test_authorization_matrix.py)."""

import datetime as dt

import jwt

from app.core.security import create_access_token
from tests.support.auth import bearer, bearer_of, login
from tests.support.http import PROBLEM


async def test_demo_admin_logs_in_and_reads_me(client) -> None:  # type: ignore[no-untyped-def]
    r = await login(client, "admin", "demo-admin-2026")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60
    me = await client.get("/api/v1/me", headers=bearer_of(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "admin" and me.json()["role"] == "admin"


async def test_wrong_password_and_unknown_user_look_the_same(client) -> None:  # type: ignore[no-untyped-def]
    for username, password in (("admin", "wrong-password"), ("nobody", "demo-admin-2026")):
        r = await login(client, username, password)
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
        assert r.json()["code"] == "invalid_credentials"


async def test_missing_forged_and_expired_tokens_are_401(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/me")).json()["code"] == "not_authenticated"
    user_id, role = world.users["admin"]
    forged, _ = create_access_token(
        subject=str(user_id),
        role=role,
        secret="another-secret-another-secret-0000",
        algorithm="HS256",
        minutes=5,
    )
    expired, _ = create_access_token(
        subject=str(user_id),
        role=role,
        secret=settings.auth.secret_key,
        algorithm="HS256",
        minutes=5,
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    unsigned = jwt.encode({"sub": str(user_id), "typ": "access"}, key=None, algorithm="none")
    for token in (forged, expired, unsigned, "not.a.jwt"):
        r = await client.get("/api/v1/me", headers=bearer_of(token))
        assert r.status_code == 401, token
        assert r.headers["www-authenticate"] == "Bearer"


async def test_tokens_whose_subject_is_not_a_user_id_are_401(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    for sub in (str(2**63), str(2**31), "0", "-1", "١", "abc"):
        r = await client.get("/api/v1/me", headers=bearer(sub, "admin", settings.auth.secret_key, minutes=5))
        assert r.status_code == 401, sub
