"""The interactive API documentation, served whole by the app itself: ``/docs`` (Swagger UI), ``/redoc``
(ReDoc), and their script, stylesheet and icon under ``/docs/assets``.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN, so on a command centre's intranet they
are blank. The assets come from the ``fastapi-offline`` package (MIT; it ships the Swagger UI and ReDoc
builds, whose own licences are Apache-2.0 and MIT), installed with the service as a dependency, so a
wheel or an image carries them and nothing is vendored here. The pages name no other host: no Google
Fonts, no validator badge (Swagger UI's ``validatorUrl`` would load an image from swagger.io), our own
favicon.

Each page carries a Content-Security-Policy that allows only its own origin, plus the exact inline
script the page holds (by its SHA-256, CSP level 2), so the docs keep the API's "nothing runs that we did
not serve" stance instead of having no policy at all.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_PARAMETERS = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    "validatorUrl": None,  # the default sends the document's URL to validator.swagger.io for a badge
    "persistAuthorization": True,  # a reload keeps the token typed into "Authorize"
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(html: str) -> str:
    """A CSP for ``html``: scripts from this origin and the page's own inline scripts (by SHA-256); styles
    from this origin and inline (ReDoc and Swagger UI style elements from script); images and fonts from
    this origin or ``data:``; requests (the OpenAPI document, "Try it out") to this origin only; ReDoc's
    search worker from a ``blob:``. Nothing may frame the page."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}".rstrip()
        + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:"
        "; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'self'"
        "; frame-ancestors 'none'"
    )


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": content_security_policy(html)})


def install_docs(app: FastAPI, title: str) -> None:
    """Serve ``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and the assets on ``app`` (made with
    ``docs_url=None, redoc_url=None``). Plain Starlette routes, as FastAPI's own docs routes are: not
    operations of the API, so not in the OpenAPI document."""
    app.mount(ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect = "/docs/oauth2-redirect"

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
                oauth2_redirect_url=root + redirect,
                swagger_ui_parameters=SWAGGER_PARAMETERS,
            )
        )

    async def swagger_redirect(request: Request) -> HTMLResponse:
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _with_policy(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route(redirect, swagger_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
