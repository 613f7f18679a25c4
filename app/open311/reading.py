"""What an Open311 caller asks for and may read: its ``api_key`` and ``jurisdiction_id``, the spec's
query parameters (RFC 3339 dates, comma lists) and the service requests they select.

Every refusal is an ``AppError`` that app.open311.router renders as the spec's error list.
"""

from __future__ import annotations

import datetime as dt
import re

from fastapi import Request
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal, api_key_principal
from app.cases.models import Case
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.i18n import Text
from app.core.schemas import in_range
from app.open311 import service
from app.open311.document import CAP
from app.open311.intake import BadRequest
from app.photos.models import Photo

MAX_WINDOW = dt.timedelta(days=90)  # the spec's default window and longest span
WINDOW_REFUSED = Text(
    "start_date 不能晚于 end_date，且两者最多相隔 90 天",
    "start_date must not be after end_date, and they may span at most 90 days",
)
RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def public_base(request: Request, settings: Settings) -> str:
    """Where links point: the configured public address, not a Host header a client chose."""
    return (settings.public_url.rstrip("/") + "/") if settings.public_url else str(request.base_url)


def check_jurisdiction(settings: Settings, given: str | None) -> None:
    """Raises NotFound when ``jurisdiction_id`` is given and is not this service's."""
    if given is not None and given != settings.jurisdiction_id:
        raise NotFound(
            Text(
                f"本服务不服务 jurisdiction_id“{given[:50]}”（本服务为“{settings.jurisdiction_id}”）",
                f"jurisdiction_id '{given[:50]}' is not served here (this is '{settings.jurisdiction_id}')",
            )
        )


async def key_principal(session: AsyncSession, raw: str | None) -> Principal | None:
    """The API key's caller, None without a key; an unknown or revoked key is 403 ``invalid_api_key``
    (the spec's clients expect 403, not the native 401)."""
    if not raw:
        return None
    try:
        return await api_key_principal(session, raw)
    except Unauthorized as exc:
        raise Forbidden(
            Text("api_key 无效或已吊销", "api_key is invalid or revoked"), code="invalid_api_key"
        ) from exc


async def readable(session: AsyncSession, settings: Settings, raw_key: str | None) -> ColumnElement[bool]:
    """The requests the caller may read; 403 ``api_key_required`` when nothing is published without a key
    (``GRID_OPEN311_PUBLIC_READS=none``) and none was given."""
    principal = await key_principal(session, raw_key)
    if principal is None and settings.open311_public_reads == "none":
        raise Forbidden(
            Text(
                "本市只向持有 api_key 者公开服务请求；请向指挥中心申请",
                "this city publishes service requests to api_key holders only; ask the command centre for a key",
            ),
            code="api_key_required",
        )
    return service.public_or_own(principal, settings.open311_public_reads)


def instant(name: str, raw: str | None) -> dt.datetime | None:
    """An RFC 3339 date-time (section 5.6): ``Z`` or ``z`` or an offset, any fraction, a leap second
    read as :59. A ``+`` sent unencoded arrives as a space, and is read as the ``+`` it was.
    Raises BadRequest for anything else."""
    if raw is None:
        return None
    text = raw.strip()
    if len(text) > 6 and text[-6] == " ":
        text = text[:-6] + "+" + text[-5:]
    match = RFC3339.match(text)
    if match:
        day, hm, sec, fraction, offset = match.groups()
        sec = "59" if sec == "60" else sec
        fraction = (fraction or "")[:7]
        try:
            return in_range(dt.datetime.fromisoformat(f"{day}T{hm}:{sec}{fraction}{offset.upper()}"))
        except ValueError:
            pass
    raise BadRequest(
        Text(
            f"{name} 须为带时区偏移或 Z 的 RFC 3339 时间，年份在 1900 到 9000 之间，例如 2026-11-30T08:00:00Z",
            f"{name} must be an RFC 3339 time with an offset or Z, in the years 1900 to 9000, "
            "e.g. 2026-11-30T08:00:00Z",
        )
    )


def window(
    start_date: str | None, end_date: str | None, *, span: dt.timedelta, end_after_start: bool
) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end]`` from the two parameters. A missing start is ``span`` before the end; a missing end
    is now, or ``span`` after a given start when ``end_after_start``. Raises BadRequest for a reversed
    window or one over 90 days."""
    start, end = instant("start_date", start_date), instant("end_date", end_date)
    end = end or (start + span if start and end_after_start else utcnow())
    start = start or end - span
    if start > end or end - start > MAX_WINDOW:
        raise BadRequest(WINDOW_REFUSED)
    return start, end


def listed(request: Request, name: str) -> list[str] | None:
    """A filter given as a comma list, repeated, or both."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


async def find_requests(
    session: AsyncSession,
    request: Request,
    scope: ColumnElement[bool],
    *,
    by_id: bool,
    by_code: bool,
    start_date: str | None,
    end_date: str | None,
    page: int,
    page_size: int,
) -> list[Case]:
    """``GET requests``: by ids (a comma list, overriding every other filter), else by ``service_code``
    list, window and ``status``; newest first, one page. Raises BadRequest naming the bad parameter."""
    query = select(Case).where(scope)
    if by_id:
        ids = listed(request, "service_request_id") or []
        if not ids or not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in ids):
            raise BadRequest(
                Text(
                    "service_request_id 须为以逗号分隔的请求编号",
                    "service_request_id must be a comma-separated list of request ids",
                )
            )
        query = query.where(Case.id.in_([int(p) for p in ids][:CAP]))
    else:
        if by_code:
            codes = listed(request, "service_code") or []
            known = await service.all_codes(session)  # retired services still have their requests
            unknown = [c for c in codes if c not in known]
            if not codes or unknown:
                raise BadRequest(
                    Text(
                        f"未知的 service_code：{', '.join(c[:10] for c in unknown[:5]) or '(空)'}",
                        f"unknown service_code: {', '.join(c[:10] for c in unknown[:5]) or '(empty)'}",
                    )
                )
            query = query.where(Case.category_code.in_(codes))
        start, end = window(start_date, end_date, span=MAX_WINDOW, end_after_start=True)
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        wanted = set(listed(request, "status") or ["open", "closed"])
        if not wanted or wanted - {"open", "closed"}:
            raise BadRequest(
                Text("status 须为 open、closed 或 open,closed", "status is open, closed, or open,closed")
            )
        if wanted == {"open"}:
            query = query.where(Case.status.not_in(service.CLOSED))
        elif wanted == {"closed"}:
            query = query.where(Case.status.in_(service.CLOSED))
    page_query = query.order_by(Case.created_at.desc(), Case.id.desc()).offset((page - 1) * page_size)
    return list((await session.execute(page_query.limit(page_size))).scalars())


async def find_request(session: AsyncSession, scope: ColumnElement[bool], request_id: str) -> Case:
    """One request by its id as the path gave it; NotFound for anything else, or one not readable."""
    case = None
    if request_id.isascii() and request_id.isdigit() and len(request_id) <= 10:
        query = select(Case).where(Case.id == int(request_id), scope)
        case = (await session.execute(query)).scalar_one_or_none()
    if case is None:
        raise NotFound(Text(f"没有服务请求 {request_id[:20]}", f"No service request {request_id[:20]}"))
    return case


async def find_token(session: AsyncSession, scope: ColumnElement[bool], token: str) -> int:
    """The request id a token (the case's tracking code) stands for; NotFound otherwise."""
    query = select(Case.id).where(Case.tracking_code == token.strip().upper()[:24], scope)
    case_id = (await session.execute(query)).scalar_one_or_none()
    if case_id is None:
        raise NotFound(Text(f"没有 token 为 {token[:24]} 的请求", f"No request for token {token[:24]}"))
    return case_id


async def find_media(session: AsyncSession, scope: ColumnElement[bool], photo_id: int) -> Photo | None:
    """A readable request's report photo (never a staff stage's), or None."""
    query = (
        select(Photo)
        .join(Case, Case.id == Photo.case_id)
        .where(Photo.id == photo_id, Photo.stage == "report", scope)
    )
    return (await session.execute(query)).scalar_one_or_none()
