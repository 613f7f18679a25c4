"""Taking workflow actions on a case and reading its history, over HTTP."""

from __future__ import annotations

import json

import httpx


async def act(
    client: httpx.AsyncClient,
    world,  # type: ignore[no-untyped-def]
    case_id: int,
    user: str,
    action: str,
    photo: bytes | None = None,
    **fields: object,
) -> httpx.Response:
    """``POST /api/v1/reports/{case_id}/actions`` as ``user``: ``{"action": action, **fields}`` as JSON, or
    with ``photo`` as multipart (an ``action`` part and one ``photos`` part); the response, whatever its
    status."""
    body = {"action": action, **fields}
    url = f"/api/v1/reports/{case_id}/actions"
    headers = world.headers(user)
    if photo is None:
        return await client.post(url, json=body, headers=headers)
    return await client.post(
        url,
        headers=headers,
        files=[
            ("action", (None, json.dumps(body), "application/json")),
            ("photos", ("p.jpg", photo, "image/jpeg")),
        ],
    )


async def history(
    client: httpx.AsyncClient,
    world,  # type: ignore[no-untyped-def]
    case_id: int,
    user: str = "dispatcher",
) -> list[dict]:
    """The case's history rows (``GET /api/v1/reports/{case_id}/events``), oldest first, asserted 200."""
    r = await client.get(f"/api/v1/reports/{case_id}/events", headers=world.headers(user))
    assert r.status_code == 200, r.text
    return r.json()["items"]
