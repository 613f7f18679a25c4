"""Photos for tests: real ones from ``tests/data/photos`` and made ones with known EXIF."""

from __future__ import annotations

import io

from PIL import Image, TiffImagePlugin

from tests.support.paths import PHOTOS

ITALY_JPEG = PHOTOS / "ianare_exif-samples/jpg/gps/DSCN0010.jpg"  # GPS 43.46745 N, 11.88513 E; 161,713 bytes
NO_GPS_JPEG = PHOTOS / "ianare_exif-samples/jpg/orientation/landscape_6.jpg"  # EXIF orientation 6, no GPS
REAL_PHOTOS = sorted(p for p in PHOTOS.rglob("*") if p.is_file() and p.suffix.lower() in (".jpg", ".heic"))
XIAOMI_HEIC = PHOTOS / "bigcat88_pillow_heif/tests/images/heif_special/xiaomi.heic"


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    """``image`` saved as ``fmt`` (a Pillow format name) with Pillow's ``save`` options."""
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def jpeg_at(lat: float, lon: float, size: tuple[int, int] = (800, 600)) -> bytes:
    """A real JPEG whose EXIF GPS says (lat, lon), WGS-84 degrees, as a phone in 崆峒区 would write it."""
    R = TiffImagePlugin.IFDRational

    def dms(value: float) -> tuple:
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60, 4)
        return (R(d), R(m), R(int(s * 10000), 10000))

    exif = Image.Exif()
    exif.get_ifd(0x8825).update(
        {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    )
    return encode(Image.new("RGB", size, (120, 110, 90)), "JPEG", exif=exif, quality=80)
