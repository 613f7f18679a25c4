"""HTTP routes of user management: the caller (``/me``), users (admin) and API keys (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.auth.models import Role
from app.auth.permissions import AdminOnly, AnyUser
from app.core.deps import MAX_DB_ID, IdPath, InvalidCursor, PageDep, SessionDep
from app.core.errors import NotFound
from app.core.openapi import errors
from app.core.responses import model_response
from app.users import service
from app.users.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    UserCreate,
    UserList,
    UserOut,
    UserUpdate,
)
from app.users.service import LastAdmin, UsernameTaken

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.get("/me", response_model=UserOut, summary="The caller, role, unit and grid cells")
async def me(principal: AnyUser, session: SessionDep) -> Response:
    assert principal.user is not None
    return model_response(await service.user_out(session, principal.user, principal.grid_ids))


@router.get("/users", response_model=UserList, tags=["users"], responses=errors(InvalidCursor))
async def list_users(
    _: AdminOnly,
    session: SessionDep,
    page: PageDep,
    role: Annotated[Role | None, Query(description="only users of this role")] = None,
    unit_id: Annotated[
        int | None, Query(ge=1, le=MAX_DB_ID, description="only the staff of this unit")
    ] = None,
) -> UserList:
    users = await service.list_users(session, page, role=role, unit_id=unit_id)
    return UserList(
        items=await service.users_out(session, users[: page.limit]), next_cursor=page.next_cursor(users)
    )


@router.post(
    "/users", response_model=UserOut, status_code=201, tags=["users"], responses=errors(UsernameTaken)
)
async def create_user(data: UserCreate, _: AdminOnly, session: SessionDep) -> UserOut:
    user = await service.create_user(session, data)
    return (await service.users_out(session, [user]))[0]


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"], responses=errors(NotFound))
async def get_user(user_id: IdPath, _: AdminOnly, session: SessionDep) -> UserOut:
    return (await service.users_out(session, [await service.get_user(session, user_id)]))[0]


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    tags=["users"],
    responses=errors(NotFound, UsernameTaken, LastAdmin),
)
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


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api keys"], responses=errors(NotFound))
async def revoke_api_key(key_id: IdPath, _: AdminOnly, session: SessionDep) -> Response:
    await service.revoke_api_key(session, key_id)
    return Response(status_code=204)
