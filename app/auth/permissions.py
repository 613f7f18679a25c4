"""Who the caller is and what their role allows: the one place that authenticates.

Endpoints never check roles by hand; each domain declares its callers with :class:`Allow`
(``Annotated`` aliases in that domain's ``permissions.py``), so the rule for "who may import
grids" sits in one line a reviewer (and the authorization matrix test) can read.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey, Role, User, WorkerGrid
from app.core import revisions
from app.core.config import Settings
from app.core.db import utcnow
from app.core.deps import MAX_DB_ID, SessionDep, SettingsDep, release
from app.core.errors import Forbidden, Unauthorized
from app.core.i18n import Text
from app.core.ratelimit import Limit, spend
from app.core.security import api_key_matches, decode_access_token, parse_api_key_prefix

TOKEN_INVALID = Text("访问令牌无效或已过期", "The access token is invalid or expired")
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user (with a role) or a third-party server's API key."""

    user: User | None = None
    api_key: ApiKey | None = None
    grid_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def role(self) -> Role | None:
        return Role(self.user.role) if self.user else None

    @property
    def is_api_key(self) -> bool:
        return self.api_key is not None

    @property
    def label(self) -> str:
        if self.user:
            return f"user:{self.user.id}"
        return f"api_key:{self.api_key.id}" if self.api_key else "anonymous"


@functools.lru_cache(maxsize=1)
def _caller_statement() -> Select[Any]:
    # Built once: every name that keeps a revision registers when its module is imported, before any request.
    return (
        select(User, WorkerGrid.grid_id, *revisions.token_columns())
        .outerjoin(WorkerGrid, WorkerGrid.user_id == User.id)
        .where(User.id == bindparam("user_id"))
    )


async def _principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal | None:
    if token:
        claims = decode_access_token(
            token, secret=settings.auth.secret_key, algorithm=settings.auth.jwt_algorithm
        )
        if claims is None:
            raise Unauthorized(TOKEN_INVALID)
        sub = claims["sub"]
        if (
            not isinstance(sub, str)
            or not sub.isascii()
            or not sub.isdigit()
            or not 0 < int(sub) <= MAX_DB_ID
        ):
            raise Unauthorized(TOKEN_INVALID)
        # One statement: the user, the cells a worker patrols, and the revision tokens of the per-process
        # caches (app.core.revisions), so a read needs no other statement to know its copies are current.
        rows = (await session.execute(_caller_statement(), {"user_id": int(sub)})).all()
        user = rows[0][0] if rows else None
        if user is None or not user.active:
            raise Unauthorized(Text("账号不存在或已停用", "The account is unknown or disabled"))
        if claims["gen"] != user.token_generation:  # revoked: see app.auth.service.revoke_tokens
            raise Unauthorized(
                Text("登录凭证已被撤销，请重新登录", "The access token was revoked; log in again")
            )
        revisions.remember(session, rows[0]._mapping)
        await release(session)  # hold no database lock while the request body streams in
        return Principal(user=user, grid_ids=frozenset(r[1] for r in rows if r[1] is not None))
    if api_key:
        return await api_key_principal(session, api_key)
    return None


async def api_key_principal(session: AsyncSession, api_key: str) -> Principal:
    """The principal of a third-party server's key (``X-API-Key``, or Open311's ``api_key`` field);
    401 ``Unauthorized`` when it is unknown or revoked."""
    prefix = parse_api_key_prefix(api_key)
    row = None
    if prefix:
        found = (
            await session.execute(select(ApiKey, *revisions.token_columns()).where(ApiKey.prefix == prefix))
        ).first()
        if found is not None:
            row = found[0]
            revisions.remember(session, found._mapping)
    if row is None or row.revoked_at is not None or not api_key_matches(api_key, row.key_hash):
        raise Unauthorized(Text("API key 无效或已吊销", "The API key is invalid or revoked"))
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now  # coarse on purpose: not a write per request
    await release(session)
    return Principal(api_key=row)


async def spend_login_attempt(request: Request, settings: Settings, username: str) -> None:
    """Count a login attempt against the client address's and the username's limits (429 beyond them).

    The address is the peer of the connection, or the proxy's ``X-Forwarded-For`` when uvicorn trusts
    that proxy (``--forwarded-allow-ips``). Usernames are compared as the login compares them.
    """
    limits, db, secret = settings.rate_limits, request.app.state.db, settings.auth.secret_key
    address = request.client.host if request.client else "unknown"
    await spend(
        db,
        Limit("login_address", limits.login_per_address, limits.login_window_s, "login attempts"),
        address,
        secret=secret,
    )
    await spend(
        db,
        Limit(
            "login_username",
            limits.login_per_username,
            limits.login_window_s,
            "login attempts for this account",
        ),
        username.strip().lower(),
        secret=secret,
    )


OptionalPrincipal = Annotated[Principal | None, Depends(_principal)]


class Allow:
    """A dependency admitting the given roles (and API keys when ``api_keys``); else 401/403.

    ``Allow()`` with no roles and ``public=True`` admits anonymous callers too.
    """

    def __init__(self, *roles: Role, api_keys: bool = False, public: bool = False) -> None:
        self.roles = frozenset(roles)
        self.api_keys = api_keys
        self.public = public

    def __repr__(self) -> str:
        who = sorted(r.value for r in self.roles) + (["api_key"] if self.api_keys else [])
        return f"Allow({', '.join(who) or ('public' if self.public else 'nobody')})"

    async def __call__(self, principal: OptionalPrincipal) -> Principal | None:
        if principal is None:
            if self.public:
                return None
            raise Unauthorized()
        if principal.is_api_key:
            if self.api_keys or self.public:
                return principal
            raise Forbidden(Text("API key 不能调用此接口", "API keys cannot call this endpoint"))
        if self.public or principal.role in self.roles:
            return principal
        role = principal.role.value if principal.role else ""
        raise Forbidden(Text(f"角色“{role}”不能调用此接口", f"Role '{role}' may not call this endpoint"))


class Unauthenticated(Allow):
    """Public, and reads no credentials at all: operators' probes must answer the same whatever header a
    checker sends, and without touching the database (a bearer token would be looked up)."""

    def __init__(self) -> None:
        super().__init__(public=True)

    async def __call__(self) -> None:  # type: ignore[override]
        return None


EVERY_ROLE = tuple(Role)
STAFF_ROLES = (Role.dispatcher, Role.supervisor, Role.admin)

AnyUser = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
AdminOnly = Annotated[Principal, Depends(Allow(Role.admin))]
Anyone = Annotated[Principal | None, Depends(Allow(public=True))]
Probe = Annotated[None, Depends(Unauthenticated())]
