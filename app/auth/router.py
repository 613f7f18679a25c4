"""HTTP routes of the auth domain: tokens, the caller, users (admin) and API keys (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.models import Role
from app.auth.permissions import AdminOnly, Anyone, AnyUser, spend_login_attempt
from app.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    Token,
    UserCreate,
    UserList,
    UserOut,
    UserUpdate,
)
from app.core.deps import MAX_DB_ID, IdPath, PageDep, SessionDep, SettingsDep
from app.core.security import create_access_token

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", response_model=Token, summary="Log in (OAuth2 password flow)")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep,
                settings: SettingsDep, _: Anyone) -> Token:
    """Exchange ``username``/``password`` (form fields) for a short-lived bearer JWT.

    401 ``invalid_credentials`` for a wrong pair or a disabled account. 429 ``rate_limited`` (with
    ``Retry-After``) beyond ``GRID_LOGIN_PER_ADDRESS`` attempts from one client address or
    ``GRID_LOGIN_PER_USERNAME`` for one username per ``GRID_LOGIN_WINDOW_S`` seconds; every attempt
    counts, before the password is checked, so guessing is slow and costs no hashing.
    """
    await spend_login_attempt(request, settings, form.username)
    user = await service.authenticate(session, form.username, form.password)
    token, expires_in = create_access_token(subject=str(user.id), role=user.role, secret=settings.auth.secret_key,
                                            algorithm=settings.auth.jwt_algorithm,
                                            minutes=settings.auth.access_token_minutes)
    return Token(access_token=token, expires_in=expires_in)


@router.get("/me", response_model=UserOut, summary="The caller, role, unit and grid cells")
async def me(principal: AnyUser, session: SessionDep) -> UserOut:
    assert principal.user is not None
    return (await service.users_out(session, [principal.user]))[0]


@router.get("/users", response_model=UserList, tags=["users"])
async def list_users(_: AdminOnly, session: SessionDep, page: PageDep, role: Role | None = None,
                     unit_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None) -> UserList:
    users = await service.list_users(session, page, role=role, unit_id=unit_id)
    return UserList(items=await service.users_out(session, users[: page.limit]), next_cursor=page.next_cursor(users))


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
async def create_user(data: UserCreate, _: AdminOnly, session: SessionDep) -> UserOut:
    user = await service.create_user(session, data)
    return (await service.users_out(session, [user]))[0]


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
async def get_user(user_id: IdPath, _: AdminOnly, session: SessionDep) -> UserOut:
    return (await service.users_out(session, [await service.get_user(session, user_id)]))[0]


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
async def update_user(user_id: IdPath, data: UserUpdate, _: AdminOnly, session: SessionDep) -> UserOut:
    user = await service.update_user(session, user_id, data)
    return (await service.users_out(session, [user]))[0]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, tags=["api keys"])
async def create_api_key(data: ApiKeyCreate, principal: AdminOnly, session: SessionDep) -> ApiKeyCreated:
    """A key for a third-party server, sent as ``X-API-Key`` (or Open311 ``api_key``). Shown once."""
    return await service.create_api_key(session, data.name, principal.user)


@router.get("/api-keys", response_model=ApiKeyList, tags=["api keys"])
async def list_api_keys(_: AdminOnly, session: SessionDep) -> ApiKeyList:
    return ApiKeyList(items=await service.list_api_keys(session))


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api keys"])
async def revoke_api_key(key_id: IdPath, _: AdminOnly, session: SessionDep) -> Response:
    await service.revoke_api_key(session, key_id)
    return Response(status_code=204)
