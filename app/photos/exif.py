"""What a photo's EXIF says: position (WGS-84 degrees), time taken, camera and orientation.

Pure functions on Pillow's :class:`~PIL.Image.Exif` (EXIF 2.32, CIPA DC-008): a phone's EXIF is
evidence, not truth, so values that mean nothing (0/0 rationals, NaN, out-of-range, exactly 0,0)
count as absent rather than failing the photo.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from PIL import ExifTags, Image


def _ratio(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # raw (numerator, denominator)
        num, den = value
        return float(num) / float(den) if den else math.nan
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan


def _dms(values: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (_ratio(v) for v in values)
    except (TypeError, ValueError):
        return None
    degrees = d + m / 60 + s / 3600
    if not math.isfinite(degrees):
        return None
    return -degrees if str(ref).strip().upper().startswith(negative) else degrees


def read_gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    """EXIF GPS as WGS-84 decimal degrees; 0/0 rationals, NaN, out-of-range or exactly 0,0 count as absent."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if not gps:
        return None, None
    lat = _dms(gps.get(2), gps.get(1, "N"), "S")
    lon = _dms(gps.get(4), gps.get(3, "E"), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return round(lat, 7), round(lon, 7)


def read_taken_at(exif: Image.Exif, local_tz: dt.tzinfo) -> dt.datetime | None:
    """DateTimeOriginal with OffsetTimeOriginal when present; without an offset, the city's time zone."""
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    raw = ifd.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not isinstance(raw, str):
        return None
    try:
        naive = dt.datetime.strptime(raw.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = ifd.get(ExifTags.Base.OffsetTimeOriginal) or ifd.get(ExifTags.Base.OffsetTime)
    if isinstance(offset, str):
        try:
            return dt.datetime.strptime(f"{naive:%Y-%m-%dT%H:%M:%S}{offset.strip()}", "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            pass
    return naive.replace(tzinfo=local_tz)


def text(value: Any) -> str | None:
    """A camera's make or model as at most 64 characters, or None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:64] or None


def orientation_of(exif: Image.Exif) -> int:
    """The EXIF Orientation (1..8; anything else is 1, upright)."""
    try:
        value = int(exif.get(ExifTags.Base.Orientation) or 1)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def orientation_segment(orientation: int) -> bytes:
    """A JPEG APP1 segment with an EXIF block holding only ``orientation`` (empty for 1, upright)."""
    if orientation == 1:
        return b""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    payload = exif.tobytes()  # starts with b"Exif\0\0"
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
