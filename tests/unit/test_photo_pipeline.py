"""The photo pipeline on every real photo, and on the hostile ones a phone app never sends."""

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, TiffImagePlugin

from app.photos import pipeline
from tests.conftest import PHOTOS

TZ = ZoneInfo("Asia/Shanghai")
ALL = sorted(p for p in PHOTOS.rglob("*") if p.is_file() and p.suffix.lower() in (".jpg", ".heic"))
EXPECTED_GPS = {  # from the shared data's SOURCES.txt (decoded with Pillow 13 + pillow-heif)
    "IMG_5195.HEIC": (39.05134, -94.28877), "DSCN0010.jpg": (43.46745, 11.88513), "DSCN0012.jpg": (43.46716, 11.88539),
    "DSCN0042.jpg": (43.46446, 11.88148), "67-0_length_string.jpg": (51.02500, 7.59194),
    "87_OSError.jpg": (43.78559, 11.23462), "iphone_hdr_NO.jpg": (40.44697, -3.72475),
    "HMD_Nokia_8.3_5G.jpg": (60.14671, 24.90677), "xiaomi.heic": (47.22729, 39.69999), "pug.heic": (44.85048, 34.97665),
}


def run(data: bytes, max_pixels: int = 60_000_000) -> pipeline.Processed:
    return pipeline.process(data, max_pixels=max_pixels, local_tz=TZ)


def no_metadata(jpeg: bytes) -> bool:
    image = Image.open(io.BytesIO(jpeg))
    return not image.getexif() and "exif" not in image.info and "xmp" not in image.info and b"Exif\x00" not in jpeg


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_real_photo_gets_the_right_answer(path: Path) -> None:
    data = path.read_bytes()
    if not data:
        with pytest.raises(pipeline.EmptyImage):
            run(data)
        return
    result = run(data)
    f = result.facts
    thumb = Image.open(io.BytesIO(result.thumbnail))
    assert thumb.format == "JPEG" and thumb.mode == "RGB" and max(thumb.size) <= 320 and no_metadata(result.thumbnail)
    assert f.format == ("heif" if path.suffix.lower() == ".heic" else "jpeg")
    assert f.size_bytes == len(data) and len(f.sha256) == 64
    if path.name.startswith("landscape_"):
        assert f.width > f.height and thumb.width > thumb.height, "landscape must come out wider than tall"
    if path.name.startswith("portrait_"):
        assert f.height > f.width and thumb.height > thumb.width, "portrait must come out taller than wide"
    if path.name in EXPECTED_GPS:
        lat, lon = EXPECTED_GPS[path.name]
        assert f.gps_lat == pytest.approx(lat, abs=1e-4) and f.gps_lon == pytest.approx(lon, abs=1e-4)
    else:
        assert f.gps_lat is None and f.gps_lon is None


def test_exif_time_with_offset_and_without() -> None:
    pug = run((PHOTOS / "bigcat88_pillow_heif/tests/images/heif_other/pug.heic").read_bytes()).facts
    assert pug.taken_at == dt.datetime(2023, 2, 21, 11, 33, 8, tzinfo=dt.UTC)  # 14:33:08+03:00
    nikon = run((PHOTOS / "ianare_exif-samples/jpg/gps/DSCN0010.jpg").read_bytes()).facts
    assert nikon.taken_at == dt.datetime(2008, 10, 22, 16, 28, 39, tzinfo=TZ)  # no offset: the city's time
    assert (nikon.make, nikon.model) == ("NIKON", "COOLPIX P6000")


def test_display_copy_and_stripped_original_carry_no_metadata() -> None:
    data = (PHOTOS / "ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg").read_bytes()
    display = pipeline.display_copy(data, max_pixels=60_000_000)
    image = Image.open(io.BytesIO(display))
    assert max(image.size) == 1600 and no_metadata(display)
    stripped, media = pipeline.stripped_original(data, max_pixels=60_000_000)
    assert media == "image/jpeg" and no_metadata(stripped) and len(stripped) < len(data)
    # the same pixels: segments were dropped, nothing was re-encoded
    assert Image.open(io.BytesIO(stripped)).tobytes() == Image.open(io.BytesIO(data)).tobytes()
    heic = (PHOTOS / "bigcat88_pillow_heif/tests/images/heif_special/xiaomi.heic").read_bytes()
    stripped, media = pipeline.stripped_original(heic, max_pixels=60_000_000)
    assert media == "image/jpeg" and no_metadata(stripped)


def _encode(image: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def test_alpha_is_flattened_on_white_and_cmyk_converted() -> None:
    rgba = Image.new("RGBA", (400, 300), (255, 0, 0, 0))  # fully transparent red
    thumb = Image.open(io.BytesIO(run(_encode(rgba, "PNG")).thumbnail))
    assert thumb.mode == "RGB" and thumb.getpixel((10, 10)) == (255, 255, 255)
    webp = run(_encode(Image.new("RGBA", (400, 300), (0, 0, 255, 255)), "WEBP")).facts
    assert webp.format == "webp"
    cmyk = run(_encode(Image.new("CMYK", (400, 300), (0, 255, 255, 0)), "JPEG"))
    assert Image.open(io.BytesIO(cmyk.thumbnail)).mode == "RGB"


@pytest.mark.parametrize(("data", "error"), [
    (b"", pipeline.EmptyImage),
    (b"GIF89a" + b"\x00" * 100, pipeline.UnsupportedFormat),
    (b"%PDF-1.7\n" + b"x" * 100, pipeline.UnsupportedFormat),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", pipeline.UnsupportedFormat),
    (b"\xff\xd8\xff\xe0" + b"garbage" * 50, pipeline.CorruptImage),  # JPEG magic, nothing behind it
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, pipeline.CorruptImage),
])
def test_bytes_that_are_not_photos(data: bytes, error: type) -> None:
    with pytest.raises(error):
        run(data)


def test_a_truncated_jpeg_is_corrupt_whatever_its_name() -> None:
    data = (PHOTOS / "ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg").read_bytes()
    with pytest.raises(pipeline.CorruptImage):
        run(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _encode(Image.new("1", (20_000, 20_000)), "PNG")  # 400 Mpx in a few kilobytes
    assert len(bomb) < 200_000
    with pytest.raises(pipeline.ImageTooLarge):
        run(bomb)
    with pytest.raises(pipeline.ImageTooLarge):
        run((PHOTOS / "ianare_exif-samples/jpg/gps/DSCN0010.jpg").read_bytes(), max_pixels=100_000)


def _with_gps(lat: object, lon: object, lat_ref: str = "N", lon_ref: str = "E") -> bytes:
    image = Image.new("RGB", (64, 48), (0, 128, 0))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: lat_ref, 2: lat, 3: lon_ref, 4: lon})
    return _encode(image, "JPEG", exif=exif)


def test_gps_that_means_nothing_counts_as_absent() -> None:
    R = TiffImagePlugin.IFDRational
    zero_over_zero = (R(0, 0), R(0, 0), R(0, 0))
    assert run(_with_gps(zero_over_zero, zero_over_zero)).facts.gps_lat is None
    assert run(_with_gps((R(0), R(0), R(0)), (R(0), R(0), R(0)))).facts.gps_lat is None  # exactly 0,0
    south_west = run(_with_gps((R(35), R(30), R(0)), (R(106), R(30), R(0)), "S", "W")).facts
    assert (south_west.gps_lat, south_west.gps_lon) == (-35.5, -106.5)


def test_a_broken_exif_block_never_fails_a_good_photo() -> None:
    good = _encode(Image.new("RGB", (64, 48)), "JPEG")
    broken = good[:2] + b"\xff\xe1\x00\x20Exif\x00\x00II*\x00\xff\xff\xff\xff" + b"\x00" * 14 + good[2:]
    facts = run(broken).facts
    assert (facts.width, facts.height) == (64, 48) and facts.gps_lat is None
    assert run((PHOTOS / "ianare_exif-samples/jpg/corrupted.jpg").read_bytes()).facts.width == 3648
