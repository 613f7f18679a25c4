"""Pillow image operations for the pipeline that never hold a second full-size copy of a large image.

Alpha is flattened on white and large images with alpha are reduced a strip of about a megapixel at a
time: Pillow's own resampling of RGBA converts a premultiplied copy of the whole image first, which for
a 60 MP transparent PNG is another 240 MB.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

from PIL import Image

JPEG_QUALITY = 85
_STRIP_PX = 1 << 20


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def strips(image: Image.Image, rows: int = 1) -> Iterator[tuple[int, Image.Image]]:
    """``(top, strip)``: copies of about a megapixel of whole rows each, heights a multiple of ``rows``."""
    step = max(rows, _STRIP_PX // image.width // rows * rows)
    for top in range(0, image.height, step):
        yield top, image.crop((0, top, image.width, min(image.height, top + step)))


def flat(image: Image.Image, keep_gray: bool = False) -> Image.Image:
    """RGB for JPEG (or L when ``keep_gray``): alpha flattened on white a strip at a time (a whole RGBA
    copy would double the memory of a large image), CMYK/palette/16-bit converted."""
    if has_alpha(image):
        out = Image.new("RGB", image.size, (255, 255, 255))
        for top, strip in strips(image):
            rgba = strip if strip.mode == "RGBA" else strip.convert("RGBA")
            out.paste(rgba, (0, top), rgba)  # an RGBA mask is its alpha band
        return out
    if image.mode == "RGB" or (keep_gray and image.mode == "L"):
        return image
    return image.convert("RGB")


def _factors(size: tuple[int, int], box: int, gap: float) -> tuple[int, int]:
    """The integer reduction Pillow applies before resampling ``size`` into ``box`` (its reducing_gap)."""
    target = fit(size, box)
    return max(1, int(size[0] / target[0] / gap)), max(1, int(size[1] / target[1] / gap))


def shrink(image: Image.Image, box: int) -> Image.Image:
    """``image`` (decoded, the caller's to give up) fitted into a ``box`` square with LANCZOS, in place.
    With alpha it is flattened and reduced a strip at a time first: Pillow resamples alpha on a
    premultiplied copy of the whole image."""
    if not has_alpha(image):
        image.thumbnail((box, box), Image.Resampling.LANCZOS)  # reducing_gap=2: reduce, then resample
        return image
    fx, fy = _factors(image.size, box, 1.0)
    small = Image.new("RGB", (math.ceil(image.width / fx), math.ceil(image.height / fy)))
    for top, strip in strips(image, fy):
        rgb = flat(strip)
        small.paste(rgb.reduce((fx, fy)) if fx > 1 or fy > 1 else rgb, (0, top // fy))
    small.thumbnail((box, box), Image.Resampling.LANCZOS)
    return small


def shrink_bytes(size: tuple[int, int], box: int, pixel_bytes: int, alpha: bool) -> int:
    """Bytes :func:`shrink` allocates beside the image it shrinks: the reduced copy, the horizontal pass
    of the resampling (Pillow resamples across, then down) and the result; strips for alpha."""
    if alpha:
        fx, fy = _factors(size, box, 1.0)
        reduced = (math.ceil(size[0] / fx), math.ceil(size[1] / fy))
        return 4 * reduced[0] * reduced[1] + shrink_bytes(reduced, box, 4, False) + 12 * _STRIP_PX
    fx, fy = _factors(size, box, 2.0)
    reduced = (math.ceil(size[0] / fx), math.ceil(size[1] / fy))
    copy = reduced[0] * reduced[1] if fx > 1 or fy > 1 else 0
    target = fit(size, box)
    return pixel_bytes * (copy + target[0] * reduced[1] + target[0] * target[1])


def to_jpeg(image: Image.Image, full_size: bool = False) -> bytes:
    """``image`` as a JPEG with no metadata at all (its ``info`` is emptied). Full-size copies are not
    Huffman-optimised: libjpeg would buffer every coefficient of the image to do it."""
    out = io.BytesIO()
    # Pillow takes a file-like without a name for the file the image came from (both ""), and then
    # copies a read-only image (pillow-heif's) before saving it: a name of its own avoids the copy.
    out.name = "derivative.jpg"
    clean = flat(image, keep_gray=full_size)
    # Pillow writes what info carries (a JPEG COM comment, say); no exif=/icc_profile=/xmp= either.
    clean.info = {}
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=not full_size)
    return out.getvalue()


def fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """The size of ``size`` scaled to fit a ``box`` square (never enlarged)."""
    width, height = size
    scale = min(1.0, box / max(width, height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))
