"""Start-up chores shared by the CLI and the tests: migrations, the catalogue, the demo."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[2]


def migrations_dir() -> Path:
    """The Alembic scripts: beside the package in a checkout, or where ``GRID_MIGRATIONS_DIR`` says (images)."""
    return Path(os.environ.get("GRID_MIGRATIONS_DIR") or ROOT / "migrations")


def alembic_config(database_url: str) -> Config:
    """Alembic's config for ``database_url``, independent of the working directory."""
    ini = ROOT / "alembic.ini"
    cfg = Config(str(ini)) if ini.exists() else Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply pending migrations (blocking; call it outside a running event loop)."""
    command.upgrade(alembic_config(database_url), revision)


@functools.lru_cache(maxsize=4)  # the scripts do not change while a process runs; readiness probes ask often
def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
