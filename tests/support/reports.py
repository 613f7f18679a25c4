"""Filing reports the way phone apps do: a JSON body, or multipart with a ``report`` part and photos."""

from __future__ import annotations

import json
from typing import Any

import httpx

CENTRE = {"lat": 35.5428, "lon": 106.6652}  # a 中街街道 cell, WGS-84; worker2's, parking goes to 交警
EAST = {"lat": 35.54, "lon": 106.6920}  # 东关街道, worker1's
REPORT = {"category_code": "06010", **CENTRE}  # exposed rubbish (暴露垃圾) at CENTRE: goes to 中街's 市妇联


def report_files(
    report: dict[str, Any] | str | bytes,
    photos: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    content_type: str = "application/json",
    field: str = "photos",
    after: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
) -> list[tuple[str, tuple]]:
    """httpx ``files`` for a multipart report: the ``report`` part (a dict is sent as JSON, text and bytes
    as they are, with ``content_type``), then ``photos`` as ``field`` parts, then ``after`` as
    ``after_photos`` parts (a self-handled report's proof). Photos are ``(file name, bytes)``."""
    body = report if isinstance(report, (str, bytes)) else json.dumps(report)
    files: list[tuple[str, tuple]] = [("report", (None, body, content_type))]
    files += [(field, (name, data, "image/jpeg")) for name, data in photos]
    files += [("after_photos", (name, data, "image/jpeg")) for name, data in after]
    return files


async def post_report(
    client: httpx.AsyncClient,
    world,  # type: ignore[no-untyped-def]
    report: dict[str, Any] | str | bytes,
    photos: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    *,
    user: str = "worker2",
    headers: dict[str, str] | None = None,
    **parts: Any,
) -> httpx.Response:
    """``POST /api/v1/reports`` as ``user``, multipart (``parts``: the other options of report_files);
    the response, whatever its status."""
    return await client.post(
        "/api/v1/reports",
        headers={**world.headers(user), **(headers or {})},
        files=report_files(report, list(photos), **parts),
    )


async def file_report(
    client: httpx.AsyncClient,
    world,  # type: ignore[no-untyped-def]
    category: str = "09009",
    *,
    user: str = "worker2",
    where: dict[str, float] = CENTRE,
    **fields: Any,
) -> dict:
    """A case filed with a JSON body by ``user`` at ``where`` (WGS-84), asserted 201: its JSON. By default
    illegal parking (09009) in 中街, which the demo routes to the traffic brigade (交警) and dispatches."""
    r = await client.post(
        "/api/v1/reports", json={"category_code": category, **where, **fields}, headers=world.headers(user)
    )
    assert r.status_code == 201, r.text
    return r.json()


async def add_photos(
    client: httpx.AsyncClient,
    world,  # type: ignore[no-untyped-def]
    case_id: int,
    user: str,
    stage: str,
    photos: list[tuple[str, bytes]],
) -> httpx.Response:
    """``POST /api/v1/reports/{case_id}/photos`` as ``user``: evidence ``photos`` (file name, bytes) of
    ``stage`` (report, resolution, check); the response, whatever its status."""
    return await client.post(
        f"/api/v1/reports/{case_id}/photos",
        headers=world.headers(user),
        files=[("stage", (None, stage)), *[("photos", (name, data, "image/jpeg")) for name, data in photos]],
    )


async def delete_case(
    client: httpx.AsyncClient,
    world,  # type: ignore[no-untyped-def]
    case_id: int,
    user: str = "admin",
    reason: str = "误报: 测试数据",
) -> httpx.Response:
    """``DELETE /api/v1/reports/{case_id}?reason=...`` as ``user``; the response, whatever its status."""
    return await client.delete(
        f"/api/v1/reports/{case_id}", params={"reason": reason}, headers=world.headers(user)
    )
