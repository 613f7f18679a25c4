"""HTTP routes of reports (cases): filing one with photos, reading it, adding evidence photos."""

from __future__ import annotations

import json
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.cases.permissions import VisibleCase, VisibleCaseWithPhotos
from app.cases.present import present
from app.cases.schemas import CaseOut
from app.cases.versions import etag
from app.categories.service import UnknownCategory
from app.core.db import utcnow
from app.core.deps import HooksDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, NotFound, ValidationProblem, declare
from app.core.i18n import CONTENT_LANGUAGE, LangDep, Text
from app.core.openapi import errors
from app.core.ratelimit import RateLimited
from app.core.responses import model_response
from app.core.schemas import text_problem
from app.deadlines.cache import CalendarDep
from app.grids.service import OutsideServiceArea
from app.photos.service import attach
from app.photos.uploads import UPLOAD, UPLOAD_ERRORS, parse_part, read_request
from app.reports.intake import file_report, intake_context
from app.reports.permissions import CaseDeleter, CaseReader, PhotoAdder, ReportFiler, may_add_photos
from app.reports.placement import LocationRequired
from app.reports.retries import IdempotencyConflict
from app.reports.schemas import REPORT_EXAMPLE, ReportIn
from app.workflow.events import StatusChanged
from app.workflow.history import new_event

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
M = TypeVar("M", bound=BaseModel)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="a retry with the same key gets the first answer"
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    summary="File a report (with photos)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["report"],
                        "properties": {
                            "report": {
                                "type": "string",
                                "description": "the report as JSON: the fields of `ReportIn` (the JSON body's "
                                "schema)",
                                "example": json.dumps(REPORT_EXAMPLE, ensure_ascii=False),
                            },
                            "photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "0 to `GRID_MAX_PHOTOS_PER_REPORT` photos of the problem (JPEG, "
                                "PNG, WebP or HEIC/HEIF, judged by their bytes; at most `GRID_MAX_PHOTO_BYTES` "
                                "each); the first with EXIF GPS places a report sent without `lat`/`lon`",
                            },
                            "after_photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "only with `self_handled: true`: photos after the fix on the spot "
                                "(自处理), needed where the category requires an after photo",
                            },
                        },
                    },
                    "encoding": {
                        "report": {"contentType": "application/json"},
                        "photos": {
                            "contentType": "image/jpeg, image/png, image/webp, image/heic, image/heif"
                        },
                        "after_photos": {
                            "contentType": "image/jpeg, image/png, image/webp, image/heic, image/heif"
                        },
                    },
                    "example": {"report": json.dumps(REPORT_EXAMPLE, ensure_ascii=False)},
                },
                "application/json": {"schema": {"$ref": "#/components/schemas/ReportIn"}},
            },
        }
    },
    responses=errors(
        *UPLOAD_ERRORS,
        IdempotencyConflict,
        RateLimited,
        LocationRequired,
        OutsideServiceArea,
        UnknownCategory,
        declare(ValidationProblem, "after_photo_required"),
    ),
)
@UPLOAD
async def create_report(
    request: Request,
    principal: ReportFiler,
    session: SessionDep,
    settings: SettingsDep,
    hooks: HooksDep,
    lang: LangDep,
    calendar: CalendarDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A grid worker's report: ``multipart/form-data`` with a ``report`` JSON part and 0..N ``photos``
    (JPEG, PNG, WebP, HEIC; judged by their bytes), or plain JSON without photos.

    The report is placed (``lat``/``lon`` in ``coord_system``, else the first photo's EXIF GPS),
    routed and answered with the case. ``Idempotency-Key`` and ``client_id`` make retries safe.
    Errors: 413 ``photo_too_large``/``image_too_large``/``too_many_parts``, 415
    ``unsupported_image_format``, 422 ``corrupt_image``, ``location_required``, ``outside_service_area``,
    ``unknown_category``, 409 ``idempotency_key_reused``.
    """
    raw, files = await read_request(request, settings, "report", frozenset({"photos", "after_photos"}))
    if raw is None:
        raise ValidationProblem(
            [{"loc": ["report"], "msg": "the 'report' part is required", "type": "missing"}]
        )
    data = parse_part(ReportIn, raw, "report")
    filed = await file_report(
        session,
        intake_context(request, settings, hooks, lang, calendar),
        principal,
        data,
        [p for p in files if p.name == "photos"],
        idempotency_key,
        source="api" if principal.api_key else "app",
        after_parts=[p for p in files if p.name == "after_photos"],
    )
    headers = {
        "Location": f"/api/v1/reports/{filed.case_id}",
        "Content-Language": CONTENT_LANGUAGE[lang],
        "ETag": filed.etag,
    }
    if filed.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(filed.body, status_code=filed.status_code, headers=headers)


@router.get("/{case_id}", response_model=CaseOut, summary="One case", responses=errors(NotFound))
async def get_report(
    principal: CaseReader,
    visible: VisibleCaseWithPhotos,
    session: SessionDep,
    lang: LangDep,
    calendar: CalendarDep,
) -> Response:
    """The case with its cell, unit, routing, deadline, light and photos; 404 when the caller may not see it."""
    case = visible.case
    shown = (await present(session, [case], principal, lang, calendar, photos={case.id: visible.photos}))[0]
    return model_response(shown, headers={"ETag": etag(case), "Content-Language": CONTENT_LANGUAGE[lang]})


@router.post(
    "/{case_id}/photos",
    response_model=CaseOut,
    status_code=201,
    summary="Add evidence photos",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["stage", "photos"],
                        "properties": {
                            "stage": {
                                "type": "string",
                                "enum": ["report", "resolution", "check"],
                                "description": "what the photos show: `report` (the problem; workers), "
                                "`resolution` (after the fix; the unit holding the case), `check` (the on-site "
                                "check; workers)",
                            },
                            "photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "1 to `GRID_MAX_PHOTOS_PER_REPORT` photos (JPEG, PNG, WebP or "
                                "HEIC/HEIF)",
                            },
                        },
                    },
                    "encoding": {
                        "photos": {"contentType": "image/jpeg, image/png, image/webp, image/heic, image/heif"}
                    },
                    "example": {"stage": "check"},
                }
            },
        }
    },
    responses=errors(NotFound, declare(Forbidden, "stage_not_allowed"), *UPLOAD_ERRORS),
)
@UPLOAD
async def add_photos(
    request: Request,
    principal: PhotoAdder,
    case: VisibleCase,
    session: SessionDep,
    settings: SettingsDep,
    hooks: HooksDep,
    lang: LangDep,
    calendar: CalendarDep,
) -> Response:
    """``multipart/form-data`` with a ``stage`` part (``report``, ``resolution``, ``check``) and ``photos``.

    Workers add ``report``/``check`` photos, the assigned unit's staff ``resolution`` photos. 404 when
    the caller may not see the case; 403 ``stage_not_allowed``.
    """
    raw, files = await read_request(request, settings, "stage", frozenset({"photos"}))
    stage = (raw or b"").decode("utf-8", "replace").strip()
    if stage not in ("report", "resolution", "check"):
        raise ValidationProblem(
            [{"loc": ["stage"], "msg": "one of report, resolution, check", "type": "enum"}]
        )
    if not files:
        raise ValidationProblem([{"loc": ["photos"], "msg": "at least one photo", "type": "missing"}])
    if not may_add_photos(principal, case, stage):
        raise Forbidden(
            Text(
                f"{principal.role.value if principal.role else '调用者'} 不能给此案件添加“{stage}”阶段的照片",
                f"A {principal.role.value if principal.role else 'caller'} may not add '{stage}' photos to this case",
            ),
            code="stage_not_allowed",
        )
    workshop = request.app.state.workshop
    photos = await workshop.ingest(files)
    await session.refresh(case)
    event = new_event(
        case,
        "add_photos",
        principal,
        case.status,
        case.status,
        unit_id=principal.user.unit_id if principal.user else None,
        data={"stage": stage, "count": len(photos)},
    )
    case.updated_at = utcnow()  # the case's photos changed: phones syncing it must hear of it
    session.add(event)
    await session.flush()
    await workshop.store(photos, hooks, request.app.state.db)
    await attach(
        session,
        case_id=case.id,
        photos=photos,
        stage=stage,
        uploader_id=principal.user.id if principal.user else None,
        event_id=event.id,
        point=(case.lat, case.lon),
        reported_at=utcnow(),
        settings=settings,
    )
    shown = (await present(session, [case], principal, lang, calendar))[0]
    return model_response(shown, status_code=201, headers={"ETag": etag(case)})


@router.delete("/{case_id}", status_code=204, summary="Delete a case (admin)", responses=errors(NotFound))
async def delete_report(
    principal: CaseDeleter,
    case: VisibleCase,
    session: SessionDep,
    tx: HooksDep,
    reason: Annotated[str, Query(min_length=1, max_length=500, description="why (kept in history)")],
) -> Response:
    """Remove a case from every list, figure and export; its rows stay (history is append-only) and
    phones that had it get a tombstone in their delta sync. 404 when already deleted or unknown,
    422 without a ``reason``."""
    if text_problem(reason) or not reason.strip():
        raise ValidationProblem(
            [
                {
                    "loc": ["query", "reason"],
                    "msg": text_problem(reason) or "a reason is needed",
                    "type": "text_invalid",
                }
            ]
        )
    now = utcnow()
    session.add(new_event(case, "delete", principal, case.status, case.status, reason=reason.strip()))
    case.deleted_at, case.deleted_reason, case.updated_at = now, reason.strip(), now
    await session.flush()
    tx.collect([StatusChanged(case.id, case.status, "deleted", now)])
    return Response(status_code=204)
