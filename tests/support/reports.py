"""Helpers for filing reports the way phone apps do."""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image, TiffImagePlugin

from tests.conftest import PHOTOS

CENTRE = {"lat": 35.5428, "lon": 106.6652}  # a 中街街道 cell, WGS-84
ITALY_JPEG = PHOTOS / "ianare_exif-samples/jpg/gps/DSCN0010.jpg"
NO_GPS_JPEG = PHOTOS / "ianare_exif-samples/jpg/orientation/landscape_6.jpg"


def report_files(report: dict[str, Any] | str | bytes, photos: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
                 content_type: str = "application/json", field: str = "photos") -> list[tuple[str, tuple]]:
    body = report if isinstance(report, (str, bytes)) else json.dumps(report)
    files: list[tuple[str, tuple]] = [("report", (None, body, content_type))]
    files += [(field, (name, data, "image/jpeg")) for name, data in photos]
    return files


def jpeg_at(lat: float, lon: float, size: tuple[int, int] = (800, 600)) -> bytes:
    """A real JPEG whose EXIF GPS says (lat, lon), as a phone in 崆峒区 would write it."""
    R = TiffImagePlugin.IFDRational

    def dms(value: float) -> tuple:
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60, 4)
        return (R(d), R(m), R(int(s * 10000), 10000))

    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)})
    out = io.BytesIO()
    Image.new("RGB", size, (120, 110, 90)).save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()
