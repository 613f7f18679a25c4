"""The photo pipeline: prove a phone photo whole, read its EXIF, make derivatives without metadata.

Pure functions on bytes (no database, no event loop): the service runs them in a bounded thread
pool (Pillow releases the GIL while decoding). Per PERFORMANCE.md, the request path does: sniff,
sha256, one scaled decode (integrity + EXIF + orientation), the thumbnail; the 1600 px display copy
is made after the response, and again on demand if it is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

THUMBNAIL_PX = 320
DISPLAY_PX = 1600
JPEG_QUALITY = 85
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


class PhotoError(Exception):
    """A photo the pipeline refuses; ``code`` is the API's stable error code."""

    code = "corrupt_image"
    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsupportedFormat(PhotoError):
    code, status = "unsupported_image_format", 415


class ImageTooLarge(PhotoError):
    code, status = "image_too_large", 413


class EmptyImage(PhotoError):
    code, status = "empty_image", 422


class CorruptImage(PhotoError):
    code, status = "corrupt_image", 422


def sniff(data: bytes) -> str | None:
    """The format by magic bytes: ``jpeg``, ``png``, ``webp``, ``heif`` or None. Names and types are ignored."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        size = int.from_bytes(data[:4], "big")
        brands = {data[8:12]} | {data[i:i + 4] for i in range(16, min(size, 64), 4)}
        if brands & _HEIF_BRANDS:
            return "heif"
    return None


@dataclass
class PhotoFacts:
    """What is extracted from one photo: shapes in pixels after orientation, GPS in WGS-84 degrees."""

    sha256: str
    format: str
    size_bytes: int
    width: int
    height: int
    orientation: int
    taken_at: dt.datetime | None
    gps_lat: float | None
    gps_lon: float | None
    make: str | None
    model: str | None
    exif_problems: list[str] = field(default_factory=list)


@dataclass
class Processed:
    facts: PhotoFacts
    thumbnail: bytes  # JPEG <= 320 px, RGB, no metadata


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


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:64] or None


def _rgb(image: Image.Image) -> Image.Image:
    """RGB for JPEG: alpha flattened on white, CMYK/palette/16-bit converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    clean = _rgb(image)
    if clean is image:
        clean = image.copy()
    # Pillow writes what info carries (a JPEG COM comment, say); no exif=/icc_profile=/xmp= either:
    # the derivative carries no metadata at all.
    clean.info = {}
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """The size of ``size`` scaled to fit a ``box`` square (never enlarged)."""
    width, height = size
    scale = min(1.0, box / max(width, height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _iso_boxes_complete(data: bytes) -> bool:
    """Whether the top-level ISO-BMFF boxes (HEIF) add up to the file: a cut-off upload does not."""
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            return False
        size = int.from_bytes(data[offset:offset + 4], "big")
        if size == 1:
            if offset + 16 > len(data):
                return False
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
        elif size == 0:  # the last box runs to the end of the file
            return True
        if size < 8 or offset + size > len(data):
            return False
        offset += size
    return True


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    if not data:
        raise EmptyImage("the photo is empty (0 bytes)")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedFormat("not a JPEG, PNG, WebP or HEIC/HEIF photo (judged by its bytes)")
    if kind == "heif" and not _iso_boxes_complete(data):
        raise CorruptImage("the HEIC/HEIF photo is truncated (its boxes run past the end of the file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"the photo has more than the {max_pixels:,} pixels allowed") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CorruptImage(f"the {kind} photo cannot be read ({type(exc).__name__})") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"{width}x{height} pixels is more than the {max_pixels:,} allowed")
    if width < 1 or height < 1:
        raise CorruptImage("the photo has no pixels")
    return image, kind


def _decode(image: Image.Image, kind: str, max_pixels: int) -> None:
    """Decode the pixels (the whole file); :class:`ImageTooLarge` or :class:`CorruptImage` if it cannot be."""
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the photo has more than the {max_pixels:,} pixels allowed") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CorruptImage(f"the {kind} photo is truncated or corrupt ({type(exc).__name__})") from exc


def process(data: bytes, *, max_pixels: int, local_tz: dt.tzinfo) -> Processed:
    """Check, describe and thumbnail one photo (the request-path work).

    Raises :class:`UnsupportedFormat` (415), :class:`ImageTooLarge` (413), :class:`EmptyImage` or
    :class:`CorruptImage` (422). A broken EXIF block never fails an otherwise good photo: it is
    ignored and noted in ``exif_problems``.
    """
    image, kind = _open(data, max_pixels)
    if kind != "jpeg":
        # Pillow reads a PNG's EXIF after its pixels, so getexif() decodes the image: decode it here
        # first, or a corrupt IDAT would pass as "EXIF unreadable" on a half-decoded photo.
        _decode(image, kind, max_pixels)
    problems: list[str] = []
    try:
        exif = image.getexif()
    except Exception as exc:  # noqa: BLE001 - any EXIF defect: keep the photo, drop the metadata
        exif, problems = Image.Exif(), [f"EXIF unreadable: {type(exc).__name__}"]
    orientation = 1
    gps: tuple[float | None, float | None] = (None, None)
    taken_at = make = model = None
    try:
        orientation = int(exif.get(ExifTags.Base.Orientation) or 1)
        orientation = orientation if 1 <= orientation <= 8 else 1
        gps = read_gps(exif)
        taken_at = read_taken_at(exif, local_tz)
        make, model = _text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))
    except Exception as exc:  # noqa: BLE001 - same: metadata is evidence, not a reason to refuse
        problems.append(f"EXIF field unreadable: {type(exc).__name__}")
    width, height = image.size
    if orientation in _ROTATED:
        width, height = height, width
    try:
        if kind == "jpeg":
            # A DCT-scaled decode (1/2 .. 1/8) still entropy-decodes the whole file, so it proves
            # the file is whole at a fraction of the cost of a full decode. Ask for the thumbnail's
            # box in the photo's own aspect, so a 4:3 photo gets the 1/8 scale, not 1/4.
            image.draft("RGB", _fit(image.size, THUMBNAIL_PX))
        _decode(image, kind, max_pixels)
        small = image.copy()
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
        if orientation != 1:
            small.getexif()[ExifTags.Base.Orientation] = orientation
            small = ImageOps.exif_transpose(small)
        thumbnail = _jpeg(small)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"the photo has more than the {max_pixels:,} pixels allowed") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CorruptImage(f"the {kind} photo is truncated or corrupt ({type(exc).__name__})") from exc
    facts = PhotoFacts(sha256=hashlib.sha256(data).hexdigest(), format=kind, size_bytes=len(data), width=width,
                       height=height, orientation=orientation, taken_at=taken_at, gps_lat=gps[0], gps_lon=gps[1],
                       make=make, model=model, exif_problems=problems)
    return Processed(facts=facts, thumbnail=thumbnail)


def display_copy(data: bytes, *, max_pixels: int) -> bytes:
    """The display derivative: upright, <= 1600 px, RGB JPEG with no metadata."""
    image, kind = _open(data, max_pixels)
    if kind == "jpeg":
        image.draft("RGB", _fit(image.size, DISPLAY_PX))
    image = ImageOps.exif_transpose(image)
    image.thumbnail((DISPLAY_PX, DISPLAY_PX), Image.Resampling.LANCZOS)
    return _jpeg(image)


def stripped_original(data: bytes, *, max_pixels: int) -> tuple[bytes, str]:
    """The original for staff without metadata: ``(bytes, media type)``.

    JPEGs lose their APP1 (EXIF/XMP), APP13 (IPTC) and COM segments and anything after the end of
    the image (motion-photo videos, appended files) without re-encoding, so the pixels are the ones
    the phone took; a minimal EXIF block with only the Orientation tag is put back so viewers still
    turn it upright. Other formats are re-encoded at full size, upright, as JPEG.
    """
    if sniff(data) == "jpeg":
        orientation = 1
        try:
            orientation = int(Image.open(io.BytesIO(data)).getexif().get(ExifTags.Base.Orientation) or 1)
        except Exception:  # noqa: BLE001 - unreadable EXIF: treat as upright
            orientation = 1
        stripped = strip_jpeg_metadata(data, orientation if 2 <= orientation <= 8 else 1)
        if stripped is not None:
            return stripped, "image/jpeg"
    image, _ = _open(data, max_pixels)
    image = ImageOps.exif_transpose(image)
    return _jpeg(image), "image/jpeg"


def _orientation_app1(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    payload = exif.tobytes()  # starts with b"Exif\0\0"
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def strip_jpeg_metadata(data: bytes, orientation: int = 1) -> bytes | None:
    """The JPEG without APP1/APP13/COM segments or trailing bytes, or None when its structure is not standard."""
    out = bytearray(data[:2])
    if orientation != 1:
        out += _orientation_app1(orientation)
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: copy the scans up to and including the end-of-image marker
            end = data.find(b"\xff\xd9", i + 2)
            if end < 0:
                return None
            out += data[i:end + 2]
            return bytes(out)
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2 or i + 2 + length > len(data):
            return None
        if marker not in (0xE1, 0xED, 0xFE):
            out += data[i:i + 2 + length]
        i += 2 + length
    return None
