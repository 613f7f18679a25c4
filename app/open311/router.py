"""Open311 GeoReport v2 at ``/open311/v2`` (open311.github.io GeoReport v2, with the v2.1 draft's JSON
and multipart ``media`` on POST and the common ``page``/``page_size`` and ``servicerequestupdates``
extensions). Every endpoint answers ``.json`` or ``.xml``; every failure, 404 included, is the spec's
error list (app.open311.formats), never problem+json.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from app.auth.permissions import Principal, api_key_principal
from app.categories.models import Category
from app.core.db import utcnow
from app.core.deps import HooksDep, IdPath, SessionDep, SettingsDep
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.i18n import LangDep
from app.core.schemas import in_range
from app.open311 import formats, intake, service
from app.open311.attributes import attributes_of
from app.open311.intake import BadRequest
from app.open311.permissions import Open311Client
from app.photos.models import Photo
from app.reports.models import Case
from app.reports.permissions import spend_report_quota
from app.workflow.calendar_data import CalendarDep

router = APIRouter(prefix="/open311/v2", tags=["open311"])
Fmt = Literal["json", "xml"]
MAX_WINDOW = dt.timedelta(days=90)  # the spec's default window and longest span
CAP = 1000  # the spec's default cap on a requests list
CHANGESET = "2026-11-30T00:00:00Z"  # when this interface last changed


def _base(request: Request, settings: Any) -> str:
    """Where links point: the configured public address, not a Host header a client chose."""
    return (settings.public_url.rstrip("/") + "/") if settings.public_url else str(request.base_url)


def _jurisdiction(settings: Any, given: str | None) -> None:
    if given is not None and given != settings.jurisdiction_id:
        raise NotFound(f"jurisdiction_id '{given[:50]}' is not served here (this is '{settings.jurisdiction_id}')")


async def _key(session: Any, raw: str | None) -> Principal | None:
    if not raw:
        return None
    try:
        return await api_key_principal(session, raw)
    except Unauthorized as exc:
        raise Forbidden("api_key is invalid or revoked", code="invalid_api_key") from exc


RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _instant(name: str, raw: str | None) -> dt.datetime | None:
    """An RFC 3339 date-time (section 5.6): ``Z`` or ``z`` or an offset, any fraction, a leap second
    read as :59. A ``+`` sent unencoded arrives as a space, and is read as the ``+`` it was."""
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
    raise BadRequest(f"{name} must be an RFC 3339 time with an offset or Z, in the years 1900 to 9000, "
                       "e.g. 2026-11-30T08:00:00Z")


def _listed(request: Request, name: str) -> list[str] | None:
    """A filter given as a comma list, repeated, or both."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


@router.get("/discovery.{fmt}", summary="GeoReport v2 discovery")
async def discovery(fmt: Fmt, request: Request, _: Open311Client, settings: SettingsDep) -> Response:
    base = f"{_base(request, settings)}open311/v2/"
    endpoint = {"specification": "http://wiki.open311.org/GeoReport_v2", "url": base, "changeset": CHANGESET,
                "type": "production", "formats": ["application/json", "text/xml"]}
    body = {"changeset": CHANGESET, "contact": f"{settings.service_name} command centre",
            "key_service": "API keys are issued by the command centre's administrators", "endpoints": [endpoint]}
    return formats.render(fmt, "discovery", None, body)


@router.get("/services.{fmt}", summary="Services: one per category")
async def list_services(fmt: Fmt, _: Open311Client, session: SessionDep, settings: SettingsDep, lang: LangDep,
                        jurisdiction_id: str | None = None) -> Response:
    _jurisdiction(settings, jurisdiction_id)
    return formats.render(fmt, "services", "service", await service.services(session, lang))


@router.get("/services/{service_code}.{fmt}", summary="A service definition (its attributes)")
async def service_definition(service_code: str, fmt: Fmt, _: Open311Client, session: SessionDep,
                             settings: SettingsDep, jurisdiction_id: str | None = None) -> Response:
    _jurisdiction(settings, jurisdiction_id)
    category = await session.get(Category, service_code) if service_code.isascii() and len(service_code) == 5 else None
    if category is None or not category.active:
        raise NotFound(f"service_code '{service_code[:20]}' is not a service here")
    attributes = [a.definition(order) for order, a in enumerate(attributes_of(service_code), start=1)]
    return formats.render(fmt, "service_definition", None, {"service_code": service_code, "attributes": attributes})


@router.get("/requests.{fmt}", summary="Service requests: by ids, or filtered")
async def list_requests(
    fmt: Fmt, request: Request, _: Open311Client, session: SessionDep, settings: SettingsDep, lang: LangDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=CAP)] = CAP,
    api_key: Annotated[str | None, Query(max_length=200)] = None,
    jurisdiction_id: str | None = None,
) -> Response:
    """``service_request_id`` (a comma list) overrides every other filter. Otherwise requests filed in
    ``[start_date, end_date]`` (any RFC 3339 form; at most 90 days; by default the last 90), of the
    ``service_code`` list (each must exist), ``status`` open, closed or both; newest first, at most
    1000 a page (``page``, ``page_size``)."""
    _jurisdiction(settings, jurisdiction_id)
    scope = service.public_or_own(await _key(session, api_key))
    query = select(Case).where(scope)
    if service_request_id is not None:
        ids = _listed(request, "service_request_id") or []
        if not ids or not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in ids):
            raise BadRequest("service_request_id must be a comma-separated list of request ids")
        query = query.where(Case.id.in_([int(p) for p in ids][:CAP]))
    else:
        if service_code is not None:
            codes = _listed(request, "service_code") or []
            known = await service.all_codes(session)  # retired services still have their requests
            unknown = [c for c in codes if c not in known]
            if not codes or unknown:
                raise BadRequest(f"unknown service_code: {', '.join(c[:10] for c in unknown[:5]) or '(empty)'}")
            query = query.where(Case.category_code.in_(codes))
        now = utcnow()
        start, end = _instant("start_date", start_date), _instant("end_date", end_date)
        end = end or (start + MAX_WINDOW if start else now)
        start = start or end - MAX_WINDOW
        if start > end or end - start > MAX_WINDOW:
            raise BadRequest("start_date must not be after end_date, and they may span at most 90 days")
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        wanted = set(_listed(request, "status") or ["open", "closed"])
        if not wanted or wanted - {"open", "closed"}:
            raise BadRequest("status is open, closed, or open,closed")
        if wanted == {"open"}:
            query = query.where(Case.status.not_in(service.CLOSED))
        elif wanted == {"closed"}:
            query = query.where(Case.status.in_(service.CLOSED))
    cases = list((await session.execute(query.order_by(Case.created_at.desc(), Case.id.desc())
                                        .offset((page - 1) * page_size).limit(page_size))).scalars())
    items = await service.request_items(session, cases, _base(request, settings), lang)
    return formats.render(fmt, "service_requests", "request", items)


@router.get("/requests/{request_id}.{fmt}", summary="One service request")
async def get_request(request_id: str, fmt: Fmt, request: Request, _: Open311Client, session: SessionDep,
                      settings: SettingsDep, lang: LangDep, api_key: Annotated[str | None, Query(max_length=200)] = None,
                      jurisdiction_id: str | None = None) -> Response:
    _jurisdiction(settings, jurisdiction_id)
    case = None
    if request_id.isascii() and request_id.isdigit() and len(request_id) <= 10:
        case = (await session.execute(select(Case).where(
            Case.id == int(request_id), service.public_or_own(await _key(session, api_key))))).scalar_one_or_none()
    if case is None:
        raise NotFound(f"No service request {request_id[:20]}")
    items = await service.request_items(session, [case], _base(request, settings), lang)
    return formats.render(fmt, "service_requests", "request", items)


@router.get("/tokens/{token}.{fmt}", summary="The request a token stands for")
async def get_token(token: str, fmt: Fmt, _: Open311Client, session: SessionDep, settings: SettingsDep,
                    api_key: Annotated[str | None, Query(max_length=200)] = None,
                    jurisdiction_id: str | None = None) -> Response:
    """POST answers carry the case's tracking code as ``token``; intake is never deferred, so every token
    resolves at once."""
    _jurisdiction(settings, jurisdiction_id)
    case_id = (await session.execute(select(Case.id).where(
        Case.tracking_code == token.strip().upper()[:24],
        service.public_or_own(await _key(session, api_key))))).scalar_one_or_none()
    if case_id is None:
        raise NotFound(f"No request for token {token[:24]}")
    return formats.render(fmt, "service_requests", "request", [{"service_request_id": str(case_id), "token": token}])


_FIELDS: dict[str, Any] = {
    "api_key": {"type": "string"}, "jurisdiction_id": {"type": "string"},
    "service_code": {"type": "string", "example": "09009"}, "lat": {"type": "number", "example": 35.5428},
    "long": {"type": "number", "example": 106.6652}, "address_string": {"type": "string"},
    "address_id": {"type": "string"}, "email": {"type": "string"}, "device_id": {"type": "string"},
    "account_id": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "phone": {"type": "string"}, "description": {"type": "string", "maxLength": 4000},
    "media_url": {"type": "string", "format": "uri"}}
_FORM = {"type": "object", "required": ["service_code"], "properties": _FIELDS,
         "additionalProperties": {"type": "string", "description": "attribute[code] (or attribute[code][]) answers "
                                  "to the service definition's attributes"}}
REQUEST_BODY = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": _FORM},
    "multipart/form-data": {"schema": {**_FORM, "properties": {
        **_FIELDS, "media": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
    "application/json": {"schema": _FORM}}}}


@router.post("/requests.{fmt}", summary="File a service request (api_key required)", openapi_extra=REQUEST_BODY)
async def create_request(fmt: Fmt, request: Request, _: Open311Client, session: SessionDep, settings: SettingsDep,
                         hooks: HooksDep, lang: LangDep, calendar: CalendarDep) -> Response:
    """Form-encoded as the spec says; JSON and multipart with ``media`` files (v2.1 draft) too. Needs
    ``api_key``, ``service_code``, and ``lat`` + ``long`` (an ``address_string`` alone is refused: no geocoder
    is configured). ``attribute[code]`` values are checked against the service definition; ``media_url`` is
    stored as a link, never fetched; contact fields are kept for staff only. The case goes through the
    same intake, routing and workflow as a phone's report, with source ``open311``."""
    fields, media = await intake.read_fields(request, settings)
    keys = fields.get("api_key") or request.query_params.getlist("api_key")  # the swagger puts it in the query
    if len(set(keys)) > 1:
        raise BadRequest("api_key is given more than once")
    principal = await _key(session, keys[0] if keys else None)
    if principal is None:
        raise Forbidden("api_key is required to file a request", code="invalid_api_key")
    await spend_report_quota(request, principal)
    _jurisdiction(settings, (fields.get("jurisdiction_id") or [None])[0])
    case_id, tracking_code = await intake.file(session, request, settings, hooks, lang, calendar, principal,
                                               fields, media)
    body = [{"service_request_id": str(case_id), "token": tracking_code, "service_notice": None,
             "account_id": (fields.get("account_id") or [None])[0]}]
    return formats.render(fmt, "service_requests", "request", body)  # 200, as the spec's swagger says


@router.get("/servicerequestupdates.{fmt}", summary="Changes of service requests (extension)")
async def request_updates(fmt: Fmt, _: Open311Client, session: SessionDep, settings: SettingsDep,
                          start_date: Annotated[str | None, Query(max_length=40)] = None,
                          end_date: Annotated[str | None, Query(max_length=40)] = None,
                          api_key: Annotated[str | None, Query(max_length=200)] = None,
                          page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                          page_size: Annotated[int, Query(ge=1, le=CAP)] = CAP,
                          jurisdiction_id: str | None = None) -> Response:
    """Each state change in a case's history as ``request_update`` (the widely used
    ``servicerequestupdates`` extension), between ``start_date`` and ``end_date`` (default: the last day),
    oldest first, ``page_size`` (at most 1000) a ``page``."""
    _jurisdiction(settings, jurisdiction_id)
    end = _instant("end_date", end_date) or utcnow()
    start = _instant("start_date", start_date) or end - dt.timedelta(days=1)
    if start > end or end - start > MAX_WINDOW:
        raise BadRequest("start_date must not be after end_date, and they may span at most 90 days")
    items = await service.updates(session, service.public_or_own(await _key(session, api_key)), start, end,
                                  page_size, (page - 1) * page_size)
    return formats.render(fmt, "service_request_updates", "request_update", items)


@router.get("/media/{photo_id}.jpg", summary="A request's photo (display size, no EXIF)")
async def media(photo_id: IdPath, request: Request, _: Open311Client, session: SessionDep) -> Response:
    photo = (await session.execute(select(Photo).join(Case, Case.id == Photo.case_id).where(
        Photo.id == photo_id, Photo.stage == "report", service.public_or_own(None)))).scalar_one_or_none()
    data = await request.app.state.workshop.ensure_display(photo.sha256) if photo else None
    if data is None:
        raise NotFound(f"No photo {photo_id}")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400",
                                                            "X-Content-Type-Options": "nosniff"})


def render_error(request: Request, status: int, code: str, title: str, detail: str | None,
                 headers: dict[str, str] | None, extra: dict[str, Any]) -> Response:
    """Errors under /open311 in the spec's format; validation failures are the spec's 400."""
    if status == 422:
        status = 400
    description = detail or title
    if extra.get("errors") and not detail:
        description = "; ".join(f"{e.get('field')}: {e.get('msg')}" for e in extra["errors"])
    return formats.errors(formats.format_of(request.url.path), status, description, headers)

