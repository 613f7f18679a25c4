"""What a request left behind: rows in the database and files in the photo store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text


async def count(session, table) -> int:  # type: ignore[no-untyped-def]
    """Rows in ``table``: a mapped class or a table name."""
    source = text(table) if isinstance(table, str) else table
    return (await session.execute(select(func.count()).select_from(source))).scalar_one()


def stored_files(storage_dir: Path | str) -> list[str]:
    """Every file under a local photo store (``Settings.storage.storage_dir``), relative, sorted; ``[]``
    when the directory was never made."""
    root = Path(storage_dir)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
