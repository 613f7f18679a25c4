"""Hostile photos of issue 15, built with Pillow and zlib (no file of them is stored): a progressive JPEG
with one scan repeated (decoding time grows with every copy), a PNG whose pixels need far more memory
than its bytes, a JPEG with metadata hidden between its scans, and marker or chunk floods.

The JPEG walk here is deliberately not app.photos.structure's, so a mistake there cannot hide here:
these files are Pillow's own, whose entropy-coded data holds no marker but stuffed ``FF 00``.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

from PIL import Image, TiffImagePlugin

_END_OF_DATA = re.compile(rb"\xff[^\x00\xd0-\xd7]")
SECRET = b"SECRET-35.5428,106.6652"  # what must not come out of a "metadata removed" copy


def progressive_jpeg(size: tuple[int, int], mode: str = "RGB", **save: object) -> bytes:
    """A flat grey progressive JPEG (libjpeg's default script: 10 scans in colour, 6 in grey)."""
    out = io.BytesIO()
    Image.new(mode, size, 120 if mode == "L" else (120, 120, 120)).save(
        out, "JPEG", progressive=True, quality=85, **save
    )
    return out.getvalue()


def scans(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` of each scan of a JPEG Pillow wrote: its SOS segment and entropy-coded data."""
    out, start = [], data.find(b"\xff\xda")
    while start >= 0:
        found = _END_OF_DATA.search(data, start + 4 + int.from_bytes(data[start + 2 : start + 4], "big"))
        assert found is not None, "a JPEG Pillow wrote ends with EOI"
        out.append((start, found.start()))
        start = data.find(b"\xff\xda", found.start())
    return out


def is_ac_refinement(data: bytes, start: int) -> bool:
    """Whether the scan at ``start`` refines AC coefficients (Ss > 0, Ah > 0): the costliest to repeat."""
    count = data[start + 4]
    spectral_start, approximation = data[start + 5 + 2 * count], data[start + 7 + 2 * count]
    return spectral_start > 0 and approximation >> 4 > 0


def with_repeated_scan(data: bytes, repeats: int) -> bytes:
    """``data`` with its first AC refinement scan repeated ``repeats`` more times right after itself.
    libjpeg decodes every copy over all the blocks of its component (ITU-T T.81 G.1.2.3)."""
    start, end = next((s, e) for s, e in scans(data) if is_ac_refinement(data, s))
    return data[:end] + data[start:end] * repeats + data[end:]


def scan_bomb(size: tuple[int, int] = (7000, 7000), repeats: int = 1000, mode: str = "RGB") -> bytes:
    """Issue 15's file: a flat progressive JPEG of 49 MP (under the pixel limit, ~0.3 MB) with one AC
    scan repeated 1,000 times; before the fix it was accepted and decoding it took ~16 s."""
    return with_repeated_scan(progressive_jpeg(size, mode), repeats)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def transparent_png(side: int = 7745) -> bytes:
    """Issue 15's PNG: ``side`` x ``side`` fully transparent RGBA (7745: 60 MP, just within the pixel
    limit, ~0.23 MB); decoding it takes 240 MB. Compressed a row at a time, never held whole here."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * 4 * side  # filter type 0, then transparent black
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)  # 8-bit RGBA, not interlaced
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_chunk_flood(chunks: int = 50_000) -> bytes:
    """A 16x16 PNG with ``chunks`` tIME chunks before its pixels: Pillow parses each one in Python."""
    small = io.BytesIO()
    Image.new("RGB", (16, 16)).save(small, "PNG")
    data = small.getvalue()
    idat = data.find(b"IDAT") - 4
    return data[:idat] + _chunk(b"tIME", b"\x07\xea\x01\x01\x00\x00\x00") * chunks + data[idat:]


def jpeg_marker_flood(segments: int = 100_000) -> bytes:
    """A small JPEG with ``segments`` empty COM segments before its frame: Pillow parses each in Python."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG")
    data = out.getvalue()
    return data[:2] + b"\xff\xfe\x00\x02" * segments + data[2:]


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def gps_exif_segment() -> bytes:
    """An APP1 EXIF segment with a GPS position, a camera make carrying :data:`SECRET` and Orientation 6."""
    R = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    exif[0x010F] = SECRET.decode()  # Make
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise
    exif.get_ifd(0x8825).update({1: "N", 2: (R(35), R(32), R(34)), 3: "E", 4: (R(106), R(39), R(55))})
    return _segment(0xE1, exif.tobytes())


def exif_between_scans() -> bytes:
    """A progressive JPEG whose metadata stands where a "strip the segments before the first scan"
    approach does not look: EXIF with GPS, an APP12 "Ducky" and an APP13 Photoshop block, an APP15 of
    nobody's and a comment between its scans, and a copy of the secret after its end-of-image."""
    image = Image.effect_mandelbrot((640, 480), (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", progressive=True, quality=85, icc_profile=b"\0" * 128)
    data = out.getvalue()
    first, second = scans(data)[:2]
    hidden = (
        gps_exif_segment()
        + _segment(0xEC, b"Ducky\x00\x01\x00\x04" + SECRET)
        + _segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + SECRET)
        + _segment(0xEF, SECRET)
        + _segment(0xFE, SECRET)
    )
    return data[: first[1]] + hidden + data[first[1] : second[1]] + hidden + data[second[1] :] + SECRET
