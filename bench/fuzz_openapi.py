"""The longer schemathesis run: the whole OpenAPI document against a real ``grid-inspector serve --demo``,
as every kind of caller (issue 7, item 5; the bounded pass in CI is ``tests/api/test_fuzz_openapi.py``).

Run (from the project root, with the test extras installed, which bring schemathesis):

    python bench/fuzz_openapi.py --examples 200
    python bench/fuzz_openapi.py --examples 200 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

What it does: starts ``grid-inspector serve --demo`` on a free 127.0.0.1 port over a scratch database (a
SQLite file in a temporary directory, or, with ``--database-url``, a fresh database created on that
PostgreSQL server and dropped at the end; the URL's own database is never touched), files two cases (one
with a photo) so ids in paths can exist, fetches the served /openapi.json (adding the ReportIn/ActionIn
schemas it references but lacks, from the models, unless ``--as-served``; without them schemathesis skips
those JSON bodies), then runs ``st run`` once per caller: anonymous, an API key,
worker, unit_staff, dispatcher, supervisor, admin (in that order, admin last, since its fuzzing may
rename, deactivate or revoke what the others use). Every run uses the same seed and all four phases
(examples, coverage, fuzzing with ``--examples`` cases per operation, stateful), and the checks
not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance.

It prints, per caller, the operations tested, the cases generated and the failing checks by check; then
each 5xx or schema-breaking body with one request to reproduce it, the undeclared statuses and media types
grouped with the operations that answered them, schemathesis' warnings and the server's ERROR log lines.
Rate limits are lifted (so fuzzing reaches the handlers, not the limiter) unless ``--keep-rate-limits``.
Exit status 1 when a 5xx or a body that breaks its schema was seen (``--strict``: any failure), or when a
caller's ``st run`` did not do its job (exit status 2, or no operation tested: nothing was checked), else 0.
About 20 minutes on SQLite with ``--examples 200``. ``--keep`` keeps the directory with the server log,
the schemathesis logs and the NDJSON/JSON reports.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from support import BIN, ROOT, asyncpg_dsn, free_port, log, log_errors

ROLES = ("anonymous", "api_key", "worker", "unit_staff", "dispatcher", "supervisor", "admin")
LOGINS = {
    "worker": "worker2",
    "unit_staff": "chengguan",
    "dispatcher": "dispatcher",
    "supervisor": "supervisor",
    "admin": "admin",
}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SEVERE = {"not_a_server_error", "response_schema_conformance"}
CENTRE = {"lat": 35.5428, "lon": 106.6652}  # a 中街街道 cell, patrolled by worker2


# ------------------------------------------------------------------------------------------- the server


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class Server:
    workdir: Path
    database_url: str | None
    keep_rate_limits: bool
    port: int = field(default_factory=free_port)
    scratch: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def start(self, timeout: float = 180.0) -> None:
        if self.database_url:
            self.scratch = f"gi_fuzz_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg_admin(self.database_url, f'CREATE DATABASE "{self.scratch}"'))
            url = make_url(self.database_url).set(database=self.scratch).render_as_string(hide_password=False)
        else:
            url = f"sqlite+aiosqlite:///{self.workdir}/fuzz.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRID_")}
        env.update(
            GRID_DATABASE_URL=url,
            GRID_STORAGE_DIR=str(self.workdir / "storage"),
            GRID_SECRET_KEY=secrets.token_urlsafe(48),
            GRID_ACCESS_TOKEN_MINUTES="1440",
        )
        if not self.keep_rate_limits:
            env.update(
                {
                    f"GRID_{name}": "0"
                    for name in (
                        "LOGIN_PER_USERNAME",
                        "LOGIN_PER_ADDRESS",
                        "REPORTS_PER_USER",
                        "REPORTS_PER_API_KEY",
                    )
                }
            )
        with self.log_path.open("ab") as out:
            if self.database_url:  # serve migrates only the embedded SQLite database itself
                subprocess.run(
                    [str(BIN / "grid-inspector"), "migrate"],
                    env=env,
                    cwd=self.workdir,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=True,
                )
            self.proc = subprocess.Popen(
                [
                    str(BIN / "grid-inspector"),
                    "serve",
                    "--demo",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the server exited {self.proc.returncode}:\n{tail}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.scratch and self.database_url:
            asyncio.run(
                _pg_admin(self.database_url, f'DROP DATABASE IF EXISTS "{self.scratch}" WITH (FORCE)')
            )

    def error_lines(self) -> list[str]:
        """The server's ERROR/CRITICAL log lines (JSON log), counted, most frequent first."""
        return log_errors(self.log_path)


def _tiny_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 110, 90)).save(out, "JPEG", quality=80)
    return out.getvalue()


def credentials(server: Server) -> dict[str, dict[str, str]]:
    """Each caller's headers (logging in with the demo passwords; an API key made by admin), and two cases
    filed by worker2, one with a photo, so case, photo and token ids exist."""
    from app.demo.builder import DEMO_LOGINS

    passwords = {login.username: login.password for login in DEMO_LOGINS}
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for role, username in LOGINS.items():
            r = client.post(
                "/api/v1/auth/token", data={"username": username, "password": passwords[username]}
            )
            r.raise_for_status()
            headers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = client.post("/api/v1/api-keys", headers=headers["admin"], json={"name": "fuzz_openapi"})
        r.raise_for_status()
        headers["api_key"] = {"X-API-Key": r.json()["key"]}
        report = {"category_code": "09009", "description": "fuzz_openapi seed", **CENTRE}
        client.post("/api/v1/reports", headers=headers["worker"], json=report).raise_for_status()
        client.post(
            "/api/v1/reports",
            headers=headers["worker"],
            files=[
                ("report", (None, json.dumps(report), "application/json")),
                ("photos", ("seed.jpg", _tiny_jpeg(), "image/jpeg")),
            ],
        ).raise_for_status()
    return headers


# ---------------------------------------------------------------------------------------- schemathesis


@dataclass
class RoleRun:
    role: str
    seconds: float = 0.0
    exit_code: int = 0
    operations: int = 0
    generated: int = 0
    failing_cases: Counter[str] = field(default_factory=Counter)  # check -> cases
    warnings: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Finding:
    count: int = 0
    roles: set[str] = field(default_factory=set)
    example: str = ""
    detail: str = ""


def _problem_code(content: bytes, media_type: str) -> str:
    try:
        body = json.loads(content)
    except ValueError:
        return "xml" if "xml" in media_type else ""
    if isinstance(body, dict):
        return str(body.get("code", ""))
    if isinstance(body, list) and body and isinstance(body[0], dict):  # Open311's error list
        return f"open311 {body[0].get('code', '')}"
    return ""


def _curl(request: dict) -> str:
    parts = ["curl", "-X", request["method"], shlex.quote(request["uri"])]
    for name, values in (request.get("headers") or {}).items():
        if name.lower() in (
            "user-agent",
            "accept-encoding",
            "accept",
            "connection",
            "content-length",
            "x-schemathesis-testcaseid",
        ):
            continue
        for value in values:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.get("body")
    if body and "$base64" in body:
        raw = base64.b64decode(body["$base64"])
        text = raw.decode("utf-8", "backslashreplace")
        parts += ["--data-binary", shlex.quote(text[:400] + ("..." if len(text) > 400 else ""))]
    return " ".join(parts)


def fuzzed_document(server: Server, as_served: bool) -> str:
    """The document to fuzz: the served one, plus (unless ``as_served``) the request schemas it references but
    does not contain (ReportIn, ActionIn: a known bug), taken from the models, so those JSON bodies are fuzzed
    rather than skipped. Returns a file path for ``st run``."""
    document = httpx.get(server.url + "/openapi.json", timeout=30).json()
    if not as_served:
        from pydantic.json_schema import models_json_schema

        from app.reports.schemas import ReportIn
        from app.workflow.schemas import ActionIn

        _, top = models_json_schema(
            [(ReportIn, "validation"), (ActionIn, "validation")], ref_template="#/components/schemas/{model}"
        )
        for name, schema in top["$defs"].items():
            document["components"]["schemas"].setdefault(name, schema)
    path = server.workdir / "openapi.json"
    path.write_text(json.dumps(document, ensure_ascii=False))
    return str(path)


def fuzz_role(
    role: str,
    server: Server,
    headers: dict[str, str],
    args: argparse.Namespace,
    findings: dict[tuple[str, str, int, str, str], Finding],
) -> RoleRun:
    run = RoleRun(role)
    config = server.workdir / f"{role}.toml"
    # Anonymous callers keep the values schemathesis makes up for the declared security schemes (invalid
    # tokens and keys: the 401 paths); a role is otherwise exactly its own credentials.
    # No auto sign-up either: the callers are the demo users and the key made above.
    config.write_text(
        f"[generation]\nwith-security-parameters = {'true' if role == 'anonymous' else 'false'}\n"
        "[auth]\nauto-signup = false\n"
    )
    ndjson, report = server.workdir / f"{role}.ndjson", server.workdir / f"{role}.json"
    command = [
        str(BIN / "st"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        args.document,
        "--url",
        server.url,
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(args.examples),
        "--seed",
        str(args.seed),
        "--phases",
        args.phases,
        "--workers",
        str(args.workers),
        "--suppress-health-check",
        "all",
        "--continue-on-failure",
        "--report",
        "ndjson,json",
        "--report-ndjson-path",
        str(ndjson),
        "--report-json-path",
        str(report),
    ]
    if args.max_time:
        command += ["--max-time", str(args.max_time)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    t0 = time.monotonic()
    with (server.workdir / f"{role}.log").open("wb") as out:
        run.exit_code = subprocess.run(
            command, cwd=server.workdir, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode
    run.seconds = time.monotonic() - t0
    if run.exit_code not in (0, 1):  # 2: configuration, schema or internal error, or nothing tested
        tail = (server.workdir / f"{role}.log").read_text(errors="replace")[-1500:]
        log(f"  st run as {role} exited {run.exit_code}:\n{tail}")
    if report.exists():
        summary = json.loads(report.read_text())
        run.operations = summary["operations"]["tested"]
        run.generated = summary["test_cases"]["generated"]
        run.warnings = {k: v for k, v in summary.get("warnings", {}).items() if v}
    if not ndjson.exists():
        return run
    with ndjson.open(encoding="utf-8") as events:  # one event a line; a long run writes gigabytes
        for line in events:
            if '"ScenarioFinished"' in line and '"failure"' in line:
                _collect(role, json.loads(line)["ScenarioFinished"], run, findings)
    if not args.keep:
        ndjson.unlink()
    return run


def _collect(
    role: str, finished: dict, run: RoleRun, findings: dict[tuple[str, str, int, str, str], Finding]
) -> None:
    """Count one finished scenario's failing checks, keyed by (check, operation, status, media type, code)."""
    recorder = finished.get("recorder", {})
    for case_id, checks in recorder.get("checks", {}).items():
        interaction = recorder.get("interactions", {}).get(case_id)
        for check in (c for c in checks if c["status"] == "failure"):
            run.failing_cases[check["name"]] += 1
            failure = (check.get("failure_info") or {}).get("failure") or {}
            label = failure.get("operation") or recorder.get("label", "?")
            status, media_type, code = 0, "", ""
            if interaction and interaction.get("response"):
                response = interaction["response"]
                status = response["status_code"]
                media_type = (response["headers"].get("content-type") or [""])[0].split(";")[0]
                content = base64.b64decode((response.get("content") or {}).get("$base64", "") or b"")
                code = _problem_code(content, media_type)
            finding = findings.setdefault((check["name"], label, status, media_type, code), Finding())
            finding.count += 1
            finding.roles.add(role)
            if not finding.example and interaction:
                finding.example = _curl(interaction["request"])
                finding.detail = (failure.get("title", "") + ": " + failure.get("message", "")).strip()


# ---------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=100, help="fuzzing cases per operation and caller")
    parser.add_argument("--seed", type=int, default=20260507)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to make the scratch database on "
        "(postgresql+asyncpg://...); default: a scratch SQLite file",
    )
    parser.add_argument("--roles", default=",".join(ROLES), help=f"comma list, of {','.join(ROLES)}")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers (concurrent requests)")
    parser.add_argument("--max-time", type=int, help="seconds per caller (schemathesis --max-time)")
    parser.add_argument(
        "--as-served",
        action="store_true",
        help="fuzz the document exactly as served (without "
        "the ReportIn/ActionIn schemas it references but lacks, those bodies are not fuzzed)",
    )
    parser.add_argument("--keep-rate-limits", action="store_true", help="keep the login/report rate limits")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any failure, not only 5xx/schema")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs and reports)")
    args = parser.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    unknown = set(roles) - set(ROLES)
    if unknown:
        parser.error(f"unknown roles: {sorted(unknown)}")
    roles.sort(key=ROLES.index)

    workdir = Path(tempfile.mkdtemp(prefix="gi-fuzz-"))
    server = Server(workdir, args.database_url, args.keep_rate_limits)
    runs: list[RoleRun] = []
    findings: dict[tuple[str, str, int, str, str], Finding] = {}
    t0 = time.monotonic()
    try:
        log(
            f"serving the demo data on {server.url} ({'PostgreSQL' if args.database_url else 'SQLite'}); "
            f"work dir {workdir}"
        )
        server.start()
        headers = credentials(server)
        args.document = fuzzed_document(server, args.as_served)
        for role in roles:
            log(
                f"st run as {role}: {args.examples} examples per operation, seed {args.seed}, phases {args.phases}"
            )
            run = fuzz_role(role, server, headers[role], args, findings)
            runs.append(run)
            failing = ", ".join(f"{k} {v}" for k, v in sorted(run.failing_cases.items())) or "none"
            log(
                f"  {run.operations} operations, {run.generated} cases in {run.seconds:.0f} s; failing cases: "
                f"{failing}"
            )
        errors = server.error_lines()
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"schemathesis, {args.examples} examples/operation, seed {args.seed}, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}, {time.monotonic() - t0:.0f} s in all"
    )
    print(f"{'caller':<11} {'ops':>4} {'cases':>7} {'secs':>5}  " + "  ".join(f"{c:>12.12}" for c in CHECKS))
    for run in runs:
        print(
            f"{run.role:<11} {run.operations:>4} {run.generated:>7} {run.seconds:>5.0f}  "
            + "  ".join(f"{run.failing_cases.get(c, 0):>12}" for c in CHECKS)
        )
    total = Counter[str]()
    for run in runs:
        total.update(run.failing_cases)
    print(
        f"{'all':<11} {'':>4} {sum(r.generated for r in runs):>7} {sum(r.seconds for r in runs):>5.0f}  "
        + "  ".join(f"{total.get(c, 0):>12}" for c in CHECKS)
    )
    severe = {key: f for key, f in findings.items() if key[0] in SEVERE}
    print(f"\n5xx and bodies that break their schema: {len(severe) or 'none'}")
    for (check, label, status, media_type, code), finding in sorted(severe.items()):
        print(
            f"- {check} | {label} | {status} {media_type}{f' [{code}]' if code else ''} | {finding.count} cases | "
            f"{','.join(sorted(finding.roles, key=ROLES.index))}"
        )
        print(f"    {finding.detail.splitlines()[0] if finding.detail else ''}")
        print(f"    {finding.example}")
    grouped: dict[tuple[str, int, str, str], list[tuple[str, Finding]]] = defaultdict(list)
    for (check, label, status, media_type, code), finding in findings.items():
        if check not in SEVERE:
            grouped[(check, status, media_type, code)].append((label, finding))
    print("\nUndeclared statuses and media types (check | status media type [code] | cases | operations):")
    for (check, status, media_type, code), items in sorted(grouped.items()):
        cases = sum(f.count for _, f in items)
        print(
            f"- {check} | {status} {media_type}{f' [{code}]' if code else ''} | {cases} | "
            + ", ".join(sorted(label for label, _ in items))
        )
        if args.strict:
            print(f"    e.g. {items[0][1].example}")
    warned = {
        k: sorted({op for run in runs for op in run.warnings.get(k, [])})
        for k in {k for run in runs for k in run.warnings}
    }
    if warned:
        print("\nschemathesis warnings (operations):")
        for kind, ops in sorted(warned.items()):
            print(f"- {kind}: {', '.join(str(o) for o in ops)}")
    print("\nserver ERROR log lines:" + ("" if errors else " none"))
    for line in errors[:30]:
        print(f"- {line}")
    if args.keep:
        print(f"\nlogs and reports kept in {workdir}")
    broken = [r for r in runs if r.exit_code not in (0, 1) or not r.operations]
    for run in broken:
        print(
            f"\nBAD: st run as {run.role} did not do its job (exit {run.exit_code}, {run.operations} operations "
            "tested): its checks passed vacuously"
        )
    return 1 if severe or broken or (args.strict and findings) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
