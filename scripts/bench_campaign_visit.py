"""Does a visit cost more photo work than a report? (docs/performance budget: "a visit with 15 items and 3
photos submitted from a phone costs no more photo work than a report with 3 photos".)

In one process, on a fresh SQLite database with the demo data: alternately file a report with 3 real phone
photos and submit a market visit (15 items, 3 failures, one photo each, 3 cases opened), ``--rounds`` times.
Every call of the photo pipeline (the request path's check and thumbnail, the display copy made after the
response) is counted and timed; the ratios visit / report are printed, the baseline measured in the same run.
    .venv/bin/python scripts/bench_campaign_visit.py [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app.photos import pipeline

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = [
    ROOT / "tests/data/photos/ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg",
    ROOT / "tests/data/photos/ianare_exif-samples/jpg/mobile/HMD_Nokia_8.3_5G.jpg",
    ROOT / "tests/data/photos/ianare_exif-samples/jpg/gps/DSCN0010.jpg",
]
SPENT: dict[str, list[float]] = {"process": [], "display_copy": []}


def _counted(name: str, fn: Any) -> Any:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[name].append(time.perf_counter() - started)

    return run


pipeline.process = _counted("process", pipeline.process)  # type: ignore[assignment]
pipeline.display_copy = _counted("display_copy", pipeline.display_copy)  # type: ignore[assignment]


async def main(rounds: int) -> None:
    from app.campaign.demo import load_campaign_demo
    from app.categories.service import load_catalogue
    from app.core import bootstrap
    from app.core.config import AuthSettings, DatabaseSettings, RateLimitSettings, Settings, StorageSettings
    from app.core.db import Database, create_engine
    from app.core.security import create_access_token
    from app.demo.builder import build_demo
    from app.main import create_app

    work = Path(tempfile.mkdtemp(prefix="bench-visit-"))
    url = f"sqlite+aiosqlite:///{work}/bench.db"
    await asyncio.to_thread(bootstrap.upgrade, url)
    engine = create_engine(url)
    async with Database(engine).sessionmaker() as session:
        await load_catalogue(session)
        await build_demo(session)
        await load_campaign_demo(session)
        await session.commit()
    settings = Settings(
        env="test",
        database=DatabaseSettings(database_url=url),
        auth=AuthSettings(secret_key="bench-only-secret-key-0123456789abcdef"),
        storage=StorageSettings(storage_dir=str(work / "storage")),
        rate_limits=RateLimitSettings(
            login_per_username=0, login_per_address=0, reports_per_user=0, reports_per_api_key=0
        ),
    )
    app = create_app(settings=settings, database=Database(engine))

    def bearer(user_id: int, role: str) -> dict[str, str]:
        token, _ = create_access_token(
            subject=str(user_id), role=role, secret=settings.auth.secret_key, algorithm="HS256", minutes=60
        )
        return {"Authorization": f"Bearer {token}"}

    photos = [(p.name, p.read_bytes()) for p in PHOTOS]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    ) as c:
        users = {
            u["username"]: u
            for u in (await c.get("/api/v1/users", headers=bearer(1, "admin"))).json()["items"]
        }
        office, worker = (
            bearer(users["supervisor"]["id"], "supervisor"),
            bearer(users["worker2"]["id"], "worker"),
        )
        market = (await c.get("/api/v1/campaign/points", params={"q": "KT-NM-001"}, headers=office)).json()[
            "items"
        ][0]
        types = (await c.get("/api/v1/campaign/point-types", headers=office)).json()["items"]
        items = next(t for t in types if t["code"] == "NMSC")["items"]
        failing = {"NM-05": photos[0][0], "NM-07": photos[1][0], "NM-14": photos[2][0]}
        results = []
        for item in items:
            if item["code"] in failing:
                results.append(
                    {
                        "item": item["code"],
                        "result": "noncompliant",
                        "note": "bench",
                        "photos": [failing[item["code"]]],
                    }
                )
            elif item["answer_kind"] == "count_min":
                results.append({"item": item["code"], "result": "compliant", "amount": item["threshold"]})
            else:
                results.append({"item": item["code"], "result": "compliant"})
        body = json.dumps({"results": results}, ensure_ascii=False)

        def fresh(tag: str) -> list[tuple[str, tuple[str, bytes, str]]]:
            # Bytes after the end of the image change the sha256 (new files, new display copies), not the pixels.
            return [("photos", (n, d + tag.encode(), "image/jpeg")) for n, d in photos]

        async def report(tag: str) -> float:
            files = [
                (
                    "report",
                    (
                        None,
                        json.dumps({"category_code": "06010", "lat": 35.5428, "lon": 106.6652}),
                        "application/json",
                    ),
                )
            ]
            started = time.perf_counter()
            r = await c.post("/api/v1/reports", files=files + fresh(tag), headers=worker)
            took = time.perf_counter() - started
            assert r.status_code == 201, r.text
            return took

        async def visit(tag: str) -> float:
            spec = {
                "kind": "patrol",
                "title": "bench",
                "period_from": "2026-12-07",
                "period_to": "2026-12-07",
                "grid_id": market["grid"]["id"],
                "points": [market["id"]],
            }
            round_ = (await c.post("/api/v1/campaign/rounds", json=spec, headers=office)).json()
            await c.post(
                f"/api/v1/campaign/rounds/{round_['id']}/actions", json={"action": "open"}, headers=office
            )
            files = [("visit", (None, body, "application/json")), *fresh(tag)]
            started = time.perf_counter()
            r = await c.post(
                f"/api/v1/campaign/visits/{round_['visits'][0]['id']}/submit", files=files, headers=worker
            )
            took = time.perf_counter() - started
            assert r.status_code == 200 and len(r.json()["cases"]) == 3, r.text
            return took

        figures: dict[str, dict[str, list[float]]] = {"report": {}, "visit": {}}
        for n in range(rounds + 1):
            for name, action in (
                (("report", report), ("visit", visit)) if n % 2 else (("visit", visit), ("report", report))
            ):
                await app.state.workshop.drain()
                for spent in SPENT.values():
                    spent.clear()
                request = await action(f"{name}-{n}")
                await app.state.workshop.drain()  # the display copies, after the response
                if n == 0:
                    continue  # warm-up
                f = figures[name]
                f.setdefault("request s", []).append(request)
                f.setdefault("decodes in request", []).append(len(SPENT["process"]))
                f.setdefault("photo s in request", []).append(sum(SPENT["process"]))
                f.setdefault("display copies", []).append(len(SPENT["display_copy"]))
                f.setdefault("photo s after", []).append(sum(SPENT["display_copy"]))
    await engine.dispose()
    print(f"{rounds} of each, alternating (medians; the visit opens 3 cases; the report is the baseline):")
    for key in figures["report"]:
        base, mine = statistics.median(figures["report"][key]), statistics.median(figures["visit"][key])
        ratio = f"{mine / base:.2f}x" if base else "-"
        print(f"  {key:20} report {base:8.3f}   visit {mine:8.3f}   visit/report {ratio}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    asyncio.run(main(parser.parse_args().rounds))
