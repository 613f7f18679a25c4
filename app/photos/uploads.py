"""Reading a request that may carry photos: a JSON body, or ``multipart/form-data`` with one JSON part and
file parts, within the photo settings' limits."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.core.config import Settings
from app.core.deps import BodyTimeout, read_body
from app.core.errors import AppError, PayloadTooLarge, ValidationProblem, declare
from app.core.http import takes_body
from app.core.i18n import Text
from app.photos.multipart import (
    Limits,
    MalformedMultipart,
    Part,
    PhotoTooLarge,
    TooManyParts,
    UnknownPart,
    json_part,
    read_multipart,
)
from app.photos.service import PhotoRefused

M = TypeVar("M", bound=BaseModel)
# Routes that take photos declare it: their body may be every photo at its largest plus the JSON part.
UPLOAD = takes_body(lambda settings: settings.photos.max_request_bytes)


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Send multipart/form-data or application/json"
    title_zh = "请以 multipart/form-data 或 application/json 发送"


# What a route reading a JSON-or-multipart request with photos may answer (app.core.openapi ``errors``).
UPLOAD_ERRORS = (
    MalformedMultipart,
    BodyTimeout,
    PayloadTooLarge,
    PhotoTooLarge,
    TooManyParts,
    UnsupportedMediaType,
    UnknownPart,
    declare(PhotoRefused, "image_too_large", 413),
    declare(PhotoRefused, "unsupported_image_format", 415),
    declare(PhotoRefused, "image_too_complex", 422),
    declare(PhotoRefused, "corrupt_image", 422),
    declare(PhotoRefused, "empty_image", 422),
)


def upload_limits(settings: Settings) -> Limits:
    p = settings.photos
    return Limits(
        file_bytes=p.max_photo_bytes,
        field_bytes=p.max_report_json_bytes,
        files=p.max_photos_per_report,
        parts=p.max_request_parts,
        total_bytes=p.max_request_bytes,
    )


def parse_part(model: type[M], raw: bytes, part: str) -> M:
    """``raw`` JSON as ``model``; errors point at ``<part>.<field>`` (malformed JSON at ``<part>``)."""
    try:
        return model.model_validate_json(raw.removeprefix(b"\xef\xbb\xbf"))  # some clients send a BOM
    except ValidationError as exc:
        raise ValidationProblem(
            [
                {
                    "loc": [part, *[str(p) for p in err.get("loc", ())]],
                    "msg": str(err.get("msg")),
                    "type": err.get("type", ""),
                }
                for err in exc.errors()
            ]
        ) from exc


async def read_request(
    request: Request, settings: Settings, json_name: str, file_fields: frozenset[str]
) -> tuple[bytes | None, list[Part]]:
    """The JSON (``json_name`` part or whole body) and the file parts of a JSON or multipart request."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/form-data":
        limits = upload_limits(settings)
        if int(request.headers.get("content-length") or 0) > limits.total_bytes:
            raise PayloadTooLarge(
                Text(
                    f"请求最多 {limits.total_bytes:,} 字节",
                    f"the request is limited to {limits.total_bytes:,} bytes",
                )
            )
        parts = await read_multipart(
            content_type,
            request.stream(),
            limits,
            file_fields,
            known=frozenset({json_name}) | file_fields,
            idle_seconds=settings.photos.body_idle_seconds,
            min_bytes_per_s=settings.photos.body_min_bytes_per_s,
        )
        has_json = any(p.name == json_name for p in parts)
        return (json_part(parts, json_name) if has_json else None), [
            p for p in parts if p.name in file_fields
        ]
    if media in ("application/json", "text/plain", ""):
        return await read_body(request, settings.photos.max_report_json_bytes, "the JSON body"), []
    raise UnsupportedMediaType(Text(f"此接口不接受“{media}”", f"'{media}' is not accepted here"))
