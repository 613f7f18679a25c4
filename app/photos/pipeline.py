"""The photo pipeline: prove a phone photo whole, read its EXIF, make derivatives without metadata.

Pure functions on bytes (no database, no event loop): the service runs them in a bounded thread
pool (Pillow releases the GIL while decoding). Per docs/performance.md, the request path does: sniff,
sha256, one scaled decode (integrity + EXIF + orientation), the thumbnail; the 1600 px display copy
is made after the response, and again on demand if it is missing.

Bounded work (docs/performance.md: about 1 s of CPU and 200 MB per request, whatever the bytes). Pillow
decodes in C and cannot be stopped from another thread, so the bound is set before a pixel is
decoded, by :func:`inspect` reading the file's structure: its pixels; a JPEG's scans and the 8x8
blocks they decode (app.photos.structure); and the memory that decoding it for any of its copies
will need, estimated per format from what the codecs hold. Then a deadline: Pillow reads JPEG and
PNG data in blocks, and before each block the reader checks the decoding thread's own CPU time
(``time.thread_time``: other threads' work does not count) and abandons the decode past
``Budget.cpu_seconds``. HEIF and WebP decode in one call with no such point; their bound is the
pixels and memory refused up front.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import io
import math
import time
import warnings
from dataclasses import dataclass, field

import pillow_heif
from PIL import ExifTags, Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from app.photos import structure
from app.photos.exif import orientation_of, orientation_segment, read_gps, read_taken_at, text
from app.photos.imaging import fit, has_alpha, shrink, shrink_bytes, to_jpeg
from app.photos.structure import iso_boxes_complete, sniff

pillow_heif.register_heif_opener()


def _give_large_blocks_back() -> None:
    """glibc serves a freed large block's size from its heap from then on (its mmap threshold rises up
    to 32 MB), and a heap shrinks only from its top: photo after photo, a process keeps more and more
    memory it no longer uses (12 MP HEICs: +80 MB after six copies made). A fixed threshold keeps
    image buffers in mmap, returned to the system when freed (mallopt(3), M_MMAP_THRESHOLD)."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)
    except (OSError, AttributeError):  # not glibc: its allocator is not this one
        pass


_give_large_blocks_back()
# Text chunks are metadata the pipeline never reads; Pillow would hold up to 64 MB of them per PNG.
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024

MiB = 1024 * 1024
THUMBNAIL_PX = 320
DISPLAY_PX = 1600
JPEG_MAX_SEGMENTS = 1000  # a camera's JPEG has 10-40 marker segments, a progressive one 2 or 3 a scan more
PNG_MAX_CHUNKS = 10_000  # a 15 MB PNG in libpng's 8 KB IDAT chunks has about 1,900
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
# Bytes a pixel the codec holds while decoding, besides Pillow's image (4 B/px for RGB, measured as peak
# RSS with Pillow 13, pillow-heif 1.9 on libheif 1.23: a 24 MP HEIC peaks at 7.2 B/px in all, a WebP,
# decoded through libwebp's animation decoder, at 15.3; a PNG is inflated straight into the image).
_CODEC_BYTES = {"png": 0.0, "webp": 12.0, "heif": 3.5}
# CPU seconds a pixel (JPEG: a block of a scan, and a byte of entropy-coded data) on a core like the target's.
# Only to tell heavy work from light (Plan.cpu_seconds); the limits are the structure's.
_CPU_PER_PIXEL = {"png": 8e-9, "webp": 16e-9, "heif": 40e-9}
_CPU_PER_BLOCK, _CPU_PER_BYTE = 40e-9, 25e-9
_SLACK = 8 * MiB  # codec workspaces, the thumbnail's resampling buffers


class PhotoError(Exception):
    """A photo the pipeline refuses; ``code`` is the API's stable error code."""

    code = "corrupt_image"
    status = 422

    def __init__(self, detail: str, zh: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.zh = zh or detail  # the same in zh-CN, for the API's answer


class UnsupportedFormat(PhotoError):
    code, status = "unsupported_image_format", 415


class ImageTooLarge(PhotoError):
    code, status = "image_too_large", 413


class ImageTooComplex(PhotoError):
    code, status = "image_too_complex", 422


class EmptyImage(PhotoError):
    code, status = "empty_image", 422


class CorruptImage(PhotoError):
    code, status = "corrupt_image", 422


@dataclass(frozen=True)
class Budget:
    """What decoding one photo may cost (PhotoSettings sets it).

    ``max_pixels``: width x height. ``max_memory``: bytes, the estimated peak of decoding it for any
    of its copies (thumbnail, display, original). ``max_jpeg_scans``: scans of a JPEG (libjpeg's and
    mozjpeg's progressive scripts write about 10; cameras write 1). ``max_jpeg_scan_blocks``: 8x8
    blocks decoded over all scans (libjpeg-turbo spends up to ~40 ns on one: 16M is ~0.6 s).
    ``cpu_seconds``: the decoding thread's CPU time for one job before it is abandoned.
    """

    max_pixels: int = 60_000_000
    max_memory: int = 200 * MiB
    max_jpeg_scans: int = 100
    max_jpeg_scan_blocks: int = 16_000_000
    cpu_seconds: float = 2.0


@dataclass(frozen=True)
class Plan:
    """What :func:`inspect` found: the format, the size in pixels, and for the costliest copy of the
    photo the estimated peak memory (bytes) and CPU time (seconds); a JPEG's layout."""

    kind: str
    width: int
    height: int
    memory: int
    cpu_seconds: float
    jpeg: structure.JpegLayout | None = field(default=None, repr=False)


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
    display: bytes | None = None  # JPEG <= 1600 px, when the whole image was decoded anyway (not JPEG)


class _Watched(io.BytesIO):
    """The photo's bytes as Pillow reads them: each read first checks the thread's CPU time since this
    job began, so a decode that runs past the budget ends at its next block of input."""

    def __init__(self, data: bytes, cpu_seconds: float) -> None:
        super().__init__(data)
        self._limit = cpu_seconds
        self._deadline = time.thread_time() + cpu_seconds

    def read(self, size: int | None = -1, /) -> bytes:
        if time.thread_time() > self._deadline:
            raise ImageTooComplex(
                f"decoding the photo took more than {self._limit:g} s of CPU",
                f"解码照片用了超过 {self._limit:g} 秒的 CPU 时间",
            )
        return super().read(size)


def _draft_size(size: tuple[int, int], box: int) -> tuple[int, int]:
    """The size libjpeg decodes to when Pillow's JPEG ``draft`` is asked for ``fit(size, box)``."""
    target = fit(size, box)
    scale = min(size[0] // target[0], size[1] // target[1])
    s = next((s for s in (8, 4, 2) if scale >= s), 1)
    return math.ceil(size[0] / s), math.ceil(size[1] / s)


def _open(reader: _Watched, kind: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(reader)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge("the photo has more pixels than allowed", "照片像素超过允许的数量") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CorruptImage(
            f"the {kind} photo cannot be read ({type(exc).__name__})",
            f"无法读取这张 {kind} 照片（{type(exc).__name__}）",
        ) from exc


def _decode(image: Image.Image, kind: str) -> None:
    """Decode the pixels (the whole file); :class:`ImageTooLarge` or :class:`CorruptImage` if it cannot be."""
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("the photo has more pixels than allowed", "照片像素超过允许的数量") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CorruptImage(
            f"the {kind} photo is truncated or corrupt ({type(exc).__name__})",
            f"这张 {kind} 照片不完整或已损坏（{type(exc).__name__}）",
        ) from exc


def _pixel_bytes(mode: str) -> int:
    """Bytes a pixel in Pillow's memory: 3-band images are stored in 4."""
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


def _cost(
    kind: str, data: bytes, image: Image.Image | None, layout: structure.JpegLayout | None, turnable: bool
) -> Plan:
    """The plan: what decoding the photo for its costliest copy takes (see _CODEC_BYTES)."""
    if layout is not None:
        width, height = layout.width, layout.height
        # The costliest copy is the display one: a DCT-scaled decode at 1/8..1/1 and its resampling; the
        # original is the file's own bytes without its metadata (no decode).
        shown = math.prod(_draft_size((width, height), DISPLAY_PX)) * (1 if layout.components == 1 else 4)
        memory = layout.coefficient_bytes + 2 * shown + len(data) + _SLACK
        cpu = layout.scan_blocks * _CPU_PER_BLOCK + len(data) * _CPU_PER_BYTE
        return Plan(kind, width, height, memory, cpu, layout)
    assert image is not None
    width, height = image.size
    pixels, held = width * height, width * height * _pixel_bytes(image.mode)
    # Decoding: Pillow's image and the codec's own buffers, freed once the image is loaded.
    codec = _CODEC_BYTES[kind] + (1.5 if (image.info.get("bit_depth") or 8) > 8 else 0)
    decoding = held + int(pixels * codec)
    # Then, beside the image: the display copy's resampling (the thumbnail's is smaller), or the
    # full-size original: an upright copy if EXIF turns it, or an RGB one to flatten alpha or convert
    # the mode, and the JPEG it becomes (at most about a byte a pixel at quality 85). A PNG's EXIF may
    # come after its pixels: then whether it turns is known only once decoded.
    turned = turnable if "exif" not in image.info else _orientation(image) != 1
    converted = 0 if image.mode in ("RGB", "L") else 4 * pixels
    shown = shrink_bytes(image.size, DISPLAY_PX, _pixel_bytes(image.mode), has_alpha(image))
    after = held + max(shown, max(held if turned else 0, converted) + pixels)
    cpu = pixels * _CPU_PER_PIXEL[kind]
    return Plan(kind, width, height, max(decoding, after) + len(data) + _SLACK, cpu)


def inspect(data: bytes, budget: Budget) -> Plan:
    """The photo's format, size and cost, read from its structure without decoding pixels.

    Raises :class:`EmptyImage`, :class:`UnsupportedFormat` (415), :class:`CorruptImage` (422),
    :class:`ImageTooLarge` (413: more pixels, or an estimated decoding peak above the memory budget)
    or :class:`ImageTooComplex` (422: more JPEG scans or scan blocks than allowed, too many marker
    segments or PNG chunks, or parsing the header ran out of CPU time).
    """
    if not data:
        raise EmptyImage("the photo is empty (0 bytes)", "照片为空（0 字节）")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedFormat(
            "not a JPEG, PNG, WebP or HEIC/HEIF photo (judged by its bytes)",
            "不是 JPEG、PNG、WebP 或 HEIC/HEIF 照片（按文件内容判断）",
        )
    if kind == "heif" and not iso_boxes_complete(data):
        raise CorruptImage(
            "the HEIC/HEIF photo is truncated (its boxes run past the end of the file)",
            "HEIC/HEIF 照片不完整（数据在文件结束前中断）",
        )
    try:
        turnable = kind != "png" or structure.png_may_carry_exif(data, PNG_MAX_CHUNKS)
        segments = max(JPEG_MAX_SEGMENTS, 3 * budget.max_jpeg_scans)
        layout = structure.read_jpeg(data, segments, budget.max_jpeg_scans) if kind == "jpeg" else None
    except structure.StructureError as exc:
        raise (ImageTooComplex if exc.kind == "too_complex" else CorruptImage)(exc.detail, exc.zh) from exc
    image = None if layout else _open(_Watched(data, budget.cpu_seconds), kind)
    width, height = (layout.width, layout.height) if layout else image.size  # type: ignore[union-attr]
    if width < 1 or height < 1:
        raise CorruptImage("the photo has no pixels", "照片没有像素")
    if width * height > budget.max_pixels:
        raise ImageTooLarge(
            f"{width}x{height} pixels is more than the {budget.max_pixels:,} allowed",
            f"{width}x{height} 像素超过允许的 {budget.max_pixels:,} 像素",
        )
    if layout and layout.scan_blocks > budget.max_jpeg_scan_blocks:
        raise ImageTooComplex(
            f"the JPEG's {layout.scans} scans decode {layout.scan_blocks:,} blocks of 8x8 pixels, "
            f"more than the {budget.max_jpeg_scan_blocks:,} allowed",
            f"这张 JPEG 的 {layout.scans} 次扫描要解码 {layout.scan_blocks:,} 个 8x8 像素块，"
            f"超过允许的 {budget.max_jpeg_scan_blocks:,} 个",
        )
    plan = _cost(kind, data, image, layout, turnable)
    if plan.memory > budget.max_memory:
        raise ImageTooLarge(
            f"decoding this {width}x{height} {kind} photo would take about {plan.memory // MiB} MB "
            f"of memory, more than the {budget.max_memory // MiB} MB allowed",
            f"解码这张 {width}x{height} 的 {kind} 照片约需 {plan.memory // MiB} MB 内存，"
            f"超过允许的 {budget.max_memory // MiB} MB",
        )
    return plan


def _upright_small(image: Image.Image, box: int, orientation: int) -> Image.Image:
    """``image`` (decoded, the caller's to give up) shrunk to fit ``box``, then turned upright."""
    image = shrink(image, box)
    if orientation != 1:
        image.getexif()[ExifTags.Base.Orientation] = orientation
        image = ImageOps.exif_transpose(image)
    return image


def process(data: bytes, *, budget: Budget, local_tz: dt.tzinfo, plan: Plan | None = None) -> Processed:
    """Check, describe and thumbnail one photo (the request-path work); ``plan`` from :func:`inspect`.

    Raises what :func:`inspect` raises, and :class:`CorruptImage` when the pixels do not decode or
    :class:`ImageTooComplex` when decoding runs out of CPU time. A broken EXIF block never fails an
    otherwise good photo: it is ignored and noted in ``exif_problems``.
    """
    plan = plan or inspect(data, budget)
    kind = plan.kind
    image = _open(_Watched(data, budget.cpu_seconds), kind)
    if kind != "jpeg":
        # Pillow reads a PNG's EXIF after its pixels, so getexif() decodes the image: decode it here
        # first, or a corrupt IDAT would pass as "EXIF unreadable" on a half-decoded photo.
        _decode(image, kind)
    problems: list[str] = []
    try:
        exif = image.getexif()
    except Exception as exc:
        exif, problems = Image.Exif(), [f"EXIF unreadable: {type(exc).__name__}"]
    orientation = 1
    gps: tuple[float | None, float | None] = (None, None)
    taken_at = make = model = None
    try:
        orientation = int(exif.get(ExifTags.Base.Orientation) or 1)
        orientation = orientation if 1 <= orientation <= 8 else 1
        gps = read_gps(exif)
        taken_at = read_taken_at(exif, local_tz)
        make, model = text(exif.get(ExifTags.Base.Make)), text(exif.get(ExifTags.Base.Model))
    except Exception as exc:
        problems.append(f"EXIF field unreadable: {type(exc).__name__}")
    width, height = image.size
    if orientation in _ROTATED:
        width, height = height, width
    try:
        display, turn = None, orientation
        if kind == "jpeg":
            # A DCT-scaled decode (1/2 .. 1/8) still entropy-decodes the whole file, so it proves
            # the file is whole at a fraction of the cost of a full decode. Ask for the thumbnail's
            # box in the photo's own aspect, so a 4:3 photo gets the 1/8 scale, not 1/4.
            image.draft("RGB", fit(image.size, THUMBNAIL_PX))
            _decode(image, kind)
        else:
            # Other formats have no scaled decode: the whole image is in memory now, so the display
            # copy costs a resampling here rather than a second full decode after the response.
            image = _upright_small(image, DISPLAY_PX, orientation)
            display, turn = to_jpeg(image), 1  # already upright
        thumbnail = to_jpeg(_upright_small(image, THUMBNAIL_PX, turn))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("the photo has more pixels than allowed", "照片像素超过允许的数量") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CorruptImage(
            f"the {kind} photo is truncated or corrupt ({type(exc).__name__})",
            f"这张 {kind} 照片不完整或已损坏（{type(exc).__name__}）",
        ) from exc
    facts = PhotoFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        format=kind,
        size_bytes=len(data),
        width=width,
        height=height,
        orientation=orientation,
        taken_at=taken_at,
        gps_lat=gps[0],
        gps_lon=gps[1],
        make=make,
        model=model,
        exif_problems=problems,
    )
    return Processed(facts=facts, thumbnail=thumbnail, display=display)


def _orientation(image: Image.Image) -> int:
    try:
        return orientation_of(image.getexif())
    except Exception:  # a broken EXIF block: shown as stored
        return 1


def display_copy(data: bytes, *, budget: Budget, plan: Plan | None = None) -> bytes:
    """The display derivative: upright, <= 1600 px, RGB JPEG with no metadata."""
    plan = plan or inspect(data, budget)
    image = _open(_Watched(data, budget.cpu_seconds), plan.kind)
    if plan.kind == "jpeg":
        image.draft("RGB", fit(image.size, DISPLAY_PX))
    _decode(image, plan.kind)  # before the thumbnail: pillow-heif's draft would pick an embedded preview
    return to_jpeg(_upright_small(image, DISPLAY_PX, _orientation(image)))


def stripped_original(data: bytes, *, budget: Budget, plan: Plan | None = None) -> tuple[bytes, str]:
    """The original for staff without metadata: ``(bytes, media type)``.

    JPEGs are rebuilt without their APPn segments (EXIF, XMP, IPTC, MPF, maker notes...) but ICC
    profiles, without comments and anything after the end of the image (motion-photo videos, appended
    files), wherever those stand, between progressive scans too (app.photos.structure). Nothing is
    re-encoded, so the pixels are the ones the phone took; a minimal EXIF block with only the
    Orientation tag is put back so viewers still turn it upright. Other formats are re-encoded at full
    size, upright, as JPEG.
    """
    plan = plan or inspect(data, budget)
    if plan.jpeg is not None:
        orientation = _orientation(_open(_Watched(data, budget.cpu_seconds), plan.kind))
        return structure.without_metadata(data, plan.jpeg, orientation_segment(orientation)), "image/jpeg"
    image = _open(_Watched(data, budget.cpu_seconds), plan.kind)
    _decode(image, plan.kind)
    if _orientation(image) != 1:
        image = ImageOps.exif_transpose(image)
    return to_jpeg(image, full_size=True), "image/jpeg"
