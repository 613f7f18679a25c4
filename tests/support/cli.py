"""Running the operators' command line (``python -m app.cli``) as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    """``grid-inspector *args`` in ``tmp_path`` on the SQLite file ``tmp_path/cli.db``, with none of this
    process's ``GRID_*`` settings but ``env``: the CompletedProcess (text stdout and stderr), 120 s at most."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRID_")}
    environ.update({"GRID_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=tmp_path,
        env=environ,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )
