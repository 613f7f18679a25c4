"""The operators' command line (app/cli/), run as a real process on a fresh SQLite file (sweep-orphans:
test_orphan_sweeper.py)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import run
from tests.support.paths import DEMO_DATA


def test_migrate_load_import_and_create_user(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    r = run(tmp_path, "load-categories")
    assert r.returncode == 0 and "categories created" in r.stdout
    r = run(tmp_path, "import-grids", str(DEMO_DATA / "620802.json"), "--coord-system", "gcj02")
    assert r.returncode == 0, r.stderr
    assert "Imported 1 grid cells: 620802" in r.stdout and "repaired feature 0" in r.stdout
    r = run(tmp_path, "import-grids", str(DEMO_DATA / "620802.json"), "--coord-system", "gcj02")
    assert r.returncode == 1 and "code_exists" not in r.stdout and "already exists" in r.stderr
    r = run(
        tmp_path,
        "create-user",
        "zhang",
        "--role",
        "worker",
        "--password",
        "long password",
        "--grid-code",
        "620802",
    )
    assert r.returncode == 0 and "User zhang (worker) created" in r.stdout
    r = run(
        tmp_path,
        "create-user",
        "li",
        "--role",
        "worker",
        "--password",
        "long password",
        "--grid-code",
        "nope",
    )
    assert r.returncode == 1 and "Unknown grid codes: nope" in r.stderr


def test_demo_prints_logins_and_is_idempotent(tmp_path: Path) -> None:
    import sqlite3

    from app.demo.builder import DEMO_LOGINS
    from app.demo.history import DEMO_API_KEY

    def cases() -> int:
        with sqlite3.connect(tmp_path / "cli.db") as conn:
            return int(conn.execute("SELECT count(*) FROM cases").fetchone()[0])

    r = run(tmp_path, "demo")
    assert r.returncode == 0, r.stderr
    assert "Demo data loaded" in r.stdout and "demo-admin-2026" in r.stdout
    # the history, which login to use for what, and the citizens' app's key
    assert "Demo history:" in r.stdout and "red now" in r.stdout and DEMO_API_KEY in r.stdout
    assert all(login.username in r.stdout and login.use in r.stdout for login in DEMO_LOGINS)
    loaded = cases()
    assert loaded > 200 and any(p.is_file() for p in (tmp_path / "grid_storage" / "originals").rglob("*"))
    r = run(tmp_path, "demo")
    assert r.returncode == 0 and "Demo data already present" in r.stdout and "worker1" in r.stdout
    assert "Demo history not loaded: the database has cases already" in r.stdout and cases() == loaded


def test_production_refuses_the_default_secret_and_the_demo(tmp_path: Path) -> None:
    r = run(tmp_path, "migrate", env={"GRID_ENV": "production"})
    assert r.returncode == 2 and "GRID_SECRET_KEY" in r.stderr
    r = run(
        tmp_path,
        "migrate",
        env={"GRID_ENV": "production", "GRID_SECRET_KEY": "Xq7-vR2pLm9sT4wZ8yB1nK6dF3hJ0cGe5uA"},
    )
    assert r.returncode == 2 and "GRID_PUBLIC_URL must be set" in r.stderr
    r = run(
        tmp_path,
        "demo",
        env={
            "GRID_ENV": "production",
            "GRID_SECRET_KEY": "Xq7-vR2pLm9sT4wZ8yB1nK6dF3hJ0cGe5uA",
            "GRID_PUBLIC_URL": "https://grid.example.cn/",
        },
    )
    assert r.returncode == 2 and "demo logins are public" in r.stderr


def test_serve_refuses_unsafe_starts_and_migrate_explains_bad_revisions(tmp_path: Path) -> None:
    r = run(tmp_path, "serve", "--host", "0.0.0.0", "--port", "18999")
    assert r.returncode == 2 and "development secret key" in r.stderr
    assert run(tmp_path, "demo").returncode == 0
    key = "Xq7-vR2pLm9sT4wZ8yB1nK6dF3hJ0cGe5uA"
    r = run(
        tmp_path,
        "serve",
        "--port",
        "18999",
        env={"GRID_ENV": "production", "GRID_SECRET_KEY": key, "GRID_PUBLIC_URL": "https://grid.example.cn/"},
    )
    assert r.returncode == 2 and "demo logins still work" in r.stderr and "admin" in r.stderr
    assert "the Open311 key '市民随手拍 (demo)'" in r.stderr  # the demo history's public key counts too
    r = run(tmp_path, "migrate", "bogusrev")
    assert r.returncode == 1 and "Migration refused" in r.stderr


def test_serve_with_two_workers_counts_every_request_in_one_scrape(tmp_path: Path) -> None:
    """A scrape reaches one worker; the counts must still be every worker's (multiprocess metrics)."""
    import re
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GRID_", "PROMETHEUS_"))}
    environ["GRID_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Wait on another route: a probe that times out on a busy machine may still be answered and
        # counted, which made the count below 41 now and then.
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(40):  # spread over both workers
            urllib.request.urlopen(f"{base}/healthz", timeout=30)
        for _ in range(4):  # whichever worker answers the scrape
            text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
            counted = re.search(
                r'grid_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)', text
            )
            assert counted and float(counted.group(1)) == 40.0, counted
            assert re.search(r'^grid_cases\{state="reported"\} 0\.0$', text, re.M)
    finally:
        server.terminate()
        server.wait(timeout=30)
