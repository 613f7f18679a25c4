"""``POST /open311/v2/requests``: the spec's fields, read from a form, JSON or multipart body, turned
into a native report and filed through the same intake as a phone's (app.reports.intake)."""

from __future__ import annotations

import json
import math
import re
import urllib.parse

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.models import Case, CaseContact
from app.categories.models import Category
from app.core.config import Settings
from app.core.deps import Hooks, read_body
from app.core.errors import AppError
from app.core.i18n import Lang, Text
from app.core.schemas import text_problem
from app.deadlines.calendar import WorkCalendar
from app.open311.attributes import validate
from app.photos.multipart import Part, read_multipart
from app.photos.uploads import UnsupportedMediaType, upload_limits
from app.reports.intake import file_report, intake_context
from app.reports.schemas import ReportIn

CONTACT_LIMITS = {
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "phone": 40,
    "device_id": 200,
    "account_id": 200,
}
MAX_FIELDS = 200


class BadRequest(AppError):
    status, code, title = 400, "open311_bad_request", "Bad request"
    title_zh = "请求有误"


class NoGeocoder(AppError):
    status, code, title = 400, "location_required", "A location is required"
    title_zh = "需要提供位置"


def _fields_of_json(raw: bytes) -> dict[str, list[str]]:
    try:
        doc = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(
            Text("请求体不是有效的 JSON（或嵌套过深）", "the body is not valid JSON (or nests too deep)")
        ) from exc
    if not isinstance(doc, dict):
        raise BadRequest(
            Text(
                "JSON 请求体须为由规范字段组成的对象", "the JSON body must be an object of the spec's fields"
            )
        )
    out: dict[str, list[str]] = {}
    for name, value in doc.items():
        if text_problem(name):
            raise BadRequest(
                Text("字段名不是本服务可以保存的文本", "a field name is not text this service can store")
            )
        if name == "attribute" and isinstance(value, dict):
            for code, inner in value.items():
                out[f"attribute[{code}]"] = [str(v) for v in (inner if isinstance(inner, list) else [inner])]
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            out[name] = [str(value)]
        elif value is not None:
            raise BadRequest(
                Text(f"{name[:40]} 须为字符串或数字", f"{name[:40]} must be a string or a number")
            )
    return out


async def read_fields(request: Request, settings: Settings) -> tuple[dict[str, list[str]], list[Part]]:
    """The request's fields (each a list: a form may repeat one) and its ``media`` files, with the native
    endpoint's limits on sizes, parts and idle time."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/form-data":
        limits = upload_limits(settings)
        parts = await read_multipart(
            content_type,
            request.stream(),
            limits,
            frozenset({"media"}),
            known=None,
            idle_seconds=settings.photos.body_idle_seconds,
            min_bytes_per_s=settings.photos.body_min_bytes_per_s,
        )
        fields: dict[str, list[str]] = {}
        for part in parts:
            if part.name != "media":
                try:
                    fields.setdefault(part.name, []).append(bytes(part.data).decode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise BadRequest(
                        Text(f"字段 {part.name[:40]} 不是 UTF-8", f"field {part.name[:40]} is not UTF-8")
                    ) from exc
        return _checked(fields), [p for p in parts if p.name == "media"]
    raw = await read_body(request, settings.photos.max_report_json_bytes, "the request")
    if media == "application/json":
        return _checked(_fields_of_json(raw)), []
    if media in ("application/x-www-form-urlencoded", ""):
        try:
            parsed = urllib.parse.parse_qs(
                raw.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=MAX_FIELDS,
                errors="strict",
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(
                Text("表单不是 UTF-8 或字段过多", "the form is not UTF-8 or has too many fields")
            ) from exc
        return _checked(parsed), []
    raise UnsupportedMediaType(
        Text(
            f"不接受“{media[:60]}”：请发送表单、JSON 或 multipart",
            f"'{media[:60]}' is not accepted: send a form, JSON or multipart",
        )
    )


def _checked(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every name and value is text every database can store (no NUL, no lone surrogate), as with
    native reports: one client's bad byte must never break the feed for everyone."""
    for name, values in fields.items():
        if text_problem(name):
            raise BadRequest(
                Text("字段名不是本服务可以保存的文本", "a field name is not text this service can store")
            )
        for value in values:
            if text_problem(value):
                raise BadRequest(
                    Text(
                        f"{name[:40]} 的内容无法接受：{text_problem(value)}",
                        f"{name[:40]} {text_problem(value)}",
                    )
                )
    return fields


ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$")
DECIMAL = re.compile(r"^[+-]?[0-9]{1,3}(\.[0-9]{1,15})?$")


def _one(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(Text(f"{name} 重复给出", f"{name} is given more than once"))
    value = values[0]
    if text_problem(value):
        raise BadRequest(
            Text(f"{name} 的内容无法接受：{text_problem(value)}", f"{name} {text_problem(value)}")
        )
    return value.strip() or None


def _coordinate(name: str, raw: str, bound: float) -> float:
    value = float(raw) if DECIMAL.match(raw) else math.nan  # plain ASCII decimals only (no 3_5, no ３５)
    if not math.isfinite(value) or abs(value) > bound:
        raise BadRequest(
            Text(
                f"{name} 须为 ±{bound:g} 以内的十进制度数（WGS-84）",
                f"{name} must be decimal degrees (WGS-84) within ±{bound:g}",
            )
        )
    return value


async def file(
    session: AsyncSession,
    request: Request,
    settings: Settings,
    hooks: Hooks,
    lang: Lang,
    calendar: WorkCalendar,
    principal: Principal,
    fields: dict[str, list[str]],
    media: list[Part],
) -> tuple[int, str]:
    """File the request as a case; ``(case id, tracking code)``. 400 for missing or invalid fields
    (``service_code``, location, attributes, ``media_url``), and the native intake's errors."""
    code = _one(fields, "service_code")
    if code is None:
        raise BadRequest(Text("缺少 service_code", "service_code is required"))
    active = (
        await session.get(Category, code) if len(code) == 5 and code.isascii() and code.isdigit() else None
    )
    if active is None or not active.active:
        raise BadRequest(
            Text(
                f"service_code“{code[:10]}”不是本服务的服务类型（列表见 GET services）",
                f"service_code '{code[:10]}' is not a service here (GET services for the list)",
            )
        )
    lat_raw, lon_raw, address = _one(fields, "lat"), _one(fields, "long"), _one(fields, "address_string")
    if lat_raw is None or lon_raw is None:
        raise NoGeocoder(
            Text(
                "需要 lat 和 long：未配置地址解析，不能只给 address_string",
                "lat and long are required: no geocoder is configured for address_string",
            )
            if address
            else Text("需要 lat 和 long", "lat and long are required")
        )
    lat, lon = _coordinate("lat", lat_raw, 90), _coordinate("long", lon_raw, 180)
    given: dict[str, list[str]] = {}
    for name, values_of_name in fields.items():
        if name.startswith("attribute"):
            match = ATTRIBUTE.match(name)
            if match is None:
                raise BadRequest(
                    Text(
                        f"{name[:40]} 不是 attribute[code] 或 attribute[code][]",
                        f"{name[:40]} is not attribute[code] or attribute[code][]",
                    )
                )
            given.setdefault(match.group(1), []).extend(values_of_name)
    values, problems = validate(code, given)
    if problems:
        raise BadRequest(Text("附加信息有误：" + "; ".join(problems[:10]), "; ".join(problems[:10])))
    media_url = _one(fields, "media_url")
    if media_url is not None:
        parts = urllib.parse.urlsplit(media_url)
        if (
            parts.scheme.lower() not in ("http", "https")
            or not parts.hostname
            or len(media_url) > 2048
            or any(ch.isspace() or ord(ch) < 32 for ch in media_url)
        ):
            raise BadRequest(
                Text(
                    "media_url 须为不超过 2048 个字符的 http(s) 链接",
                    "media_url must be an http(s) URL of at most 2048 characters",
                )
            )
    contact = {name: _one(fields, name) for name in CaseContact.FIELDS}
    for name, value in contact.items():
        if value is not None and len(value) > CONTACT_LIMITS[name]:
            raise BadRequest(
                Text(
                    f"{name} 超过 {CONTACT_LIMITS[name]} 个字符",
                    f"{name} is longer than {CONTACT_LIMITS[name]} characters",
                )
            )
    if address is not None and len(address) > 255:
        raise BadRequest(
            Text("address_string 超过 255 个字符", "address_string is longer than 255 characters")
        )
    try:
        data = ReportIn(
            category_code=code,
            description=_one(fields, "description") or "",
            lat=lat,
            lon=lon,
            address=address,
        )
    except ValidationError as exc:
        listed = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise BadRequest(Text(f"请检查以下字段：{listed}", listed)) from exc
    filed = await file_report(
        session,
        intake_context(request, settings, hooks, lang, calendar),
        principal,
        data,
        media,
        request.headers.get("Idempotency-Key"),
        source="open311",
        extra={"attributes": values, "media_url": media_url, "contact": contact},
    )
    case = await session.get(Case, filed.case_id)
    assert case is not None
    if not filed.replayed:
        case.attributes, case.media_url = values or None, media_url
        if any(contact.values()):
            session.add(CaseContact(case_id=case.id, **contact))
        await session.flush()
    return case.id, case.tracking_code
