"""The ASGI application: ``create_app()`` wires settings, database, routers and error rendering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from app.auth.router import router as auth_router
from app.categories.router import router as categories_router
from app.core.config import Settings, get_settings
from app.core.db import Database, create_engine
from app.core.errors import PROBLEM_MEDIA_TYPE, RefuseNulInQuery, install_error_handlers
from app.core.http import BodyLimit, RequestContext
from app.core.ops import router as ops_router
from app.grids.index import GridIndexCache
from app.grids.router import router as grids_router
from app.open311.router import render_error as open311_error
from app.open311.router import router as open311_router
from app.photos.router import router as photos_router
from app.photos.service import PhotoWorkshop
from app.reports.export import router as export_router
from app.reports.listing import router as listing_router
from app.reports.router import router as reports_router
from app.routing.router import router as routing_router
from app.stats.router import router as stats_router
from app.units.router import router as units_router
from app.workflow.calendar_data import CalendarCache
from app.workflow.calendar_router import router as calendar_router
from app.workflow.router import router as workflow_router

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string", "example": "outside_service_area"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "loc": {"type": "array", "items": {}}, "field": {"type": "string"}, "msg": {"type": "string"},
            "type": {"type": "string"}, "index": {"type": "integer"}}}},
    },
}


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The service. ``database`` lets tests bind it to one connection; otherwise the settings' URL is used."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if database is None:
            owned = create_engine(settings.database.database_url, echo=settings.database.database_echo,
                                  pool_size=settings.database.database_pool_size)
            app.state.db = Database(owned)
        yield
        await app.state.workshop.drain()
        app.state.workshop.close()
        if owned is not None:
            await owned.dispose()

    app = FastAPI(title="Grid Inspector", version="0.1.0", lifespan=lifespan, redirect_slashes=False,
                  description="Grid-based urban management (网格化管理): grid cells, partner units, categories, "
                              "routing and the case loop. Errors are RFC 9457 problem+json with a stable `code`.")
    app.state.settings = settings
    app.state.grid_index = GridIndexCache()
    app.state.workshop = PhotoWorkshop(settings)
    app.state.calendars = CalendarCache(settings.workflow_tz)
    if database is not None:
        app.state.db = database
    install_error_handlers(app, renderers=[("/open311/", open311_error)])
    app.add_middleware(RefuseNulInQuery)
    if settings.cors_origins:
        anyone = settings.cors_origins == ["*"]
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=not anyone,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key", "Idempotency-Key", "If-Match",
                                          "X-Request-ID", "Accept-Language"],
                           expose_headers=["ETag", "Location", "X-Request-ID", "Idempotent-Replayed"], max_age=600)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RequestContext)  # outermost: every response gets its id and headers
    # The export's fixed path comes before the reports' /{case_id}.
    for router in (auth_router, grids_router, units_router, categories_router, routing_router, export_router,
                   listing_router, reports_router, workflow_router, photos_router, calendar_router, stats_router,
                   open311_router, ops_router):
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, title in (("401", "Not authenticated"), ("403", "Not allowed"), ("422", "Not valid")):
                    responses[status] = {"description": title, "content": {
                        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
