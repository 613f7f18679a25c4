"""API keys, the credentials of third-party servers (Open311 clients, citizen apps)."""

from __future__ import annotations

import httpx


async def new_api_key(client: httpx.AsyncClient, admin: dict[str, str], name: str = "app") -> dict:
    """A new API key made through ``POST /api/v1/api-keys`` by an admin (``admin``: their headers):
    the created JSON, ``{"id", "name", "key", ...}`` (the key is shown this once)."""
    r = await client.post("/api/v1/api-keys", json={"name": name}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()
