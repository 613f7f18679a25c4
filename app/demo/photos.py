"""Photos of the demo history: small JPEGs "taken on the spot", and two real camera files shipped as data.

A generated photo is what a grid worker's watermark camera (水印相机) gives: a picture with the time and
the position burnt in, and the same in its EXIF (GPS as WGS-84 degrees, DateTimeOriginal with its
offset), so the service's evidence checks (docs/domain.md "Photos as evidence") find it where and when the
step happened. The pixels are a plain street scene drawn from a seed: the same seed, the same bytes.
The real files (data/photos, SOURCES.txt) show the checks catching weak evidence.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, TiffImagePlugin

REAL = Path(__file__).parent / "data" / "photos"
SIZE = (400, 300)
STAGE_LABEL = {"report": "BEFORE", "resolution": "AFTER", "check": "CHECK"}


def real_photo(name: str) -> bytes:
    """A shipped real photo by file name (data/photos)."""
    return (REAL / name).read_bytes()


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    rational = TiffImagePlugin.IFDRational
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return rational(degrees), rational(minutes), rational(int(seconds * 10000), 10000)


def _scene(rng: random.Random, stage: str) -> Image.Image:
    image = Image.new("RGB", SIZE, (150 + rng.randint(-20, 20), 170, 190))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(120, 170)
    draw.rectangle((0, horizon, SIZE[0], SIZE[1]), fill=(120, 118, 112))  # the street
    x = 0
    while x < SIZE[0]:  # buildings along it
        width, height = rng.randint(40, 90), rng.randint(50, 115)
        grey = rng.randint(90, 200)
        draw.rectangle((x, horizon - height, x + width, horizon), fill=(grey, grey - 10, grey - 25))
        x += width + rng.randint(0, 12)
    if stage == "report":  # the problem: heaps, stalls, parked cars as blots on the street
        for _ in range(rng.randint(2, 5)):
            cx, cy = rng.randint(40, SIZE[0] - 40), rng.randint(horizon + 20, SIZE[1] - 60)
            r = rng.randint(15, 35)
            draw.ellipse((cx - r, cy - r // 2, cx + r, cy + r // 2), fill=(rng.randint(60, 140), 70, 40))
    return image


def evidence_jpeg(lat: float, lon: float, taken: dt.datetime, stage: str, seed: int) -> bytes:
    """A watermark-camera JPEG of ``stage`` (report, resolution, check) at (lat, lon) WGS-84, taken at
    ``taken`` (aware; written in its own offset), drawn from ``seed``."""
    rng = random.Random(seed)
    image = _scene(rng, stage)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    offset = taken.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    draw.rectangle((0, SIZE[1] - 44, SIZE[0], SIZE[1]), fill=(20, 20, 20))
    draw.text((8, SIZE[1] - 40), f"{taken:%Y-%m-%d %H:%M} {offset}   {STAGE_LABEL[stage]}", font=font)
    draw.text((8, SIZE[1] - 21), f"{lat:.6f}N  {lon:.6f}E  (WGS-84)", font=font)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Grid Inspector demo", "generated watermark photo"  # Make, Model
    exif.get_ifd(0x8769).update(  # DateTimeOriginal, OffsetTimeOriginal
        {0x9003: f"{taken:%Y:%m:%d %H:%M:%S}", 0x9011: offset}
    )
    exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=75)
    return out.getvalue()
