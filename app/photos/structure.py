"""What a photo file costs to decode, read from its structure before any pixel is decoded.

Pure functions on bytes. A JPEG's markers are walked the way libjpeg reads them (ITU-T T.81 annex B;
libjpeg's ``next_marker`` skips stray bytes before a marker, and so does this walk): segments by their
length, entropy-coded data up to the next marker that is neither a stuffed ``FF 00``, a restart
``FF D0``..``FF D7`` nor fill ``FF FF``. From that walk come the number of scans, the 8x8 blocks all
scans decode (a progressive JPEG's decoding time is linear in it: each scan visits every block of its
components) and the coefficient buffer libjpeg holds for a multi-scan image (2 bytes x 64 per block,
whatever the output scale). The same walk rebuilds a JPEG without its metadata segments.

Both walks stop at a fixed number of segments or chunks: Pillow parses each one in Python, so a
15 MB file of empty segments costs seconds before a pixel is decoded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

# The next marker libjpeg acts on: FF and a code from C0 up, but not RSTn or FF fill. Inside entropy-coded
# data, FF 00 is a stuffed byte and a code below C0 is not a marker at all: libjpeg's
# jpeg_resync_to_restart skips it and decodes on, so it neither ends a scan nor starts a segment here.
_NEXT_MARKER = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")
_SOF = {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_SOS, _EOI, _APP0, _APP2, _APP14, _COM = 0xDA, 0xD9, 0xE0, 0xE2, 0xEE, 0xFE
# Kept when metadata is removed: what decoding needs (frame, tables, restart interval, scans, the end).
_KEPT = _SOF | {0xC4, 0xCC, 0xDB, 0xDD, 0xDC, _SOS, _EOI}
ICC_PREFIX = b"ICC_PROFILE\x00"
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
# Data-free forms of the two APPn segments that change how pixels decode (libjpeg's
# default_decompress_parms): JFIF says "YCbCr", Adobe's transform flag says YCbCr/RGB or YCCK/CMYK.
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


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
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, 64), 4)}
        if brands & _HEIF_BRANDS:
            return "heif"
    return None


def iso_boxes_complete(data: bytes) -> bool:
    """Whether the top-level ISO-BMFF boxes (HEIF) add up to the file: a cut-off upload does not."""
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            return False
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 1:
            if offset + 16 > len(data):
                return False
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:  # the last box runs to the end of the file
            return True
        if size < 8 or offset + size > len(data):
            return False
        offset += size
    return True


class StructureError(Exception):
    """The file's structure is refused: ``kind`` is ``corrupt`` or ``too_complex``; ``detail`` in
    English, ``zh`` the same in zh-CN."""

    def __init__(self, kind: str, detail: str, zh: str) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.zh = kind, detail, zh


@dataclass
class JpegLayout:
    """A JPEG's frame and scans. Sizes in pixels; ``scan_blocks`` counts 8x8 blocks over all scans;
    ``coefficient_bytes`` is libjpeg's whole-image coefficient buffer (0 for a single-scan JPEG)."""

    width: int
    height: int
    components: int
    progressive: bool
    scans: int
    scan_blocks: int
    coefficient_bytes: int
    segments: list[tuple[int, int, int]] = field(repr=False)  # (marker, start, end), SOS ranges include data


def _frame(payload: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    if len(payload) < 6:
        raise StructureError("corrupt", "the JPEG frame header is cut short", "JPEG 帧头不完整")
    height, width, count = (
        int.from_bytes(payload[1:3], "big"),
        int.from_bytes(payload[3:5], "big"),
        payload[5],
    )
    if count < 1 or len(payload) < 6 + 3 * count:
        raise StructureError("corrupt", "the JPEG frame header is cut short", "JPEG 帧头不完整")
    comps = [(payload[6 + 3 * i], payload[7 + 3 * i] >> 4, payload[7 + 3 * i] & 15) for i in range(count)]
    if any(not (1 <= h <= 4 and 1 <= v <= 4) for _, h, v in comps):
        raise StructureError(
            "corrupt", "the JPEG frame has invalid sampling factors", "JPEG 帧的采样因子无效"
        )
    return width, height, comps


def _blocks(width: int, height: int, comps: list[tuple[int, int, int]]) -> dict[int, tuple[int, int]]:
    """Each component's blocks across and down, padded to whole MCUs as libjpeg allocates them."""
    hmax, vmax = max(h for _, h, _ in comps), max(v for _, _, v in comps)
    out = {}
    for cid, h, v in comps:
        across = math.ceil(math.ceil(width * h / hmax) / 8)
        down = math.ceil(math.ceil(height * v / vmax) / 8)
        out[cid] = (math.ceil(across / h) * h, math.ceil(down / v) * v)
    return out


def read_jpeg(data: bytes, max_segments: int, max_scans: int) -> JpegLayout:
    """The layout of a JPEG (``data`` starts with SOI); :class:`StructureError` when it has no frame or
    scan, ends before its end-of-image marker, or has more than ``max_segments`` marker segments or
    ``max_scans`` scans (the walk stops there)."""
    segments: list[tuple[int, int, int]] = []
    frame: tuple[int, int, list[tuple[int, int, int]]] | None = None
    scan_components: list[list[int]] = []
    i = 2
    while True:
        if len(segments) >= max_segments:
            raise StructureError(
                "too_complex",
                f"the JPEG has more than {max_segments} marker segments",
                f"JPEG 的标记段超过 {max_segments} 个",
            )
        found = _NEXT_MARKER.search(data, i)
        if found is None:
            raise StructureError(
                "corrupt", "the JPEG ends before its end-of-image marker", "JPEG 在结束标记之前中断"
            )
        start = found.start()
        marker = data[start + 1]
        if marker == _EOI:
            segments.append((marker, start, start + 2))
            break
        if marker == 0xD8 or start + 4 > len(data):
            raise StructureError(
                "corrupt",
                "the JPEG has a second start-of-image marker or is cut short",
                "JPEG 有第二个起始标记或不完整",
            )
        end = start + 2 + int.from_bytes(data[start + 2 : start + 4], "big")
        if end > len(data) or end < start + 4:
            raise StructureError(
                "corrupt", "a JPEG segment runs past the end of the file", "JPEG 的数据段超出文件末尾"
            )
        payload = data[start + 4 : end]
        if marker in _SOF:
            if frame is not None:
                raise StructureError("corrupt", "the JPEG has two frame headers", "JPEG 有两个帧头")
            frame = _frame(payload)
            progressive = marker in _PROGRESSIVE
        elif marker == _SOS:
            if frame is None or not payload or len(payload) < 1 + 2 * payload[0]:
                raise StructureError(
                    "corrupt",
                    "a JPEG scan comes before its frame or is cut short",
                    "JPEG 扫描在帧头之前或不完整",
                )
            scan_components.append([payload[1 + 2 * k] for k in range(payload[0])])
            if len(scan_components) > max_scans:
                raise StructureError(
                    "too_complex",
                    f"the JPEG has more than {max_scans} scans; cameras write 1, progressive encoders about 10",
                    f"JPEG 的扫描超过 {max_scans} 次（相机写 1 次，渐进式编码器约 10 次）",
                )
            follows = _NEXT_MARKER.search(data, end)
            end = follows.start() if follows else len(data)
        segments.append((marker, start, end))
        i = end
    if frame is None or not scan_components:
        raise StructureError("corrupt", "the JPEG has no frame or no scan", "JPEG 没有帧头或扫描")
    width, height, comps = frame
    blocks = _blocks(width, height, comps)
    largest = max(a * d for a, d in blocks.values())
    scan_blocks = sum(
        sum(math.prod(blocks[c]) if c in blocks else largest for c in ids) for ids in scan_components
    )
    multi_scan = progressive or len(scan_components) > 1
    coefficients = sum(a * d for a, d in blocks.values()) * 128 if multi_scan else 0
    return JpegLayout(
        width=width,
        height=height,
        components=len(comps),
        progressive=progressive,
        scans=len(scan_components),
        scan_blocks=scan_blocks,
        coefficient_bytes=coefficients,
        segments=segments,
    )


def without_metadata(data: bytes, layout: JpegLayout, exif_orientation: bytes = b"") -> bytes:
    """The JPEG rebuilt from what decoding needs, wherever each segment stands (between progressive
    scans too): every APPn but ICC profiles goes, as do comments and whatever follows end-of-image.
    JFIF and Adobe segments are put back in a fixed, data-free form, because they decide the colour
    transform; ``exif_orientation`` (a whole APP1 segment, or empty) goes right after SOI. The
    entropy-coded data is copied byte for byte: the pixels are the ones the camera wrote."""
    out = bytearray(b"\xff\xd8")
    out += exif_orientation
    for marker, start, end in layout.segments:
        segment = data[start:end]
        if marker == _APP0 and segment[4:9] == b"JFIF\x00":
            if _JFIF not in out:
                out += _JFIF
        elif marker == _APP14 and segment[4:9] == b"Adobe" and end - start >= 16:
            out += b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + bytes([segment[15]])
        elif marker in _KEPT or (marker == _APP2 and segment[4 : 4 + len(ICC_PREFIX)] == ICC_PREFIX):
            out += segment
    return bytes(out)


def png_may_carry_exif(data: bytes, max_chunks: int) -> bool:
    """Whether a PNG has an eXIf chunk or a text chunk Pillow reads EXIF from ("Raw profile type
    exif"); :class:`StructureError` when it has more than ``max_chunks`` chunks before IEND."""
    count, i, exif = 0, 8, False
    while i + 8 <= len(data):
        count += 1
        if count > max_chunks:
            raise StructureError(
                "too_complex",
                f"the PNG has more than {max_chunks} chunks",
                f"PNG 的数据块超过 {max_chunks} 个",
            )
        kind = data[i + 4 : i + 8]
        if kind == b"IEND":
            break
        keyword = data[i + 8 : i + 8 + 24]
        exif = exif or kind == b"eXIf" or (kind in _PNG_TEXT and keyword.startswith(b"Raw profile type exif"))
        i += 12 + int.from_bytes(data[i : i + 4], "big")
    return exif
