"""The ASGI application: ``create_app()`` wires settings, database, routers and error rendering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.auth.router import router as auth_router
from app.categories.router import router as categories_router
from app.core.config import Settings, get_settings
from app.core.db import Database, create_engine
from app.core.errors import RefuseNulInQuery, install_error_handlers
from app.core.http import BodyLimit, RequestContext
from app.core.openapi import build as build_openapi
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
from app.reports.schemas import ReportIn
from app.routing.router import router as routing_router
from app.stats.router import router as stats_router
from app.units.router import router as units_router
from app.workflow.calendar_data import CalendarCache
from app.workflow.calendar_router import router as calendar_router
from app.workflow.router import router as workflow_router
from app.workflow.schemas import ActionIn


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The service. ``database`` lets tests bind it to one connection; otherwise the settings' URL is used."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if database is None:
            db = settings.database
            owned = create_engine(db.database_url, echo=db.database_echo, pool_size=db.database_pool_size,
                                  connect_timeout_s=db.database_connect_timeout_s,
                                  command_timeout_s=db.database_command_timeout_s)
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
        if not app.openapi_schema:
            app.openapi_schema = build_openapi(app, [ReportIn, ActionIn])
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
