"""Checking a login and revoking bearer tokens: the use cases of identity that change what a token is worth."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.errors import Unauthorized
from app.core.security import verify_password


class InvalidCredentials(Unauthorized):
    code, title = "invalid_credentials", "Wrong username or password"
    title_zh = "用户名或密码错误"


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    """The active user with these credentials; raises :class:`InvalidCredentials` otherwise."""
    user = None
    username = username.strip().lower()  # usernames are case-insensitive: "Admin" is "admin"
    if 0 < len(username) <= 64 and "\x00" not in username:  # never send what cannot be a username to the DB
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if not verify_password(password, user.password_hash if user else None) or user is None or not user.active:
        raise InvalidCredentials()
    return user


async def revoke_tokens(session: AsyncSession, user_id: int) -> None:
    """Revoke every bearer token issued to the user so far, on every device (flushes; the request commits).

    Raises the user's ``token_generation`` in the database (one UPDATE, an increment, so two revocations
    at once both count); a token is honoured only while its ``gen`` claim equals it. A login after this
    gets a token of the new generation, even within the same second: no clock is compared.
    """
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(token_generation=User.token_generation + 1)
        .execution_options(synchronize_session="evaluate")  # a loaded User follows, without a reload
    )
