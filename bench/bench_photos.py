"""Photo benchmarks: the request-path photo work vs a naive Pillow pipeline, end-to-end report
throughput against a real server, what a refused 60 MB upload costs in memory, what each hostile photo
of issue 15 costs the server, and a normal upload's latency while two hostile uploads are in flight.

Run: python bench/bench_photos.py [--repeat 7] [--seconds 10] [--clients 4] [--rounds 20]
Everything runs on this machine: the server listens on 127.0.0.1 only and is stopped at the end. Rate
limits are off for it (the bench files faster than people); any answer the bench does not expect ends
it with the answer printed, so a figure never hides errors.
docs/performance.md budgets: request-path photo work <= 0.35x naive for JPEG; a refused 60 MB upload moves
the server's RSS by <= 20 MB; no request costs more than ~1 s of CPU or ~200 MB of memory whatever its
bytes; a normal upload with two hostile uploads in flight within 2x of its latency alone (issue 15).
Timings drift on a shared machine: every ratio is against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import statistics
import struct
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pillow_heif
from PIL import Image, ImageOps
from support import ROOT, Service, cpu_seconds, log_errors, prepare_database, rss_kb, service_env

from app.photos import structure
from app.photos.pipeline import Budget, inspect, process

sys.path.insert(0, str(ROOT))  # the hostile photos are built by the tests' own helpers
from tests.support import hostile

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
    process(data, budget=Budget(), local_tz=TZ)


def median_ms(fn, data: bytes, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn(data)  # warm up (codec set-up, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def pipeline_bench(repeat: int) -> None:
    print(
        f"\n== photo work per request (median of {repeat}; naive = full decode, exif_transpose, 1600+320 JPEGs)"
    )
    print(f"{'photo':28} {'naive ms':>9} {'ours ms':>8} {'ratio':>6}")
    for label, rel in SAMPLES.items():
        data = (PHOTOS / rel).read_bytes()
        a, b = median_ms(naive, data, repeat), median_ms(ours, data, repeat)
        print(f"{label:28} {a:9.1f} {b:8.1f} {b / a:6.2f}x")


def start_server(workdir: Path) -> Service:
    """``grid-inspector serve`` over a fresh SQLite database with the demo data, rate limits off."""
    # 0 turns every limit off: the bench files and logs in far faster than people.
    env = service_env(f"sqlite+aiosqlite:///{workdir}/bench.db", workdir / "storage", rate_limit=0)
    prepare_database(env, workdir)
    server = Service(env, workdir, workdir / "server.log")
    server.start()
    return server


def expect(r: httpx.Response, status: int, code: str | None, what: str) -> None:
    """End the bench on an answer it does not expect: a figure must never hide errors."""
    got = (
        r.json().get("code") if r.headers.get("content-type", "").startswith("application/problem") else None
    )
    if r.status_code != status or (code is not None and got != code):
        raise SystemExit(f"unexpected answer to {what}: {r.status_code} {r.text[:400]}")


async def token(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    expect(r, 200, None, f"logging in as {username}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


REPORT = json.dumps({"category_code": "06010", "lat": 35.5428, "lon": 106.6652, "description": "bench"})


_SEQUENCE = [0]


def unique(photo: bytes) -> bytes:
    """``photo`` made new bytes that decode the same, as a phone's next photo would be: with the same
    bytes the server would reuse the stored copies and skip the work (content-addressed storage). JPEG
    and PNG decoders stop at their end marker; a HEIF file gets a free box of its own."""
    _SEQUENCE[0] += 1
    tag = _SEQUENCE[0].to_bytes(8, "big")
    return photo + (struct.pack(">I4s", 16, b"free") + tag if photo[4:8] == b"ftyp" else tag)


async def upload(client: httpx.AsyncClient, headers: dict[str, str], photo: bytes) -> httpx.Response:
    photo = unique(photo)
    return await client.post(
        "/api/v1/reports",
        headers=headers,
        files=[("report", (None, REPORT, "application/json")), ("photos", ("p", photo, "image/jpeg"))],
    )


async def throughput(server: Service, seconds: float, clients: int) -> None:
    photo = (PHOTOS / SAMPLES["iPhone 6 JPEG 3264x2448"]).read_bytes()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        headers = await token(client, "worker2", "demo-worker2-2026")
        deadline = time.perf_counter() + seconds

        async def phone() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = await upload(client, headers, photo)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    errors[f"{r.status_code} {r.text[:120]}"] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*[phone() for _ in range(clients)])
        elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(
            f"{sum(errors.values())} of {len(latencies)} uploads answered errors: {dict(errors)}"
        )
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\n== POST /api/v1/reports with one 2.0 MB 12 MP JPEG, {clients} concurrent phones, {seconds:.0f} s, "
        "one uvicorn process, SQLite"
    )
    print(
        f"requests: {len(latencies)} (all 201)  throughput: {len(latencies) / elapsed:.1f} req/s  "
        f"p50: {q[49] * 1000:.0f} ms  p95: {q[94] * 1000:.0f} ms"
    )


async def refused_upload(server: Service) -> None:
    chunk = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024 - 4)
    boundary = "benchboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\nContent-Type: application/json\r\n\r\n'
        '{"category_code": "06010", "lat": 35.5428, "lon": 106.6652}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="huge.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    async def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(60):  # 60 MB, streamed without a Content-Length
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    assert server.proc is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        headers = await token(client, "worker2", "demo-worker2-2026")
        before = rss_kb(server.proc.pid)
        t0 = time.perf_counter()
        try:
            r = await client.post(
                "/api/v1/reports",
                content=body(),
                headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            expect(r, 413, "photo_too_large", "a 60 MB photo part")
            status = f"{r.status_code} {r.json().get('code')}"
        except httpx.HTTPError as exc:  # the server may close the connection once it has answered
            status = f"connection closed after the answer ({type(exc).__name__})"
        elapsed = time.perf_counter() - t0
        after = rss_kb(server.proc.pid)
    print("\n== a 60 MB photo part (limit 15 MB), streamed")
    print(
        f"answer: {status} in {elapsed * 1000:.0f} ms; server RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB "
        f"(moved {(after - before) / 1024:+.1f} MB; budget <= 20 MB)"
    )


# ---- issue 15: hostile photos, what each costs the server, and what they do to a normal upload -------


def hostile_photos() -> dict[str, tuple[bytes, int, str | None]]:
    """name -> (bytes, expected status, expected code): issue 15's files and the heaviest the budget admits."""
    budget = Budget()
    # A flat 35 MP progressive JPEG with luma refinement scans repeated up to the scan-block budget.
    base = hostile.progressive_jpeg((7000, 5000))
    blocks = structure.read_jpeg(base, 10_000, 10_000).scan_blocks
    per_scan = structure.read_jpeg(hostile.with_repeated_scan(base, 1), 10_000, 10_000).scan_blocks - blocks
    repeats = (budget.max_jpeg_scan_blocks - blocks) // per_scan
    at_budget = hostile.with_repeated_scan(base, repeats)
    # A 24 MP HEIC, the size of an iPhone 15's default photo (5712x4284).
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    sample = Image.open(PHOTOS / SAMPLES["iPhone 6 JPEG 3264x2448"]).convert("RGB")
    sample.resize((5712, 4284)).save(out, "HEIF", quality=80)
    photos = {
        "issue 15 scan bomb: 49 MP JPEG, 1,010 scans": (hostile.scan_bomb(), 422, "image_too_complex"),
        "issue 15 PNG: 60 MP transparent RGBA": (hostile.transparent_png(), 413, "image_too_large"),
        f"JPEG 35 MP progressive, {repeats + 10} scans": (at_budget, 201, None),
        "HEIC 24 MP (iPhone 15 size)": (out.getvalue(), 201, None),
    }
    for name, (data, status, _) in photos.items():
        if status == 201:
            plan = inspect(data, budget)
            print(
                f"   {name}: accepted by the budget, estimated {plan.memory / 2**20:.0f} MB, "
                f"{plan.cpu_seconds:.2f} s CPU"
            )
    return photos


async def settle(pid: int, quiet: float = 0.5) -> float:
    """Wait until the server has used no CPU for ``quiet`` seconds (background copies done); its CPU seconds."""
    last = cpu_seconds(pid)
    while True:
        await asyncio.sleep(quiet)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return now
        last = now


async def sample_rss(pid: int, peak: list[int]) -> None:
    """Keep ``peak[0]`` at the largest RSS (kB) of ``pid`` seen, every 10 ms, until cancelled."""
    while True:
        peak[0] = max(peak[0], rss_kb(pid))
        await asyncio.sleep(0.01)


async def attacker(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    photo: tuple[bytes, int, str | None],
    stop: asyncio.Event,
) -> int:
    """Upload ``photo`` again as soon as it is answered, until ``stop``; how many were answered."""
    data, status, code = photo
    done = 0
    while not stop.is_set():
        expect(await upload(client, headers, data), status, code, "a hostile upload")
        done += 1
    return done


async def hostile_costs(
    server: Service, photos: dict[str, tuple[bytes, int, str | None]], n: int = 3
) -> None:
    """Server CPU per upload (the display copy made after the response included) and peak RSS."""
    assert server.proc is not None
    pid = server.proc.pid
    print(
        f"\n== what one hostile upload costs the server (median of {n}, sequential; budget ~1 s CPU, ~200 MB)"
    )
    print(f"{'photo':46} {'bytes':>9} {'answer':24} {'ms':>6} {'CPU s':>6} {'RSS peak +MB':>12}")
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        headers = await token(client, "worker1", "demo-worker1-2026")
        for name, (data, status, code) in photos.items():
            cpus, times, peaks = [], [], []
            for _ in range(n):
                start_cpu, rss0 = await settle(pid), rss_kb(pid)
                peak = [rss0]
                sampler = asyncio.create_task(sample_rss(pid, peak))
                t0 = time.perf_counter()
                r = await upload(client, headers, data)
                times.append(time.perf_counter() - t0)
                expect(r, status, code, name)
                cpus.append(await settle(pid) - start_cpu)
                sampler.cancel()
                peaks.append((peak[0] - rss0) / 1024)
            answer = f"{status} {code or 'created'}"
            print(
                f"{name:46} {len(data):9,} {answer:24} {statistics.median(times) * 1000:6.0f} "
                f"{statistics.median(cpus):6.2f} {max(peaks):12.0f}"
            )


async def normal_latencies(
    client: httpx.AsyncClient, headers: dict[str, str], photo: bytes, rounds: int
) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = await upload(client, headers, photo)
        out.append(time.perf_counter() - t0)
        expect(r, 201, None, "a normal upload")
    return out


async def interference(
    server: Service, photos: dict[str, tuple[bytes, int, str | None]], rounds: int
) -> None:
    """A normal upload (2 MB 12 MP JPEG) one after another, alone and with two hostile uploads always in
    flight (each re-sent as soon as it is answered); the ratio is against the mean of the two baselines
    measured before and after, so a drift of the machine shows as a gap between them."""
    normal = (PHOTOS / SAMPLES["iPhone 6 JPEG 3264x2448"]).read_bytes()
    names = list(photos)
    pairs = {"issue 15's two files (refused)": names[:2], "the two heaviest accepted": names[2:]}
    print(
        f"\n== a normal upload's latency with two hostile uploads in flight ({rounds} uploads each; target <= 2x)"
    )
    print(
        f"{'in flight':34} {'alone p50':>9} {'with p50':>9} {'ratio':>6} {'alone p90':>9} {'with p90':>9} {'ratio':>6} {'hostile done':>12}"
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        worker2 = await token(client, "worker2", "demo-worker2-2026")
        worker1 = await token(client, "worker1", "demo-worker1-2026")
        await normal_latencies(client, worker2, normal, 3)  # warm-up
        for label, pair in pairs.items():
            await settle(server.proc.pid)  # type: ignore[union-attr]
            before = await normal_latencies(client, worker2, normal, rounds)
            stop = asyncio.Event()
            attackers = [asyncio.create_task(attacker(client, worker1, photos[name], stop)) for name in pair]
            await asyncio.sleep(1.0)  # both in flight
            during = await normal_latencies(client, worker2, normal, rounds)
            stop.set()
            done = sum(await asyncio.gather(*attackers))
            await settle(server.proc.pid)  # type: ignore[union-attr]
            after = await normal_latencies(client, worker2, normal, rounds)
            alone = before + after

            def p(xs: list[float], q: int) -> float:
                return statistics.quantiles(xs, n=100)[q - 1] * 1000

            print(
                f"{label:34} {p(alone, 50):9.0f} {p(during, 50):9.0f} {p(during, 50) / p(alone, 50):5.2f}x "
                f"{p(alone, 90):9.0f} {p(during, 90):9.0f} {p(during, 90) / p(alone, 90):5.2f}x {done:12}"
            )
            print(f"{'':34} baselines before/after: p50 {p(before, 50):.0f} / {p(after, 50):.0f} ms")


PARTS = ("pipeline", "refused", "throughput", "hostile", "interference")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=20, help="normal uploads per phase of the interference test"
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which to run, of {','.join(PARTS)}")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "pipeline" in parts:
        pipeline_bench(args.repeat)
    photos = {}
    if parts & {"hostile", "interference"}:
        print("\n== building the hostile photos")
        photos = hostile_photos()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp))
        try:
            if "refused" in parts:
                asyncio.run(refused_upload(server))
            if "throughput" in parts:
                asyncio.run(throughput(server, args.seconds, args.clients))
            if "hostile" in parts:
                asyncio.run(hostile_costs(server, photos))
            if "interference" in parts:
                asyncio.run(interference(server, photos, args.rounds))
        finally:
            server.stop()
            errors = log_errors(server.log_path)
        if errors:
            raise SystemExit("the server logged errors:\n" + "\n".join(errors))


if __name__ == "__main__":
    main()
