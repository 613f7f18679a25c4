"""Talking to an app over HTTP in-process (httpx's ASGI transport), and what every error looks like."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

PROBLEM = "application/problem+json"  # RFC 9457: every native error's media type


async def client_of(application, **transport) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A client of ``application`` (``async for c in client_of(app)``), closed after the loop's body.
    ``transport``: ASGITransport options, e.g. ``raise_app_exceptions=False`` to see a 500 as a client would."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, **transport), base_url="http://test"
    ) as c:
        c.app = application  # type: ignore[attr-defined]
        yield c
