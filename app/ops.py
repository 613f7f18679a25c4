"""Operators' endpoints: ``/healthz`` (the process answers), ``/readyz`` (database reachable, schema at
the migrations' head, photo storage writable: 503 naming what is not) and ``/metrics`` (Prometheus text;
with ``GRID_METRICS_TOKEN`` set, only with that token as the HTTP basic-auth password)."""

from __future__ import annotations

import base64
import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from app.auth.permissions import Probe
from app.cases.models import Case
from app.cases.queries import light_condition
from app.core import bootstrap, metrics
from app.core.db import utcnow
from app.core.errors import AppError, Forbidden, Unauthorized, declare, problem_response
from app.core.i18n import Text
from app.core.openapi import errors

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Liveness: the process answers (public)",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz(_: Probe) -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database, schema at head, storage writable (public)",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ready"}}}},
        **errors(declare(AppError, "not_ready", 503)),
    },
)
async def readyz(request: Request, _: Probe) -> Any:
    state = request.app.state
    failures = []
    try:
        current = await bootstrap.current_revision(state.db.engine)
        if current != bootstrap.head_revision(state.settings.database.database_url):
            failures.append(f"schema at {current}, not at the migrations' head: run grid-inspector migrate")
    except Exception:
        failures.append("the database does not answer")
    try:
        if not await state.workshop.run(state.workshop.storage.writable):
            failures.append("photo storage is not writable")
    except Exception:
        failures.append("photo storage does not answer")
    if failures:
        return problem_response(
            503,
            "not_ready",
            "The service is not ready",
            "; ".join(failures),
            headers={"Retry-After": "5"},
            failures=failures,
        )
    return {"status": "ready"}


def _basic_password(request: Request) -> str:
    # Basic, not Bearer: a bearer credential is read as a user's access token before any endpoint runs,
    # and Prometheus' scrape config speaks basic_auth.
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8").partition(":")[2]
    except (ValueError, UnicodeDecodeError):
        return ""


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses=errors(Unauthorized, Forbidden),
)
async def prometheus(request: Request, _: Probe) -> Response:
    settings = request.app.state.settings
    token = settings.metrics_token
    if not token and settings.env == "production":
        # Case counts and traffic are the city's business: in production only with the operators' token.
        raise Forbidden(
            Text(
                "指标未开放：请设置 GRID_METRICS_TOKEN，并以它作为 basic-auth 密码采集",
                "metrics are off: set GRID_METRICS_TOKEN and scrape with it as the basic-auth password",
            )
        )
    if token and not hmac.compare_digest(_basic_password(request).encode(), token.encode()):
        raise Unauthorized(
            Text(
                "采集指标需要运维令牌（HTTP basic auth，用户名任意）",
                "metrics need the operators' token (HTTP basic auth, any user name)",
            ),
            headers={"WWW-Authenticate": 'Basic realm="metrics"'},
        )
    try:
        async with request.app.state.db.sessionmaker() as session:
            alive = Case.deleted_at.is_(None)
            counts = dict(
                (
                    await session.execute(
                        select(Case.status, func.count()).where(alive).group_by(Case.status)
                    )
                ).all()
            )
            overdue = (
                await session.execute(select(func.count()).where(alive, light_condition("red", utcnow())))
            ).scalar_one()
    except Exception:
        metrics.DATABASE_UP.set(0)
    else:
        metrics.DATABASE_UP.set(1)
        for state in (
            "reported",
            "registered",
            "dispatched",
            "in_progress",
            "resolved",
            "closed",
            "rejected",
            "on_hold",
        ):
            metrics.CASES.labels(state).set(counts.get(state, 0))
        metrics.OVERDUE.set(overdue)
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")
