"""Open311 GeoReport v2 at ``/open311/v2`` (open311.github.io GeoReport v2, with the v2.1 draft's JSON
and multipart ``media`` on POST and the common ``page``/``page_size`` and ``servicerequestupdates``
extensions). Every endpoint answers ``.json`` or ``.xml``; every failure, 404 included, is the spec's
error list (app.open311.formats), never problem+json.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.categories.models import Category
from app.core.deps import HooksDep, IdPath, SessionDep, SettingsDep
from app.core.errors import Forbidden, NotFound, declare
from app.core.i18n import LangDep, Text
from app.core.openapi import answer_examples, errors
from app.core.ratelimit import RateLimited
from app.deadlines.cache import CalendarDep
from app.open311 import document, formats, intake, reading, service
from app.open311.attributes import attributes_of
from app.open311.document import (
    CAP,
    ApiKeyQuery,
    EndDate,
    Fmt,
    Jurisdiction,
    PageNumber,
    PageSize,
    StartDate,
)
from app.open311.intake import BadRequest, NoGeocoder
from app.open311.permissions import Open311Client
from app.photos.uploads import UPLOAD, UPLOAD_ERRORS
from app.reports.permissions import spend_report_quota
from app.reports.retries import IdempotencyConflict

router = APIRouter(prefix="/open311/v2", tags=["open311"])
CHANGESET = "2026-11-30T00:00:00Z"  # when this interface last changed


@router.get("/discovery.{fmt}", summary="GeoReport v2 discovery")
@answer_examples(document.answer("discovery", None, document.DISCOVERY))
async def discovery(fmt: Fmt, request: Request, _: Open311Client, settings: SettingsDep) -> Response:
    base = f"{reading.public_base(request, settings)}open311/v2/"
    endpoint = {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": base,
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }
    body = {
        "changeset": CHANGESET,
        "contact": f"{settings.service_name} command centre",
        "key_service": "API keys are issued by the command centre's administrators",
        "endpoints": [endpoint],
    }
    return formats.render(fmt, "discovery", None, body)


@router.get("/services.{fmt}", summary="Services: one per category", responses=errors(NotFound))
@answer_examples(document.answer("services", "service", document.SERVICES))
async def list_services(
    fmt: Fmt,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    lang: LangDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    reading.check_jurisdiction(settings, jurisdiction_id)
    return formats.render(fmt, "services", "service", await service.services(session, lang))


@router.get(
    "/services/{service_code}.{fmt}",
    summary="A service definition (its attributes)",
    responses=errors(NotFound),
)
@answer_examples(document.answer("service_definition", None, document.DEFINITION))
async def service_definition(
    service_code: Annotated[str, Path(description="a 5-digit service (category) code, e.g. `09009`")],
    fmt: Fmt,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    reading.check_jurisdiction(settings, jurisdiction_id)
    category = (
        await session.get(Category, service_code)
        if service_code.isascii() and len(service_code) == 5
        else None
    )
    if category is None or not category.active:
        raise NotFound(
            Text(
                f"service_code“{service_code[:20]}”不是本服务的服务类型",
                f"service_code '{service_code[:20]}' is not a service here",
            )
        )
    attributes = [a.definition(order) for order, a in enumerate(attributes_of(service_code), start=1)]
    return formats.render(
        fmt, "service_definition", None, {"service_code": service_code, "attributes": attributes}
    )


@router.get(
    "/requests.{fmt}",
    summary="Service requests: by ids, or filtered",
    responses=errors(
        BadRequest, NotFound, declare(Forbidden, "api_key_required"), declare(Forbidden, "invalid_api_key")
    ),
)
@answer_examples(document.answer("service_requests", "request", document.REQUESTS))
async def list_requests(
    fmt: Fmt,
    request: Request,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    lang: LangDep,
    service_request_id: Annotated[
        str | None,
        Query(max_length=2000, description="request ids, comma-separated; overrides every other filter"),
    ] = None,
    service_code: Annotated[
        str | None, Query(max_length=2000, description="5-digit service codes, comma-separated")
    ] = None,
    start_date: StartDate = None,
    end_date: EndDate = None,
    status: Annotated[
        str | None, Query(max_length=20, description="`open`, `closed` or `open,closed`")
    ] = None,
    page: PageNumber = 1,
    page_size: PageSize = CAP,
    api_key: ApiKeyQuery = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """``service_request_id`` (a comma list) overrides every other filter. Otherwise requests filed in
    ``[start_date, end_date]`` (any RFC 3339 form; at most 90 days; by default the last 90), of the
    ``service_code`` list (each must exist), ``status`` open, closed or both; newest first, at most
    1000 a page (``page``, ``page_size``)."""
    reading.check_jurisdiction(settings, jurisdiction_id)
    cases = await reading.find_requests(
        session,
        request,
        await reading.readable(session, settings, api_key),
        by_id=service_request_id is not None,
        by_code=service_code is not None,
        start_date=start_date,
        end_date=end_date,
        page=page,
        page_size=page_size,
    )
    items = await service.request_items(session, cases, reading.public_base(request, settings), lang)
    return formats.render(fmt, "service_requests", "request", items)


@router.get(
    "/requests/{request_id}.{fmt}",
    summary="One service request",
    responses=errors(NotFound, declare(Forbidden, "api_key_required"), declare(Forbidden, "invalid_api_key")),
)
@answer_examples(document.answer("service_requests", "request", document.REQUESTS))
async def get_request(
    request_id: Annotated[str, Path(description="the `service_request_id` (the case's id)")],
    fmt: Fmt,
    request: Request,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    lang: LangDep,
    api_key: ApiKeyQuery = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    reading.check_jurisdiction(settings, jurisdiction_id)
    case = await reading.find_request(session, await reading.readable(session, settings, api_key), request_id)
    items = await service.request_items(session, [case], reading.public_base(request, settings), lang)
    return formats.render(fmt, "service_requests", "request", items)


@router.get(
    "/tokens/{token}.{fmt}",
    summary="The request a token stands for",
    responses=errors(NotFound, declare(Forbidden, "api_key_required"), declare(Forbidden, "invalid_api_key")),
)
@answer_examples(document.answer("service_requests", "request", document.TOKEN))
async def get_token(
    token: Annotated[str, Path(description="the `token` a filing answered (the case's tracking code)")],
    fmt: Fmt,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    api_key: ApiKeyQuery = None,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """POST answers carry the case's tracking code as ``token``; intake is never deferred, so every token
    resolves at once."""
    reading.check_jurisdiction(settings, jurisdiction_id)
    case_id = await reading.find_token(session, await reading.readable(session, settings, api_key), token)
    return formats.render(
        fmt, "service_requests", "request", [{"service_request_id": str(case_id), "token": token}]
    )


@router.post(
    "/requests.{fmt}",
    summary="File a service request (api_key required)",
    openapi_extra=document.REQUEST_BODY,
    responses=errors(
        BadRequest,
        NoGeocoder,
        declare(Forbidden, "invalid_api_key"),
        NotFound,
        RateLimited,
        IdempotencyConflict,
        *UPLOAD_ERRORS,
    ),
)
@answer_examples(document.answer("service_requests", "request", document.FILED))
@UPLOAD
async def create_request(
    fmt: Fmt,
    request: Request,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    hooks: HooksDep,
    lang: LangDep,
    calendar: CalendarDep,
) -> Response:
    """Form-encoded as the spec says; JSON and multipart with ``media`` files (v2.1 draft) too. Needs
    ``api_key``, ``service_code``, and ``lat`` + ``long`` (an ``address_string`` alone is refused: no geocoder
    is configured). ``attribute[code]`` values are checked against the service definition; ``media_url`` is
    stored as a link, never fetched; contact fields are kept for staff only. The case goes through the
    same intake, routing and workflow as a phone's report, with source ``open311``."""
    fields, media = await intake.read_fields(request, settings)
    keys = fields.get("api_key") or request.query_params.getlist(
        "api_key"
    )  # the swagger puts it in the query
    if len(set(keys)) > 1:
        raise BadRequest(Text("api_key 重复给出", "api_key is given more than once"))
    principal = await reading.key_principal(session, keys[0] if keys else None)
    if principal is None:
        raise Forbidden(
            Text("提交请求需要 api_key", "api_key is required to file a request"), code="invalid_api_key"
        )
    await spend_report_quota(request, principal)
    reading.check_jurisdiction(settings, next(iter(fields.get("jurisdiction_id") or []), None))
    case_id, tracking_code = await intake.file(
        session, request, settings, hooks, lang, calendar, principal, fields, media
    )
    body = [
        {
            "service_request_id": str(case_id),
            "token": tracking_code,
            "service_notice": None,
            "account_id": next(iter(fields.get("account_id") or []), None),
        }
    ]
    return formats.render(fmt, "service_requests", "request", body)  # 200, as the spec's swagger says


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Changes of service requests (extension)",
    responses=errors(
        BadRequest, NotFound, declare(Forbidden, "api_key_required"), declare(Forbidden, "invalid_api_key")
    ),
)
@answer_examples(document.answer("service_request_updates", "request_update", document.UPDATES))
async def request_updates(
    fmt: Fmt,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    start_date: StartDate = None,
    end_date: EndDate = None,
    api_key: ApiKeyQuery = None,
    page: PageNumber = 1,
    page_size: PageSize = CAP,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Each state change in a case's history as ``request_update`` (the widely used
    ``servicerequestupdates`` extension), between ``start_date`` and ``end_date`` (default: the last day),
    oldest first, ``page_size`` (at most 1000) a ``page``."""
    reading.check_jurisdiction(settings, jurisdiction_id)
    start, end = reading.window(start_date, end_date, span=dt.timedelta(days=1), end_after_start=False)
    items = await service.updates(
        session,
        await reading.readable(session, settings, api_key),
        start,
        end,
        page_size,
        (page - 1) * page_size,
    )
    return formats.render(fmt, "service_request_updates", "request_update", items)


@router.get(
    "/media/{photo_id}.jpg",
    summary="A request's photo (display size, no EXIF)",
    responses=errors(NotFound, declare(Forbidden, "api_key_required"), declare(Forbidden, "invalid_api_key")),
)
async def media(
    photo_id: IdPath,
    request: Request,
    _: Open311Client,
    session: SessionDep,
    settings: SettingsDep,
    api_key: Annotated[
        str | None,
        Query(max_length=200, description="needed when requests are not public (GRID_OPEN311_PUBLIC_READS)"),
    ] = None,
) -> Response:
    """A request's report photo at display size, without EXIF, for whoever may read the request."""
    photo = await reading.find_media(session, await reading.readable(session, settings, api_key), photo_id)
    data = await request.app.state.workshop.ensure_display(photo.sha256) if photo else None
    if data is None:
        raise NotFound(Text(f"没有照片 {photo_id}", f"No photo {photo_id}"))
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            "Cache-Control": f"{'private' if api_key else 'public'}, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )


def render_error(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str | None,
    headers: dict[str, str] | None,
    extra: dict[str, Any],
) -> Response:
    """Errors under /open311 in the spec's format; validation failures are the spec's 400."""
    if status == 422:
        status = 400
    description = detail or title
    if extra.get("errors") and not detail:
        description = "; ".join(f"{e.get('field')}: {e.get('msg')}" for e in extra["errors"])
    return formats.errors(formats.format_of(request.url.path), status, description, headers)
