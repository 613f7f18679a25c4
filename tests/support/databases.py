"""Setting up and administering the test databases from synchronous code or another event loop."""

from __future__ import annotations

import threading

from sqlalchemy import text

from app.core.db import create_engine


def in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """Run blocking set-up (Alembic runs its own event loop) away from pytest-asyncio's loop; its value,
    or its exception raised here."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("value")


async def pg_admin(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP/ALTER DATABASE) on the server of ``url``."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(sql))
    await engine.dispose()
