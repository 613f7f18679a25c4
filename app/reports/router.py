"""HTTP routes of reports (cases): filing one with photos, reading it, adding evidence photos."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from app.auth.models import Role
from app.core.db import utcnow
from app.core.deps import HooksDep, IdPath, SessionDep, SettingsDep, read_body, release
from app.core.errors import AppError, Forbidden, PayloadTooLarge, ValidationProblem
from app.core.i18n import CONTENT_LANGUAGE, LangDep
from app.core.schemas import text_problem
from app.photos.multipart import Limits, Part, json_part, read_multipart
from app.photos.service import attach
from app.reports.access import get_visible_case
from app.reports.intake import IntakeContext, file_report, new_event
from app.reports.permissions import CaseDeleter, CaseReader, PhotoAdder, ReportFiler
from app.reports.present import cases_out, sees_contacts, sees_private_evidence
from app.reports.schemas import REPORT_EXAMPLE, CaseOut, ReportIn
from app.workflow.calendar_data import CalendarDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
M = TypeVar("M", bound=BaseModel)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="a retry with the same key gets the first answer")]


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Send multipart/form-data or application/json"


def upload_limits(settings: Any) -> Limits:
    p = settings.photos
    return Limits(file_bytes=p.max_photo_bytes, field_bytes=p.max_report_json_bytes, files=p.max_photos_per_report,
                  parts=p.max_request_parts, total_bytes=p.max_request_bytes)


def parse_part(model: type[M], raw: bytes, part: str) -> M:
    """``raw`` JSON as ``model``; errors point at ``<part>.<field>`` (malformed JSON at ``<part>``)."""
    try:
        return model.model_validate_json(raw.removeprefix(b"\xef\xbb\xbf"))  # some clients send a BOM
    except ValidationError as exc:
        raise ValidationProblem([{"loc": [part, *[str(p) for p in err.get("loc", ())]], "msg": str(err.get("msg")),
                                  "type": err.get("type", "")} for err in exc.errors()]) from exc


async def read_request(request: Request, settings: Any, json_name: str,
                       file_fields: frozenset[str]) -> tuple[bytes | None, list[Part]]:
    """The JSON (``json_name`` part or whole body) and the file parts of a JSON or multipart request."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/form-data":
        limits = upload_limits(settings)
        if int(request.headers.get("content-length") or 0) > limits.total_bytes:
            raise PayloadTooLarge(f"the request is limited to {limits.total_bytes:,} bytes")
        parts = await read_multipart(content_type, request.stream(), limits, file_fields,
                                     known=frozenset({json_name}) | file_fields,
                                     idle_seconds=settings.photos.body_idle_seconds)
        has_json = any(p.name == json_name for p in parts)
        return (json_part(parts, json_name) if has_json else None), [p for p in parts if p.name in file_fields]
    if media in ("application/json", "text/plain", ""):
        return await read_body(request, settings.photos.max_report_json_bytes, "the JSON body"), []
    raise UnsupportedMediaType(f"'{media}' is not accepted here")


def intake_context(request: Request, settings: Any, hooks: Any, lang: Any, calendar: Any) -> IntakeContext:
    state = request.app.state
    return IntakeContext(settings=settings, grid_index=state.grid_index, workshop=state.workshop,
                         calendar=calendar, db=state.db, hooks=hooks, lang=lang)


def _etag(case_id: int, version: int) -> str:
    return f'"case-{case_id}-v{version}"'


@router.post("", status_code=201, response_model=CaseOut, summary="File a report (with photos)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {"type": "object", "required": ["report"], "properties": {
                     "report": {"type": "string", "description": "the report as JSON", "example": REPORT_EXAMPLE},
                     "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                     "after_photos": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
                 "application/json": {"schema": {"$ref": "#/components/schemas/ReportIn"}}}}})
async def create_report(request: Request, principal: ReportFiler, session: SessionDep, settings: SettingsDep,
                        hooks: HooksDep, lang: LangDep, calendar: CalendarDep,
                        idempotency_key: IdempotencyKey = None) -> Response:
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
        raise ValidationProblem([{"loc": ["report"], "msg": "the 'report' part is required", "type": "missing"}])
    data = parse_part(ReportIn, raw, "report")
    filed = await file_report(session, intake_context(request, settings, hooks, lang, calendar), principal, data,
                              [p for p in files if p.name == "photos"], idempotency_key,
                              source="api" if principal.api_key else "app",
                              after_parts=[p for p in files if p.name == "after_photos"])
    headers = {"Location": f"/api/v1/reports/{filed.case_id}", "Content-Language": CONTENT_LANGUAGE[lang],
               "ETag": _etag(filed.case_id, filed.body.get("version", 1))}
    if filed.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(filed.body, status_code=filed.status_code, headers=headers)


@router.get("/{case_id}", response_model=CaseOut, summary="One case")
async def get_report(case_id: IdPath, response: Response, principal: CaseReader, session: SessionDep,
                     lang: LangDep, calendar: CalendarDep) -> CaseOut:
    """The case with its cell, unit, routing, deadline, light and photos; 404 when the caller may not see it."""
    case = await get_visible_case(session, principal, case_id)
    response.headers["ETag"] = _etag(case.id, case.version)
    return (await cases_out(session, [case], lang, calendar, private=sees_private_evidence(principal),
                            contacts=sees_contacts(principal)))[0]


STAGES_BY_ROLE = {Role.worker: {"report", "check"}, Role.unit_staff: {"resolution"},
                  Role.dispatcher: {"report", "resolution", "check"}, Role.supervisor: {"report", "check"},
                  Role.admin: {"report", "resolution", "check"}}


@router.post("/{case_id}/photos", response_model=CaseOut, status_code=201, summary="Add evidence photos")
async def add_photos(case_id: IdPath, request: Request, principal: PhotoAdder, session: SessionDep,
                     settings: SettingsDep, hooks: HooksDep, lang: LangDep, calendar: CalendarDep) -> CaseOut:
    """``multipart/form-data`` with a ``stage`` part (``report``, ``resolution``, ``check``) and ``photos``.

    Workers add ``report``/``check`` photos, the assigned unit's staff ``resolution`` photos. 404 when
    the caller may not see the case; 403 ``stage_not_allowed``.
    """
    raw, files = await read_request(request, settings, "stage", frozenset({"photos"}))
    case = await get_visible_case(session, principal, case_id)
    stage = (raw or b"").decode("utf-8", "replace").strip()
    if stage not in ("report", "resolution", "check"):
        raise ValidationProblem([{"loc": ["stage"], "msg": "one of report, resolution, check", "type": "enum"}])
    if not files:
        raise ValidationProblem([{"loc": ["photos"], "msg": "at least one photo", "type": "missing"}])
    assert principal.user is not None and principal.role is not None
    if stage not in STAGES_BY_ROLE[principal.role] or (
            principal.role is Role.unit_staff and case.unit_id != principal.user.unit_id):
        raise Forbidden(f"A {principal.role.value} may not add '{stage}' photos to this case", code="stage_not_allowed")
    workshop = request.app.state.workshop
    await release(session)  # no lock held while the photos are decoded
    photos = await workshop.ingest(files)
    case = await get_visible_case(session, principal, case_id)
    event = new_event(case, "add_photos", principal, case.status, case.status, data={"stage": stage,
                                                                                  "count": len(photos)})
    event.unit_id = principal.user.unit_id
    case.updated_at = utcnow()  # the case's photos changed: phones syncing it must hear of it
    session.add(event)
    await session.flush()
    await workshop.store(photos, hooks, request.app.state.db)
    await attach(session, case_id=case.id, photos=photos, stage=stage, uploader_id=principal.user.id,
                 event_id=event.id, point=(case.lat, case.lon), reported_at=utcnow(), settings=settings)
    return (await cases_out(session, [case], lang, calendar,
                            private=sees_private_evidence(principal)))[0]



@router.delete("/{case_id}", status_code=204, summary="Delete a case (admin)")
async def delete_report(case_id: IdPath, principal: CaseDeleter, session: SessionDep,
                        reason: Annotated[str, Query(min_length=1, max_length=500, description="why (kept in history)")]
                        ) -> Response:
    """Remove a case from every list, figure and export; its rows stay (history is append-only) and
    phones that had it get a tombstone in their delta sync. 404 when already deleted or unknown,
    422 without a ``reason``."""
    if text_problem(reason) or not reason.strip():
        raise ValidationProblem([{"loc": ["query", "reason"], "msg": text_problem(reason) or "a reason is needed",
                                  "type": "text_invalid"}])
    case = await get_visible_case(session, principal, case_id)
    now = utcnow()
    session.add(new_event(case, "delete", principal, case.status, case.status, reason=reason.strip()))
    case.deleted_at, case.deleted_reason, case.updated_at = now, reason.strip(), now
    await session.flush()
    return Response(status_code=204)
