"""One error base, rendered once as RFC 9457 ``application/problem+json``.

Every error a client can cause is an :class:`AppError` (or FastAPI's validation error, which is
rendered the same way) with a stable machine-readable ``code``. Clients switch on ``code``;
``title`` and ``detail`` are for people.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.i18n import CONTENT_LANGUAGE, Text, pick_language, say

log = logging.getLogger("grid_inspector.errors")
# What Starlette's router says in English only, said in both languages.
_ROUTING_DETAILS = {
    404: Text("没有这个地址：请看 /docs 中的接口列表", "No such path: the routes are listed at /docs"),
    405: Text("这个地址不接受该请求方法：请看 /docs", "This path does not take that method: see /docs"),
}

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://grid-inspector.example/problems/"


class AppError(Exception):
    """Base of every client-facing error: an HTTP status, a stable ``code``, a title in English and zh-CN
    (``title_zh``), and a detail that may carry both languages (:class:`app.core.i18n.Text`). The answer
    speaks the caller's ``Accept-Language`` (zh-CN by default, like every label); clients switch on ``code``."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    title_zh: str | None = "请求有误"

    def __init__(
        self,
        detail: str | Text | None = None,
        *,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(detail or self.title))
        self.detail: str | Text = detail or Text(self.title_zh or self.title, self.title)
        self.headers = headers or {}
        self.extra = extra
        if code:  # a more specific stable code for this instance (e.g. forbidden -> stage_not_allowed)
            self.code = code


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"
    title_zh = "未找到"


class Unauthorized(AppError):
    status, code, title = 401, "not_authenticated", "Authentication required"
    title_zh = "需要登录"

    def __init__(
        self, detail: str | Text | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, headers=headers or {"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed for your role"
    title_zh = "您的角色无权进行此操作"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflicts with the current state"
    title_zh = "与当前状态冲突"


class ValidationProblem(AppError):
    """422 with a list of ``{loc, msg, type}`` pointing at the offending fields."""

    status, code, title = 422, "validation_error", "The request is not valid"
    title_zh = "请求无效"

    def __init__(
        self,
        errors: list[dict[str, Any]],
        detail: str | Text | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        errors = [{**e, "field": ".".join(str(p) for p in e.get("loc", []))} for e in errors]
        super().__init__(detail or _listed(errors), code=code)
        self.extra = {"errors": errors, **extra}


def _listed(errors: list[dict[str, Any]]) -> Text:
    """A validation problem's detail: each field and what is wrong with it (``msg`` stays English, the
    words around it follow the caller's language)."""
    listed = "; ".join(f"{e['field']}: {e['msg']}" for e in errors)
    return Text(f"请检查以下字段：{listed}", listed)


@dataclass(frozen=True)
class Declared:
    """A ``code`` a route may answer, as its OpenAPI document declares it (app.core.openapi ``errors``)."""

    status: int
    code: str
    title: str
    title_zh: str


def declare(kind: type[AppError], code: str | None = None, status: int | None = None) -> Declared:
    """``kind`` as raised with an instance-level ``code`` (``Forbidden(..., code="action_not_allowed")``)
    or ``status`` (a refused photo's), for a route's ``responses``."""
    return Declared(
        status or kind.status,
        code or kind.code,
        kind.title,
        kind.title_zh or TITLES_ZH.get(kind.code, kind.title),
    )


def refuse_unknown_parameters(names: Iterable[str], known: set[str] | frozenset[str]) -> None:
    """422 ``unsupported_filter`` naming every query parameter outside ``known``: a typo must never
    silently widen a list, an export or a figure."""
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValidationProblem(
            [
                {"loc": ["query", n], "msg": "not a parameter of this endpoint", "type": "unsupported_filter"}
                for n in unknown
            ],
            code="unsupported_filter",
        )


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "The request body is too large"
    title_zh = "请求内容过大"


def problem(status: int, code: str, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem(status, code, title, detail, **extra),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


FASTAPI_UNDECODABLE_BODY = "There was an error parsing the body"  # fastapi.routing's detail for it
_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "The request body is too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def _jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header", "form", "cookie"} and len(loc) > 1:
            loc = loc[1:] if loc[0] == "body" else loc
        out.append(
            {"loc": loc, "field": ".".join(loc), "msg": str(err.get("msg", "")), "type": err.get("type", "")}
        )
    return out


# An error's parts (status, code, title, detail, headers, extra members) as a response; a path prefix
# may have its own format (Open311 speaks its spec's error list), everything else is problem+json.
ErrorRenderer = Callable[
    [Request, int, str, str, str | None, dict[str, str] | None, dict[str, Any]], Response
]


# Titles of the errors the framework raises (not AppErrors), in zh-CN.
TITLES_ZH = {
    "validation_error": "请求无效",
    "bad_request": "请求有误",
    "not_authenticated": "需要登录",
    "forbidden": "无权访问",
    "not_found": "未找到",
    "method_not_allowed": "不支持该请求方法",
    "not_acceptable": "无法提供所要求的格式",
    "payload_too_large": "请求内容过大",
    "unsupported_media_type": "不支持的内容类型",
    "database_unavailable": "数据库暂不可用",
    "client_disconnected": "客户端在请求结束前断开",
    "conflict": "与并发修改冲突",
    "invalid_value": "请求中的值无法保存",
    "internal_error": "服务器内部错误",
    "http_error": "HTTP 错误",
}


def respond(
    request: Request,
    status: int,
    code: str,
    title: str | Text,
    detail: str | Text | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The error response for ``request`` in its caller's language (``Accept-Language``, zh-CN by default):
    its path prefix's renderer, else RFC 9457 problem+json. A plain-string title gets its zh-CN form from
    :data:`TITLES_ZH` by ``code``."""
    lang = pick_language(request.headers.get("accept-language"))
    if isinstance(title, str) and code in TITLES_ZH:
        title = Text(TITLES_ZH[code], title)
    headers = {**(headers or {}), "Content-Language": CONTENT_LANGUAGE[lang]}
    said_title, said_detail = say(title, lang), say(detail, lang) if detail is not None else None
    for prefix, render in getattr(request.app.state, "error_renderers", ()):
        if request.url.path.startswith(prefix):
            return render(request, status, code, said_title, said_detail, headers, extra)
    return problem_response(status, code, said_title, said_detail, headers=headers, **extra)


# SQLSTATEs of a database that is gone or going: connection exceptions (class 08), admin or crash
# shutdown, "cannot connect now" (starting up or in recovery), too many connections.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def database_unavailable(exc: DBAPIError) -> bool:
    """Whether a database error means "not reachable now" (a 503 worth retrying) rather than a bad query."""
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
    if exc.connection_invalidated or sqlstate.startswith(_UNAVAILABLE_STATES):
        return True
    if exc.statement is None:  # raised while connecting (e.g. 55000 "not currently accepting connections")
        return True
    cause = exc.orig.__cause__ if exc.orig is not None else None
    if isinstance(cause, (ConnectionError, TimeoutError)):
        return True
    # SQLite: another writer held the lock for longer than busy_timeout.
    return "database is locked" in str(exc.orig)


def install_error_handlers(app: FastAPI, renderers: list[tuple[str, ErrorRenderer]] | None = None) -> None:
    """Render every error as problem+json (or by ``renderers``, first matching path prefix);
    unknown exceptions become a logged 500 ``internal_error`` in app.core.http.RequestContext."""
    app.state.error_renderers = renderers or []

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        title = Text(exc.title_zh, exc.title) if exc.title_zh else exc.title
        return respond(request, exc.status, exc.code, title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _jsonable_errors(list(exc.errors()))
        return respond(
            request, 422, "validation_error", "The request is not valid", _listed(errors), errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == FASTAPI_UNDECODABLE_BODY:
            # FastAPI answers JSON it cannot decode (bad UTF-8, nesting deeper than the parser's
            # recursion limit) with a bare 400, and malformed JSON with 422: one answer for both.
            return respond(
                request,
                422,
                "validation_error",
                "The request is not valid",
                Text(
                    "请求体不是有效的 JSON（须为 UTF-8，嵌套不超过数百层）。",
                    "The body is not valid JSON (UTF-8, nested at most a few hundred levels deep).",
                ),
                errors=[{"loc": ["body"], "field": "body", "msg": "not valid JSON", "type": "json_invalid"}],
            )
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
        detail: str | Text | None = exc.detail if isinstance(exc.detail, str) else None
        if detail == HTTPStatus(exc.status_code).phrase:  # Starlette's own, in English only
            detail = _ROUTING_DETAILS.get(exc.status_code)
        return respond(request, exc.status_code, code, title, detail, headers=getattr(exc, "headers", None))

    async def _unavailable(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return respond(
            request,
            503,
            "database_unavailable",
            "The database is unavailable",
            Text(
                "服务暂时连不上数据库，本次请求未做任何修改，请稍后重试。",
                "The service cannot reach its database just now; the request changed nothing. Try again.",
            ),
            headers={"Retry-After": "5"},
        )

    async def _gone(request: Request, exc: Exception) -> Response:
        # The client hung up while sending its body: its mistake (or its radio's), not a server error,
        # and nobody will read the answer; no traceback, a 400 in the access log and the metrics.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return respond(request, 400, "client_disconnected", "The client disconnected before the body ended")

    app.add_exception_handler(ClientDisconnect, _gone)

    # A refused or reset connection to PostgreSQL surfaces as the socket's own error (asyncpg connects
    # outside SQLAlchemy's DBAPI wrapping); a timeout as TimeoutError.
    # asyncpg's own errors escape unwrapped only from connecting (e.g. 55000 "database does not allow
    # connections", 57P03 "starting up"); wrapped ones are DBAPIError below.
    import asyncpg

    for kind in (
        ConnectionError,
        TimeoutError,
        socket.gaierror,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ):
        app.add_exception_handler(kind, _unavailable)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if database_unavailable(exc):
            return await _unavailable(request, exc)
        # SQLSTATE class 22 is "data exception": a value the database cannot take (an invalid byte,
        # a number out of range). Input checks should catch these first; this is the safety net.
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        if isinstance(exc, IntegrityError) or sqlstate.startswith("23"):
            # A uniqueness race lost to a concurrent request: the same answer a later request would get.
            log.info("integrity conflict on %s %s", request.method, request.url.path)
            return respond(
                request,
                409,
                "conflict",
                "Conflicts with a concurrent change",
                Text(
                    "另一个请求同时修改了同一对象，请重新读取后再试。",
                    "Another request changed the same thing at the same time; read it again.",
                ),
            )
        if sqlstate.startswith("22"):
            log.warning("data exception %s on %s %s", sqlstate, request.method, request.url.path)
            return respond(
                request,
                422,
                "invalid_value",
                "A value in the request cannot be stored",
                Text(
                    "请求中的文字或数字无法保存（例如含有 NUL 字符）。",
                    "A text or number in the request is not acceptable (e.g. a NUL character).",
                ),
            )
        log.exception("database error on %s %s", request.method, request.url.path)
        return respond(
            request,
            500,
            "internal_error",
            "Internal server error",
            Text("错误已记录，本次请求未做任何修改。", "The error was logged; the request changed nothing."),
        )

    # Any other exception is answered by app.core.http.RequestContext: a logged 500 with the request id.


class RefuseNulInQuery:
    """ASGI middleware: a query string carrying NUL (``%00``) gets a 422 before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%00" in scope.get("query_string", b"").lower():
            response = respond(
                Request(scope),
                422,
                "validation_error",
                "The request is not valid",
                Text("查询字符串含有 NUL 字符（%00）。", "The query string contains a NUL character (%00)."),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
