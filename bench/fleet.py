"""Simulated clients for the load and fault benches (bench/load.py, bench/faults.py), and the reconciliation
of what they were told against the database and the photo storage.

- A phone is a grid worker's app: it files reports with 1-3 real photos from tests/data/photos at varied
  points inside the demo cell, each report with its own Idempotency-Key and client_id, and retries the same
  request (same key, same bytes) after a network error, a 5xx or a 429 until it gets an answer, as a phone
  app with an outbox does. JPEGs get a JPEG comment segment (COM) with a random id, so every photo sent is
  new bytes (a new sha256) and a lost or orphaned file cannot hide behind an earlier report's copy.
- A supervisor lists cases (varied filters), reads the overview, the assessment per unit and single cases.
- Every HTTP attempt is recorded: kind, start and end (perf_counter seconds), status or exception name.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from shapely.geometry import Point, shape
from sqlalchemy import text
from support import ROOT

from app.core.db import create_engine
from app.photos.storage import TEMPORARY_PREFIX, LocalStorage

PHOTO_DIR = ROOT / "tests" / "data" / "photos"
CENTRE = (35.5428, 106.6652)  # lat, lon: inside 中街 cell 620802002001279
CATEGORIES = ["06010", "09009", "06012", "07001", "06036", "01001"]
TIMEOUT = httpx.Timeout(30.0, connect=5.0)  # a request that takes longer counts as hanging
RETRY_STATUSES = {429, 500, 502, 503, 504}


def photo_library() -> list[tuple[str, bytes]]:
    """Every non-empty real JPEG and HEIC in tests/data/photos: (file name, bytes)."""
    paths = sorted(p for p in PHOTO_DIR.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".heic"))
    return [
        (p.name, p.read_bytes()) for p in paths if p.stat().st_size > 0 and "corrupt" not in p.parent.name
    ]


def unique_copy(data: bytes, rng: random.Random) -> bytes:
    """``data`` with a COM segment carrying a random id after its APPn segments (JPEG only; HEIC as is)."""
    if data[:2] != b"\xff\xd8":
        return data
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and 0xE0 <= data[pos + 1] <= 0xEF:
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    note = f"grid-bench {rng.getrandbits(64):016x}".encode()
    return data[:pos] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + data[pos:]


@dataclass
class Sent:
    """One report a phone set out to file, and what it was finally told (``status`` None: never answered)."""

    key: str
    photos: int
    status: int | None = None
    case_id: int | None = None
    attempts: int = 0
    replayed: bool = False
    abandoned: bool = False  # the phone dropped it after a cut connection (the user deleted the draft)
    lost_case_id: int | None = None  # a 2xx the phone pretended not to get (lost on the radio), then retried


@dataclass
class Record:
    """Everything clients saw. ``attempts``: (kind, start, end, status or exception name)."""

    t0: float = field(default_factory=time.perf_counter)
    attempts: list[tuple[str, float, float, int | str]] = field(default_factory=list)
    reports: list[Sent] = field(default_factory=list)
    not_problem: Counter[tuple[str, int]] = field(default_factory=Counter)  # 4xx/5xx not problem+json

    async def call(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, **kw: Any
    ) -> httpx.Response | httpx.HTTPError:
        """One attempt: the response, or the network error (recorded by its class name)."""
        start = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.attempts.append((kind, start, time.perf_counter(), type(exc).__name__))
            return exc
        self.attempts.append((kind, start, time.perf_counter(), r.status_code))
        if r.status_code >= 400 and "application/problem+json" not in r.headers.get("content-type", ""):
            self.not_problem[(kind, r.status_code)] += 1
        return r

    def kinds(self) -> list[str]:
        return sorted({a[0] for a in self.attempts})

    def unexpected(self, allowed: Callable[[str, int | str], bool]) -> Counter[tuple[str, int | str]]:
        """Attempts whose outcome (a status, or a network error's class name) ``allowed(kind, outcome)``
        refuses, counted by (kind, outcome)."""
        return Counter((a[0], a[3]) for a in self.attempts if not allowed(a[0], a[3]))


def successful(_: str, outcome: int | str) -> bool:
    """Only a 2xx answer: what a bench with no fault injected expects of every request."""
    return isinstance(outcome, int) and 200 <= outcome < 300


def print_unexpected(unexpected: Counter[tuple[str, int | str]], what: str) -> None:
    """One line naming every unexpected outcome, loud when there is any."""
    if unexpected:
        items = sorted(unexpected.items(), key=lambda x: (x[0][0], str(x[0][1])))
        print(
            f"BAD: {sum(unexpected.values())} unexpected answers ({what}): "
            + ", ".join(f"{k} {s}: {n}" for (k, s), n in items)
        )
    else:
        print(f"unexpected answers ({what}): none")


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": f"demo-{username}-2026"}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def cell_points(
    client: httpx.AsyncClient, headers: dict[str, str], n: int, rng: random.Random
) -> tuple[list[tuple[float, float]], list[int]]:
    """``n`` random (lat, lon) inside the demo centre's deepest cell, and the ids of its cell chain."""
    r = await client.get("/api/v1/grids/locate", params={"lat": CENTRE[0], "lon": CENTRE[1]}, headers=headers)
    chain = r.raise_for_status().json()["chain"]
    cell = (await client.get(f"/api/v1/grids/{chain[0]['id']}", headers=headers)).raise_for_status().json()
    poly = shape(cell["geometry"]).buffer(-0.00002)  # ~2 m inside the edges
    minx, miny, maxx, maxy = poly.bounds
    points: list[tuple[float, float]] = []
    while len(points) < n:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if poly.contains(Point(lon, lat)):
            points.append((round(lat, 6), round(lon, 6)))
    return points, [c["id"] for c in chain]


@dataclass
class Fleet:
    """The clients of one bench run, sharing one record; ``stop`` ends new work, ``give_up_at`` (perf_counter
    seconds) ends retries of reports still unanswered."""

    url: str
    record: Record
    tokens: dict[str, dict[str, str]]
    points: list[tuple[float, float]]
    chain: list[int]
    library: list[tuple[str, bytes]]
    seed: int = 7
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    give_up_at: float = float("inf")
    abandon: float = 0.0  # probability that a phone drops a report whose upload was cut, instead of retrying
    lose_answer: float = 0.0  # probability that a 2xx is "lost" on the way back, so the phone retries
    on_answer: Callable[[Sent], None] | None = None

    async def phone(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)
        headers = self.tokens["worker1" if number % 2 else "worker2"]
        async with httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT) as client:
            while not self.stop.is_set():
                await self.file_one(client, headers, rng)

    async def file_one(self, client: httpx.AsyncClient, headers: dict[str, str], rng: random.Random) -> None:
        chosen = [rng.choice(self.library) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        files = [(name, unique_copy(data, rng)) for name, data in chosen]
        lat, lon = rng.choice(self.points)
        sent = Sent(key=str(uuid.UUID(int=rng.getrandbits(128))), photos=len(files))
        body = json.dumps(
            {
                "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "category_code": rng.choice(CATEGORIES),
                "description": f"bench report {sent.key}",
                "lat": lat,
                "lon": lon,
            }
        )
        self.record.reports.append(sent)
        delay = 0.2
        while time.perf_counter() < self.give_up_at:
            sent.attempts += 1
            parts = [("report", (None, body, "application/json"))]
            parts += [
                ("photos", (name, data, "image/heic" if name.lower().endswith(".heic") else "image/jpeg"))
                for name, data in files
            ]
            r = await self.record.call(
                client,
                "report",
                "POST",
                "/api/v1/reports",
                files=parts,
                headers={**headers, "Idempotency-Key": sent.key},
            )
            if (
                isinstance(r, httpx.Response)
                and r.is_success
                and sent.lost_case_id is None
                and rng.random() < self.lose_answer
            ):
                sent.lost_case_id = r.json()["id"]  # the answer never reached the phone: it retries
                await asyncio.sleep(delay)
                continue
            if isinstance(r, httpx.Response) and r.status_code not in RETRY_STATUSES:
                sent.status = r.status_code
                if r.is_success:
                    sent.case_id, sent.replayed = (
                        r.json()["id"],
                        r.headers.get("Idempotent-Replayed") == "true",
                    )
                if self.on_answer:
                    self.on_answer(sent)
                return
            cut = isinstance(r, httpx.HTTPError) and not isinstance(r, httpx.ConnectError)  # sent, then lost
            if cut and rng.random() < self.abandon:
                sent.abandoned = True
                return
            wait = delay
            if isinstance(r, httpx.Response) and r.headers.get("Retry-After", "").isdigit():
                wait = min(float(r.headers["Retry-After"]), 5.0)
            await asyncio.sleep(wait * rng.uniform(0.8, 1.2))
            delay = min(delay * 2, 2.0)

    async def supervisor(self, number: int) -> None:
        rng = random.Random(self.seed * 7000 + number)
        headers = self.tokens["supervisor"]
        filters: list[dict[str, Any]] = [
            {},
            {"status": "dispatched"},
            {"category": "06"},
            {"grid": self.chain[-1]},
            {"grid": self.chain[0], "status": ["dispatched", "registered"]},
            {"overdue": "false", "category": "09009"},
            {"q": "bench"},
            {"bbox": "106.66,35.54,106.67,35.55"},
        ]
        async with httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT) as client:
            while not self.stop.is_set():
                kind = rng.choice(["list", "list", "overview", "assessment", "case"])
                if kind == "list":
                    r = await self.record.call(
                        client,
                        "list",
                        "GET",
                        "/api/v1/reports",
                        headers=headers,
                        params={**rng.choice(filters), "limit": 50},
                    )
                elif kind == "overview":
                    r = await self.record.call(
                        client, "overview", "GET", "/api/v1/stats/overview", headers=headers
                    )
                elif kind == "assessment":
                    r = await self.record.call(
                        client,
                        "assessment",
                        "GET",
                        "/api/v1/stats/assessment",
                        headers=headers,
                        params={"group_by": "unit"},
                    )
                else:
                    done = [s.case_id for s in self.record.reports[-200:] if s.case_id]
                    if not done:
                        await asyncio.sleep(0.05)
                        continue
                    r = await self.record.call(
                        client, "case", "GET", f"/api/v1/reports/{rng.choice(done)}", headers=headers
                    )
                if not (isinstance(r, httpx.Response) and r.is_success):
                    await asyncio.sleep(0.1)  # a dashboard does not hammer a failing service


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def print_latencies(record: Record, seconds: float) -> None:
    """Requests/s and p50/p95/p99 (ms) per kind over the successful (2xx) attempts, then the others by kind
    and status: an error is never counted as throughput (a 429 is answered fast)."""
    answered = [a for a in record.attempts if successful(a[0], a[3])]
    print(f"\n{'kind':<11} {'2xx':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in [*record.kinds(), "all"]:
        lat = [(a[2] - a[1]) * 1000 for a in answered if kind in (a[0], "all")]
        if lat:
            print(
                f"{kind:<11} {len(lat):>8} {len(lat) / seconds:>7.1f} {percentile(lat, 50):>8.0f} "
                f"{percentile(lat, 95):>8.0f} {percentile(lat, 99):>8.0f} {max(lat):>8.0f}"
            )
    errors = record.unexpected(successful)
    print(
        "not 2xx, by kind and status: "
        + (
            ", ".join(
                f"{k} {s}: {n}" for (k, s), n in sorted(errors.items(), key=lambda x: (x[0][0], str(x[0][1])))
            )
            or "none"
        )
    )
    if record.not_problem:
        print(f"errors not in problem+json: {dict(record.not_problem)}")


@dataclass
class Reconciliation:
    lines: list[tuple[str, Any, Any]] = field(default_factory=list)  # (what, expected, found)
    info: list[str] = field(default_factory=list)

    def check(self, what: str, expected: Any, found: Any) -> None:
        self.lines.append((what, expected, found))

    @property
    def ok(self) -> bool:
        return all(e == f for _, e, f in self.lines)

    def print(self) -> None:
        print("\nreconciliation (clients vs database vs storage):")
        for what, expected, found in self.lines:
            print(f"  {'ok ' if expected == found else 'BAD'} {what}: expected {expected}, found {found}")
        for line in self.info:
            print(f"  ... {line}")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or {})


async def reconcile(
    database_url: str, storage_dir: Path, reports: list[Sent], cases_before: int = 0
) -> Reconciliation:
    """Compare what phones were told with the ``cases``, ``case_events`` and ``photos`` rows and the files."""
    out = Reconciliation()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            described = {
                row[0]: row[1] for row in await conn.execute(text("SELECT id, description FROM cases"))
            }
            report_events = {
                row[0]: _json(row[1])
                for row in await conn.execute(
                    text("SELECT case_id, data FROM case_events WHERE action = 'report'")
                )
            }
            photo_rows = list(await conn.execute(text("SELECT case_id, sha256 FROM photos")))
    finally:
        await engine.dispose()
    cases = set(described)
    accepted = [s for s in reports if s.status is not None and 200 <= s.status < 300]
    answered = [s for s in reports if s.status is not None]
    abandoned = [s for s in reports if s.abandoned]
    # An abandoned report may have committed before its connection was cut: the case exists, no phone knows it.
    keys = {
        d.removeprefix("bench report "): cid
        for cid, d in described.items()
        if d and d.startswith("bench report ")
    }
    kept_anyway = [s for s in abandoned if s.key in keys]
    per_case = Counter(case_id for case_id, _ in photo_rows)
    out.info.append(
        f"{len(reports)} reports started, {len(answered)} answered, {len(accepted)} accepted "
        f"({sum(s.replayed for s in accepted)} of them on a retry, as a replay), "
        f"{sum(s.attempts for s in reports) - len(reports)} retries; "
        f"refused: {dict(Counter(s.status for s in answered if s not in accepted))}"
    )
    if abandoned:
        out.info.append(
            f"{len(abandoned)} reports abandoned by their phone after a cut upload; "
            f"{len(kept_anyway)} of them had committed (cases no phone was told of, as expected)"
        )
    out.check("reports never answered (phone gave up)", 0, len(reports) - len(answered) - len(abandoned))
    out.check(
        "2xx report creations == distinct cases they name", len(accepted), len({s.case_id for s in accepted})
    )
    out.check(
        "new cases in the database == 2xx creations + abandoned ones that committed",
        len(accepted) + len(kept_anyway),
        len(cases) - cases_before,
    )
    lost = [s for s in accepted if s.lost_case_id is not None]
    if lost:
        out.info.append(f"{len(lost)} 2xx answers dropped on the way back and retried with the same key")
        out.check(
            "retries after a lost 2xx answered by something else than a replay of the same case",
            0,
            sum(1 for s in lost if s.case_id != s.lost_case_id or not s.replayed),
        )
    out.check(
        "cases a phone was told of, missing from the database",
        0,
        sum(1 for s in accepted if s.case_id not in cases),
    )
    out.check(
        "photos rows == photos sent in accepted reports (+ abandoned ones that committed)",
        sum(s.photos for s in [*accepted, *kept_anyway]),
        len(photo_rows),
    )
    out.check(
        "accepted reports whose photos rows differ from what was sent",
        0,
        sum(1 for s in accepted if per_case.get(s.case_id, 0) != s.photos),
    )
    out.check("cases without their report event", 0, len(cases - set(report_events)))
    out.check(
        "partial cases (photos rows != the report event's photo count)",
        0,
        sum(1 for cid, data in report_events.items() if per_case.get(cid, 0) < int(data.get("photos", 0))),
    )
    # Storage: every row's original and thumbnail there; no file whose sha256 no row references.
    storage = LocalStorage(storage_dir)
    files: dict[str, set[str]] = {"originals": set(), "thumbnails": set(), "display": set()}
    temporaries = 0
    for entry in storage.entries(""):
        variant, name = entry.key.partition("/")[0], entry.key.rpartition("/")[2]
        if name.startswith(TEMPORARY_PREFIX):
            temporaries += 1
        elif variant in files:
            files[variant].add(name)
    shas = {sha for _, sha in photo_rows}
    stored = set().union(*files.values())
    out.check("photos rows whose original file is missing", 0, len(shas - files["originals"]))
    out.check("photos rows whose thumbnail file is missing", 0, len(shas - files["thumbnails"]))
    out.check("orphan photos in storage (files, no row)", 0, len(stored - shas))
    out.check("temporary .tmp-* files left", 0, temporaries)
    out.info.append(
        f"storage: {len(files['originals'])} originals, {len(files['thumbnails'])} thumbnails, "
        f"{len(files['display'])} display copies ({len(shas - files['display'])} not made yet: made "
        "after the response, and on demand)"
    )
    return out
