"""The bare stack that bench/bench_read.py measures the product against: FastAPI and async SQLAlchemy with
the product's own engine factory (``app.core.db.create_engine``, so the same driver, pool and connection
settings), one route doing one primary-key ``session.get()`` of a ``cases`` row, no auth, no middleware.

Run by bench_read.py as ``uvicorn bare_app:create --factory --app-dir bench`` with ``GRID_DATABASE_URL``
set; ``GET /cases/{case_id}`` answers ``{"id", "status", "category_code", "version"}`` or 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cases.models import Case
from app.core.config import DatabaseSettings
from app.core.db import create_engine


def create(database_url: str | None = None) -> FastAPI:
    """The bare app; its database settings are read from the environment as the product's are
    (``database_url``, when given, replaces ``GRID_DATABASE_URL``)."""
    settings = DatabaseSettings()
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            connect_timeout_s=settings.database_connect_timeout_s,
            command_timeout_s=settings.database_command_timeout_s,
        )
        # The product's read sessions are plain (DEFERRED on SQLite) sessions that keep loaded objects.
        app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/cases/{case_id}")
    async def get_case(case_id: int, request: Request) -> dict[str, Any]:
        async with request.app.state.sessionmaker() as session:
            case = await session.get(Case, case_id)
            if case is None:
                raise HTTPException(404)
            return {
                "id": case.id,
                "status": case.status,
                "category_code": case.category_code,
                "version": case.version,
            }

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
