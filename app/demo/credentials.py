"""The demo's public credentials: the table the command line prints, and which of them still work.

The demo logins (app.demo.builder) and the citizens' app's Open311 key (app.demo.history) are printed for
anyone to use, so a production server refuses to start while any of them still lets someone in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiKey, User
from app.core.security import api_key_matches, parse_api_key_prefix, verify_password
from app.demo.builder import DEMO_LOGINS, DEMO_LOGINS_HINT
from app.demo.history import DEMO_API_KEY, DEMO_API_KEY_NAME


def login_table() -> list[str]:
    """Every demo login with its password, role, who it is and what to try with it; then the Open311 key."""
    lines = [DEMO_LOGINS_HINT, f"  {'username':<11} {'password':<22} {'role':<10}  who; what to try"]
    for login in DEMO_LOGINS:
        lines.append(f"  {login.username:<11} {login.password:<22} {login.role.value:<10}  {login.note}")
        lines.append(f"  {'':<46}  -> {login.use}")
    lines.append(f"Open311 key of the citizens' app {DEMO_API_KEY_NAME}: {DEMO_API_KEY}")
    lines.append("  (api_key=... on /open311/v2 files and reads as that app; X-API-Key on /api/v1)")
    return lines


async def working_credentials(session: AsyncSession) -> list[str]:
    """The demo credentials that still let someone in: users with their demo password, and the demo
    Open311 key unless revoked."""
    names = [login.username for login in DEMO_LOGINS]
    users = {
        u.username: u for u in (await session.execute(select(User).where(User.username.in_(names)))).scalars()
    }
    working = [
        login.username
        for login in DEMO_LOGINS
        if login.username in users
        and users[login.username].active
        and verify_password(login.password, users[login.username].password_hash)
    ]
    prefix = parse_api_key_prefix(DEMO_API_KEY)
    key = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar()
    if key is not None and key.revoked_at is None and api_key_matches(DEMO_API_KEY, key.key_hash):
        working.append(f"the Open311 key '{key.name}'")
    return working
