"""The ASGI application: ``create_app()`` wires settings, database, routers and error rendering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from app.auth.permissions import EVERY_ROLE, Allow, Unauthenticated
from app.auth.router import router as auth_router
from app.campaign.permissions import inspects_round
from app.campaign.round_schemas import VisitIn
from app.campaign.routers.boards import router as campaign_boards_router
from app.campaign.routers.checklists import router as campaign_checklists_router
from app.campaign.routers.export import router as campaign_export_router
from app.campaign.routers.negative import router as campaign_negative_router
from app.campaign.routers.notices import router as campaign_notices_router
from app.campaign.routers.points import router as campaign_points_router
from app.campaign.routers.rounds import router as campaign_rounds_router
from app.campaign.routers.scores import router as campaign_scores_router
from app.campaign.routers.visits import router as campaign_visits_router
from app.categories.router import router as categories_router
from app.core.config import Settings, get_settings
from app.core.db import Database, create_engine
from app.core.docs import install_docs
from app.core.errors import RefuseNulInQuery, install_error_handlers
from app.core.http import BodyLimit, RequestContext
from app.core.openapi import build as build_openapi
from app.deadlines.router import router as calendar_router
from app.grids.index import GridIndexCache
from app.grids.router import router as grids_router
from app.notifications import deadlines as deadline_sweeper
from app.notifications import worker as delivery_worker
from app.notifications.router import router as notifications_router
from app.open311.router import render_error as open311_error
from app.open311.router import router as open311_router
from app.ops import router as ops_router
from app.photos.service import PhotoWorkshop
from app.reports.export import router as export_router
from app.reports.listing import router as listing_router
from app.reports.photos import router as photos_router
from app.reports.router import router as reports_router
from app.reports.schemas import ReportIn
from app.routing.router import router as routing_router
from app.stats.router import router as stats_router
from app.subscriptions import event_bus
from app.units.router import router as units_router
from app.users.router import router as users_router
from app.workflow.permissions import checked_on_site_by
from app.workflow.router import router as workflow_router
from app.workflow.schemas import ActionIn


class _Background:
    """Work a serving process does besides answering: delivering notifications and sweeping deadlines
    (docs/notifications.md); every process may run it, they share the work through the database."""

    def __init__(self, tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
        self.tasks, self._stop = tasks, stop

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _start_background(db: Database, settings: Settings) -> _Background | None:
    if not settings.notify.notify_worker:
        return None
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(delivery_worker.run(db, settings, stop)),
        asyncio.create_task(deadline_sweeper.run(db, settings, stop)),
    ]
    return _Background(tasks, stop)


def _allows(dependant: Dependant) -> list[Allow]:
    found = [dependant.call] if isinstance(dependant.call, Allow) else []
    for sub in dependant.dependencies:
        found.extend(_allows(sub))
    return found


def callers(route: APIRoute) -> tuple[bool, bool]:
    """Whether ``route`` reads credentials (may answer 401) and turns some callers away (403), from its
    :class:`Allow` declaration, for the OpenAPI document."""
    allows = _allows(route.dependant)
    if not allows:
        return True, True
    allow = allows[0]
    if isinstance(allow, Unauthenticated):
        return False, False
    return True, not (allow.public or (allow.roles >= set(EVERY_ROLE) and allow.api_keys))


# The document's sections, in reading order (Swagger UI shows them so, whatever order routes are matched in).
TAGS = [
    {
        "name": "auth",
        "description": "登录、当前用户、账号与 API key · logging in, the caller, accounts and API keys",
    },
    {"name": "grids", "description": "网格 · grid cells: import, locate a point"},
    {"name": "units", "description": "包抓共建单位与包抓关系 · partner units and their assignments"},
    {"name": "categories", "description": "案件类别 · the category catalogue"},
    {"name": "routing", "description": "派遣规则预览 · who would get a case, and why"},
    {"name": "reports", "description": "上报、案件查询与导出 · filing reports, reading and exporting cases"},
    {"name": "workflow", "description": "案件流转 · the case loop: dispatch, handle, check, close; history"},
    {"name": "photos", "description": "照片证据 · evidence photos (no EXIF position served)"},
    {"name": "calendar", "description": "工作日历 · working days and holidays for deadlines"},
    {"name": "stats", "description": "考核统计 · assessment figures and the dashboard"},
    {"name": "notifications", "description": "推送 · webhooks, WeCom, DingTalk, Feishu"},
    {"name": "campaign", "description": "创文实地考察 · the civilised-city field assessment"},
    {"name": "open311", "description": "Open311 GeoReport v2"},
    {"name": "operations", "description": "运维 · health, readiness, metrics"},
]


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The service. ``database`` lets tests bind it to one connection; otherwise the settings' URL is used."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if database is None:
            db = settings.database
            owned = create_engine(
                db.database_url,
                echo=db.database_echo,
                pool_size=db.database_pool_size,
                connect_timeout_s=db.database_connect_timeout_s,
                command_timeout_s=db.database_command_timeout_s,
            )
            app.state.db = Database(owned)
        background = _start_background(app.state.db, settings) if owned is not None else None
        yield
        if background is not None:
            await background.stop()
        await app.state.workshop.drain()
        app.state.workshop.close()
        if owned is not None:
            await owned.dispose()

    app = FastAPI(
        title="Grid Inspector",
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # served by app.core.docs from the package, not from a CDN
        redoc_url=None,
        description="Grid-based urban management (网格化管理): grid cells, partner units, categories, "
        "routing and the case loop. Errors are RFC 9457 problem+json with a stable `code`.",
        openapi_tags=TAGS,
    )
    app.state.settings = settings
    app.state.bus = event_bus(settings)  # the handlers of each domain event: app/subscriptions.py
    checked_on_site_by("inspection", inspects_round)  # a round's inspectors re-inspect its failures (复查)
    app.state.grid_index = GridIndexCache()
    app.state.workshop = PhotoWorkshop(settings)
    if database is not None:
        app.state.db = database
    install_docs(app, app.title)
    install_error_handlers(app, renderers=[("/open311/", open311_error)])
    app.add_middleware(RefuseNulInQuery)
    if settings.cors_origins:
        anyone = settings.cors_origins == ["*"]
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=not anyone,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "Idempotency-Key",
                "If-Match",
                "X-Request-ID",
                "Accept-Language",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Request-ID",
                "Idempotent-Replayed",
                "Retry-After",
                "Content-Disposition",
                "Content-Language",
            ],
            max_age=600,
        )
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RequestContext)  # outermost: every response gets its id and headers
    # FastAPI tries routes in the order their routers were included, a few microseconds each (about 150 µs to
    # reach the last of ~120 routes): the case routes that phones and dispatchers call all day come first.
    # The export's fixed path must come before the reports' /{case_id}. The document's order is TAGS.
    for router in (
        listing_router,
        export_router,
        reports_router,
        workflow_router,
        photos_router,
        auth_router,
        campaign_visits_router,
        grids_router,
        categories_router,
        units_router,
        users_router,
        routing_router,
        stats_router,
        calendar_router,
        notifications_router,
        campaign_checklists_router,
        campaign_points_router,
        campaign_rounds_router,
        campaign_scores_router,
        campaign_boards_router,
        campaign_negative_router,
        campaign_notices_router,
        campaign_export_router,
        open311_router,
        ops_router,
    ):
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = build_openapi(app, [ReportIn, ActionIn, VisitIn], callers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
