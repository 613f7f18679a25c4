"""Photo benchmarks: the request-path photo work vs a naive Pillow pipeline, end-to-end report
throughput against a real server, and what a refused 60 MB upload costs in memory.

Run: python bench/bench_photos.py [--repeat 7] [--seconds 10] [--clients 4]
Everything runs on this machine: the server listens on 127.0.0.1 only and is stopped at the end.
PERFORMANCE.md budgets: request-path photo work <= 0.35x naive for JPEG; a refused 60 MB upload moves
the server's RSS by <= 20 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from PIL import Image, ImageOps
from support import free_port, rss_kb

from app.photos.pipeline import process

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "tests" / "data" / "photos"
SAMPLES = {
    "iPhone 6 JPEG 3264x2448": "ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg",
    "Nokia 8.3 JPEG 4608x1976": "ianare_exif-samples/jpg/mobile/HMD_Nokia_8.3_5G.jpg",
    "Olympus JPEG 3648x2736": "ianare_exif-samples/jpg/corrupted.jpg",
    "iPhone 13 HEIC 4032x3024": "bigcat88_pillow_heif/tests/images/heif_other/pug.heic",
    "Xiaomi HEIC 2592x1944": "bigcat88_pillow_heif/tests/images/heif_special/xiaomi.heic",
}
TZ = ZoneInfo("Asia/Shanghai")


def naive(data: bytes) -> None:
    """What a first version would do: full decode, exif_transpose, 1600 and 320 px JPEGs."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    image.load()
    for size in (1600, 320):
        copy = image.copy()
        copy.thumbnail((size, size))
        copy.convert("RGB").save(io.BytesIO(), "JPEG", quality=85)


def ours(data: bytes) -> None:
    hashlib.sha256(data).hexdigest()
    process(data, max_pixels=60_000_000, local_tz=TZ)


def median_ms(fn, data: bytes, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn(data)  # warm up (codec set-up, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def pipeline_bench(repeat: int) -> None:
    print(f"\n== photo work per request (median of {repeat}; naive = full decode, exif_transpose, 1600+320 JPEGs)")
    print(f"{'photo':28} {'naive ms':>9} {'ours ms':>8} {'ratio':>6}")
    for label, rel in SAMPLES.items():
        data = (PHOTOS / rel).read_bytes()
        a, b = median_ms(naive, data, repeat), median_ms(ours, data, repeat)
        print(f"{label:28} {a:9.1f} {b:8.1f} {b / a:6.2f}x")


class Server:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, "GRID_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
                    "GRID_STORAGE_DIR": str(workdir / "storage")}
        subprocess.run([sys.executable, "-m", "app.cli", "demo"], env=self.env, cwd=workdir, check=True,
                       capture_output=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                                      "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                                     env=self.env, cwd=workdir)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def token(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def throughput(server: Server, seconds: float, clients: int) -> None:
    photo = (PHOTOS / SAMPLES["iPhone 6 JPEG 3264x2448"]).read_bytes()
    report = json.dumps({"category_code": "06010", "lat": 35.5428, "lon": 106.6652, "description": "bench"})
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        headers = await token(client, "worker2", "demo-worker2-2026")
        deadline = time.perf_counter() + seconds

        async def phone() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = await client.post("/api/v1/reports", headers=headers, files=[
                    ("report", (None, report, "application/json")), ("photos", ("p.jpg", photo, "image/jpeg"))])
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code != 201

        t0 = time.perf_counter()
        await asyncio.gather(*[phone() for _ in range(clients)])
        elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    print(f"\n== POST /api/v1/reports with one 2.0 MB 12 MP JPEG, {clients} concurrent phones, {seconds:.0f} s, "
          "one uvicorn process, SQLite")
    print(f"requests: {len(latencies)}  errors: {errors}  throughput: {len(latencies) / elapsed:.1f} req/s  "
          f"p50: {q[49] * 1000:.0f} ms  p95: {q[94] * 1000:.0f} ms")


async def refused_upload(server: Server) -> None:
    chunk = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024 - 4)
    boundary = "benchboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"report\"\r\nContent-Type: application/json\r\n\r\n"
            '{"category_code": "06010", "lat": 35.5428, "lon": 106.6652}\r\n'
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"huge.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()

    async def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(60):  # 60 MB, streamed without a Content-Length
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        headers = await token(client, "worker2", "demo-worker2-2026")
        before = rss_kb(server.proc.pid)
        t0 = time.perf_counter()
        try:
            r = await client.post("/api/v1/reports", content=body(), headers={
                **headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
            status = f"{r.status_code} {r.json().get('code')}"
        except httpx.HTTPError as exc:  # the server may close the connection once it has answered
            status = f"connection closed after the answer ({type(exc).__name__})"
        elapsed = time.perf_counter() - t0
        after = rss_kb(server.proc.pid)
    print("\n== a 60 MB photo part (limit 15 MB), streamed")
    print(f"answer: {status} in {elapsed * 1000:.0f} ms; server RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB "
          f"(moved {(after - before) / 1024:+.1f} MB; budget <= 20 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    pipeline_bench(args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            asyncio.run(refused_upload(server))
            asyncio.run(throughput(server, args.seconds, args.clients))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
