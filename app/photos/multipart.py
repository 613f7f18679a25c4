"""A streaming ``multipart/form-data`` reader that enforces limits while the bytes arrive.

Starlette's form parser spools whole files before the application sees them; a phone on weak data
sending a 60 MB part would be read to the end before we could refuse it. This reader counts bytes
per part and per request as they stream in and stops at the first limit crossed (413), so memory
stays bounded by the limits, not by what a client sends. File names are kept as given, including
RFC 5987 ``filename*=UTF-8''...`` (which RFC 7578 forbids but real clients send).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.core.deps import BODY_MIN_BYTES_PER_S, timed_chunks
from app.core.errors import AppError, PayloadTooLarge, ValidationProblem
from app.core.i18n import Text

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*([^;]+)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedMultipart(AppError):
    status, code, title = 400, "malformed_multipart", "The multipart body cannot be parsed"
    title_zh = "multipart 请求体无法解析"


class TooManyParts(AppError):
    status, code, title = 413, "too_many_parts", "The request has too many parts"
    title_zh = "请求包含的部分过多"


class UnknownPart(AppError):
    status, code, title = 422, "unknown_part", "The request has a part this endpoint does not take"
    title_zh = "请求包含本接口不接受的部分"


class PhotoTooLarge(PayloadTooLarge):
    code, title = "photo_too_large", "A photo is larger than allowed"
    title_zh = "照片超过允许的大小"


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class Limits:
    file_bytes: int  # per photo part
    field_bytes: int  # per non-photo part (the JSON)
    files: int  # photo parts
    parts: int  # all parts
    total_bytes: int  # the whole body


def _filename(disposition: str) -> str | None:
    star = _FILENAME_STAR.search(disposition)
    if star:
        value = star.group(1).strip().strip('"')
        charset, _, rest = value.partition("'")
        _, _, encoded = rest.partition("'")
        try:
            name = urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            name = urllib.parse.unquote(encoded, encoding="latin-1")
        return _clean(name)
    _, params = parse_options_header(disposition)
    raw = params.get(b"filename")
    if raw is None:
        return None
    try:  # browsers send UTF-8 bytes; the header parser decoded them as latin-1
        name = raw.decode("latin-1").encode("latin-1").decode("utf-8")
    except UnicodeError:
        name = raw.decode("latin-1")
    return _clean(name)


def _clean(name: str) -> str:
    return _CONTROL.sub("", name)[:255]


async def read_multipart(
    content_type: str,
    stream: AsyncIterator[bytes],
    limits: Limits,
    file_fields: frozenset[str] = frozenset({"photos"}),
    known: frozenset[str] | None = None,
    idle_seconds: float = 30.0,
    min_bytes_per_s: float = BODY_MIN_BYTES_PER_S,
) -> list[Part]:
    """Every part of the body, in order; raises 413 at the first limit crossed, 400 when malformed,
    422 ``unknown_part`` for a part name outside ``known``, 408 when no byte arrives for ``idle_seconds``
    or the body arrives slower than its deadline allows (app.core.deps.timed_chunks)."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 70:  # RFC 2046: 1 to 70 characters
        raise MalformedMultipart(
            Text(
                "multipart/form-data 需要 1 到 70 个字符的 boundary",
                "multipart/form-data needs a boundary of 1 to 70 characters",
            )
        )
    ended = [False]
    parts: list[Part] = []
    headers: dict[str, str] = {}
    header_field = bytearray()
    header_value = bytearray()
    current: list[Part | None] = [None]
    files = 0

    def on_part_begin() -> None:
        headers.clear()
        if len(parts) >= limits.parts:
            raise TooManyParts(Text(f"超过 {limits.parts} 个部分", f"more than {limits.parts} parts"))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[header_field.decode("latin-1").strip().lower()] = header_value.decode("latin-1").strip()
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        nonlocal files
        disposition = headers.get("content-disposition", "")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("latin-1")
        if known is not None and name not in known:
            raise UnknownPart(
                Text(
                    f"未知的部分“{name[:40]}”；此接口接受：{', '.join(sorted(known))}",
                    f"unknown part '{name[:40]}'; this endpoint takes: {', '.join(sorted(known))}",
                ),
                errors=[
                    {"loc": [name[:40]], "field": name[:40], "msg": "unknown part", "type": "unknown_part"}
                ],
            )
        part = Part(name=name, filename=_filename(disposition), content_type=headers.get("content-type"))
        if name in file_fields:
            files += 1
            if files > limits.files:
                raise TooManyParts(
                    Text(
                        f"一次请求超过 {limits.files} 张照片",
                        f"more than {limits.files} photos in one request",
                    )
                )
        parts.append(part)
        current[0] = part

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current[0]
        assert part is not None
        part.data.extend(data[start:end])
        limit = limits.file_bytes if part.name in file_fields else limits.field_bytes
        if len(part.data) > limit:
            if part.name in file_fields:
                raise PhotoTooLarge(
                    Text(f"每张照片最多 {limit:,} 字节", f"a photo is limited to {limit:,} bytes")
                )
            raise PayloadTooLarge(
                Text(
                    f"部分“{part.name[:40]}”最多 {limit:,} 字节",
                    f"the part '{part.name[:40]}' is limited to {limit:,} bytes",
                )
            )

    def on_end() -> None:
        ended[0] = True

    total = 0
    try:
        parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
                "on_end": on_end,
            },
        )
        # An idle client (a stalled phone) or one trickling bytes must not hold the request forever.
        async for chunk in timed_chunks(stream, idle_seconds, min_bytes_per_s):
            total += len(chunk)
            if total > limits.total_bytes:
                raise PayloadTooLarge(
                    Text(
                        f"请求最多 {limits.total_bytes:,} 字节",
                        f"the request is limited to {limits.total_bytes:,} bytes",
                    )
                )
            parser.write(chunk)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:
        raise MalformedMultipart(Text(f"multipart 请求体无法解析：{str(exc)[:200]}", str(exc)[:200])) from exc
    if not ended[0]:
        raise MalformedMultipart(
            Text("请求体在结束 boundary 之前中断", "the body ended before the closing boundary")
        )
    return parts


def json_part(parts: list[Part], name: str) -> bytes:
    """The bytes of the single part called ``name`` (sent as application/json or text/plain)."""
    found = [p for p in parts if p.name == name]
    if len(found) != 1:
        raise ValidationProblem(
            [
                {
                    "loc": [name],
                    "msg": f"exactly one '{name}' part is required, got {len(found)}",
                    "type": "missing" if not found else "duplicate",
                }
            ]
        )
    return bytes(found[0].data)
