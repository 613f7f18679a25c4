"""/docs and /redoc work on a network with no way out (issue 14, item 4): the pages and every asset they
reference come from the app itself, and their Content-Security-Policy allows nothing else."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest


class _References(HTMLParser):
    """Every ``src``/``href`` of a page, and the bodies of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        self._in_script = tag == "script" and "src" not in found

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


def _policy(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_everything_from_the_app(client, page) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", r.text, re.I), "an external host is named"
    parsed = _References()
    parsed.feed(r.text)
    assert any(u.endswith(".js") for u in parsed.urls)
    assert any("favicon" in u for u in parsed.urls)
    for url in parsed.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
        kind = asset.headers["content-type"]
        assert kind.startswith(("text/javascript", "application/javascript", "text/css", "image/")), kind
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")


async def test_docs_policy_allows_only_the_app_and_the_page_s_own_scripts(client) -> None:  # type: ignore[no-untyped-def]
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        r = await client.get(page)
        assert r.status_code == 200
        policy = _policy(r.headers["content-security-policy"])
        parsed = _References()
        parsed.feed(r.text)
        hashes = {
            "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
            for body in parsed.inline
        }
        assert set(policy["script-src"]) == {"'self'"} | hashes, page
        assert policy["default-src"] == ["'none'"] and policy["connect-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        for values in policy.values():
            assert not any(
                v.startswith(("http", "*")) or "." in v.strip("'") for v in values if "sha256" not in v
            )
    swagger = (await client.get("/docs")).text
    assert '"validatorUrl": null' in swagger  # no badge image from swagger.io


async def test_docs_assets_are_api_answers_elsewhere(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/docs/assets/nothing.js")
    assert r.status_code == 404
    r = await client.get("/api/v1/categories")
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
