"""Logging in (OAuth2 password flow, RFC 6749 section 4.3) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.permissions import Anyone, AnyUser, spend_login_attempt
from app.auth.schemas import Token
from app.auth.service import InvalidCredentials
from app.core.deps import SessionDep, SettingsDep
from app.core.openapi import errors
from app.core.ratelimit import RateLimited
from app.core.security import create_access_token

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/token",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {"username": "dispatcher", "password": "demo-dispatcher-2026"}
                }
            }
        }
    },
    response_model=Token,
    summary="Log in (OAuth2 password flow)",
    responses=errors(InvalidCredentials, RateLimited),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: Anyone,
) -> Token:
    """Exchange ``username``/``password`` (form fields) for a short-lived bearer JWT.

    401 ``invalid_credentials`` for a wrong pair or a disabled account. 429 ``rate_limited`` (with
    ``Retry-After``) beyond ``GRID_LOGIN_PER_ADDRESS`` attempts from one client address or
    ``GRID_LOGIN_PER_USERNAME`` for one username per ``GRID_LOGIN_WINDOW_S`` seconds; every attempt
    counts, before the password is checked, so guessing is slow and costs no hashing.

    The token (claim ``gen``) is revoked by a password change, a deactivation of the account and
    ``POST /api/v1/auth/logout``; a token issued before any of these is a 401 from then on.
    """
    await spend_login_attempt(request, settings, form.username)
    user = await service.authenticate(session, form.username, form.password)
    token, expires_in = create_access_token(
        subject=str(user.id),
        role=user.role,
        secret=settings.auth.secret_key,
        algorithm=settings.auth.jwt_algorithm,
        minutes=settings.auth.access_token_minutes,
        generation=user.token_generation,
    )
    return Token(access_token=token, expires_in=expires_in)


@router.post(
    "/auth/logout",
    status_code=204,
    response_class=Response,
    summary="Log out: revoke every token of the caller, on every device",
)
async def logout(principal: AnyUser, session: SessionDep) -> Response:
    """Revoke **all** of the caller's bearer tokens, not only the one sent: the phone and the desktop are
    logged out together. Tokens are signed, not stored, so one device's token could only be revoked by
    keeping a list of revoked tokens and reading it on every request; a token says only which
    generation of the user's tokens it belongs to, and this moves the user to the next one.

    204 with no body. 401 for a token already revoked or expired (logging out twice is harmless);
    403 for an API key (revoke keys with ``DELETE /api/v1/api-keys/{key_id}``).
    """
    assert principal.user is not None  # AnyUser admits users only
    await service.revoke_tokens(session, principal.user.id)
    return Response(status_code=204)
