"""Credentials the way people present them: bearer tokens and logging in (API keys: tests.support.keys)."""

from __future__ import annotations

import httpx

from app.core.security import create_access_token


def bearer(user_id: int | str, role: str, secret: str, minutes: int = 10) -> dict[str, str]:
    """``Authorization`` headers of an access token whose subject is ``user_id``, with ``role``, signed with
    ``secret`` (HS256), valid ``minutes``."""
    token, _ = create_access_token(
        subject=str(user_id), role=role, secret=secret, algorithm="HS256", minutes=minutes
    )
    return bearer_of(token)


def bearer_of(token: str) -> dict[str, str]:
    """``Authorization`` headers presenting ``token`` (RFC 6750), whatever it holds."""
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """``POST /api/v1/auth/token`` with the OAuth2 password form, as a phone app logs in."""
    return await client.post("/api/v1/auth/token", data={"username": username, "password": password})
