"""What every HTTP exchange gets, as two ASGI middlewares. :class:`RequestContext`: a request id (taken
from ``X-Request-ID`` when it is a plain token, else made) returned in the response and carried by every
log line (app.core.logs); security headers; one access log line and the request metrics by route
template, not the raw path (no ids, no query strings, so no API keys or personal data reach logs or
labels). :class:`BodyLimit`: a bounded body for every route and content type.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.config import Settings
from app.core.errors import respond
from app.core.i18n import Text

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
log = logging.getLogger("grid_inspector.access")
errors_log = logging.getLogger("grid_inspector.errors")
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
# The API serves no documents of its own, so nothing may run or frame; the interactive docs' pages send
# their own policy (app.core.docs), which is kept.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _TOKEN.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                extra = [(b"x-request-id", request_id.encode())] + [
                    h for h in SECURITY_HEADERS if h[0] not in present
                ]
                if b"content-security-policy" not in present:
                    extra.append(API_CSP)
                message["headers"] = headers + extra
            await send(message)

        responded = False

        async def tracking(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await sending(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            # Answered here rather than by Starlette's outermost error middleware, so a 500 carries the
            # request id and the security headers, and its traceback is logged with the request id.
            errors_log.exception(
                "unhandled error on %s %s",
                scope["method"],
                _route_of(scope),
                extra={"request_id": request_id},
            )
            if responded:
                raise  # the response began: nothing can be said any more; the server closes the connection
            response = respond(
                Request(scope),
                500,
                "internal_error",
                "Internal server error",
                Text(
                    "错误已随本响应的 X-Request-ID 记录，本次请求未做任何修改。",
                    "The error was logged with this response's X-Request-ID; the request changed nothing.",
                ),
            )
            await response(scope, receive, tracking)
        finally:
            seconds = time.perf_counter() - started
            route = _route_of(scope)
            metrics.observe_request(scope["method"], route, status, seconds)
            log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 1),
                    }
                },
            )
            request_id_var.reset(token)


F = TypeVar("F", bound=Callable[..., Any])


def takes_body(limit: Callable[[Any], int]) -> Callable[[F], F]:
    """Declare on an endpoint that it takes bodies of up to ``limit(settings)`` bytes (uploads, imports):
    :class:`BodyLimit` reads it from the route, so a new upload route says its limit where it is written.
    Every route without it takes ``GRID_MAX_BODY_BYTES``."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, "__body_limit__", limit)  # noqa: B010 - a marker FastAPI keeps on the route's endpoint
        return endpoint

    return mark


def _declared_limits(app: Any) -> list[tuple[re.Pattern[str], frozenset[str], Callable[[Any], int]]]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before 0.160 lists routes directly
        pairs = [(r, getattr(r, "path", "")) for r in app.router.routes]
    else:
        pairs = [(ctx.original_route, ctx.path) for ctx in iter_route_contexts(app.router.routes)]
    table = []
    for route, path in pairs:
        limit = getattr(getattr(route, "endpoint", None), "__body_limit__", None)
        if limit is not None:
            table.append((compile_path(path)[0], frozenset(getattr(route, "methods", ()) or ()), limit))
    return table


def too_large(request: Request, limit: int) -> Response:
    return respond(
        request,
        413,
        "payload_too_large",
        "The request body is too large",
        Text(f"此接口最多接受 {limit:,} 字节", f"this endpoint takes at most {limit:,} bytes"),
    )


class BodyLimit:
    """Every request body is bounded, whatever its content type: ``Content-Length`` over the route's
    limit is refused at once, a body that streams past it is cut off (413 ``payload_too_large``, in
    the route's error format). A route's limit is what it declared with :func:`takes_body` (uploads:
    the photo settings' whole request; imports: their own), else ``GRID_MAX_BODY_BYTES``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._declared: list[tuple[re.Pattern[str], frozenset[str], Callable[[Any], int]]] | None = None

    def limit_for(self, scope: Scope) -> int:
        if self._declared is None:  # routes are all included by the first request
            self._declared = _declared_limits(scope["app"])
        for pattern, methods, limit in self._declared:
            if scope["method"] in methods and pattern.match(scope["path"]):
                return int(limit(self.settings))
        return int(self.settings.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await too_large(Request(scope), limit)(scope, receive, send)
            return
        seen, refused = 0, False

        async def counting() -> Message:
            # Past the limit the 413 is sent from here and the app is told the client went away (an
            # exception would reach the app's body parser, which reports any failure as a 400).
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await too_large(Request(scope), limit)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            if not refused:  # the app's own answer after the 413 goes nowhere
                await send(message)

        await self.app(scope, counting, sending)
