"""Routes of visits: a phone's list, one visit, reassigning it, submitting it (docs/campaign.md "Rounds and
visits")."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from app.campaign import submission, visits
from app.campaign.permissions import CampaignEditor, Inspector, InspectorNotEligible
from app.campaign.round_schemas import VISIT_EXAMPLE, VisitIn, VisitList, VisitOut, VisitPatch
from app.campaign.visits import VisitDone
from app.core.deps import MAX_DB_ID, HooksDep, IdPath, InvalidCursor, PageDep, SessionDep, SettingsDep
from app.core.errors import Conflict, NotFound, ValidationProblem, declare
from app.core.i18n import CONTENT_LANGUAGE, LangDep
from app.core.openapi import errors
from app.core.responses import model_response
from app.deadlines.cache import CalendarDep
from app.grids.service import OutsideServiceArea
from app.photos.uploads import UPLOAD, UPLOAD_ERRORS, parse_part, read_request
from app.reports.retries import IdempotencyConflict
from app.workflow.actions import ActionContext

router = APIRouter(prefix="/api/v1/campaign/visits", tags=["campaign"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="a retry with the same key gets the first answer"
    ),
]


@router.get(
    "",
    response_model=VisitList,
    summary="Visits, each with its point and checklist",
    responses=errors(InvalidCursor),
)
async def list_visits(
    principal: Inspector,
    session: SessionDep,
    page: PageDep,
    mine: Annotated[
        bool, Query(description="only those assigned to the caller (always, for a worker)")
    ] = False,
    round: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="one round's")] = None,
    status: Annotated[
        Literal["pending", "submitted", "unable"] | None,
        Query(description="`pending` (still to make), `submitted` or `unable` (无法测评)"),
    ] = None,
) -> Response:
    """Enough to work offline: the point (place, geometry, cell, point chief) and the checklist to answer
    (the point type's protocol and items)."""
    rows = await visits.list_visits(session, principal, page, mine, round, status)
    shown = VisitList(
        items=await visits.present(session, rows[: page.limit]), next_cursor=page.next_cursor(rows)
    )
    return model_response(shown)


@router.get(
    "/{visit_id}",
    response_model=VisitOut,
    summary="One visit: results as answered, photos, scores, cases",
    responses=errors(NotFound),
)
async def get_visit(visit_id: IdPath, principal: Inspector, session: SessionDep) -> Response:
    """404 for a visit not assigned to a worker (supervisors and admins see every visit)."""
    return model_response(
        (await visits.present(session, [await visits.get_visit(session, principal, visit_id)]))[0]
    )


_JPEG: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the JPEG, EXIF-free, with `ETag` and `Cache-Control: private, max-age=31536000, immutable`",
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    },
    304: {"description": "Not modified: `If-None-Match` named the current `ETag`"},
}


@router.get(
    "/{visit_id}/photos/{photo_id}",
    summary="A visit's photo (display size or thumbnail, no EXIF), also one no case shows",
    response_class=Response,
    responses={**_JPEG, **errors(NotFound)},
)
async def get_visit_photo(
    request: Request,
    visit_id: IdPath,
    photo_id: IdPath,
    principal: Inspector,
    session: SessionDep,
    size: Annotated[
        Literal["display", "thumbnail"],
        Query(description="`display` (at most 1600 px) or `thumbnail` (at most 320 px), both JPEG"),
    ] = "display",
    if_none_match: str | None = Header(
        default=None,
        max_length=1024,
        description="the `ETag` of a copy you have: 304 without a body when it is current",
    ),
) -> Response:
    """The photo as a JPEG without metadata, upright: an unable visit's photo, or one only compliant answers
    named, which no case shows. 404 unless the caller sees the visit and the photo is one of its."""
    visit = await visits.get_visit(session, principal, visit_id)
    sha = await visits.photo_of(session, visit, photo_id)
    workshop = request.app.state.workshop
    data = await (workshop.thumbnail(sha) if size == "thumbnail" else workshop.ensure_display(sha))
    if data is None:
        raise NotFound("The photo's file is missing from storage")
    etag = f'"{sha}-{size}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match and etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type="image/jpeg", headers=headers)


@router.patch(
    "/{visit_id}",
    response_model=VisitOut,
    summary="Assign a visit to another inspector",
    responses=errors(NotFound, InspectorNotEligible, VisitDone),
)
async def patch_visit(
    visit_id: IdPath, data: VisitPatch, principal: CampaignEditor, session: SessionDep
) -> Response:
    """A supervisor, an admin, or a worker whose cells contain the point: 422 ``inspector_not_eligible``;
    409 ``visit_not_open`` once submitted."""
    visit = await visits.reassign(
        session, await visits.get_visit(session, principal, visit_id), data.inspector_id
    )
    return model_response((await visits.present(session, [visit]))[0])


@router.post(
    "/{visit_id}/submit",
    response_model=VisitOut,
    summary="Submit a visit (results and photos of the failures, or unable)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["visit"],
                        "properties": {
                            "visit": {
                                "type": "string",
                                "description": "the visit as JSON: the fields of `VisitIn` (the JSON body's "
                                "schema): a result for every item of the checklist, each failure naming its "
                                'photos by file name; or `{"unable": true, "reason": ...}` (无法测评)',
                                "example": json.dumps(VISIT_EXAMPLE, ensure_ascii=False),
                            },
                            "photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "the photos the results name, each part's file name being the "
                                "name a result gives (`f1.jpg`); every part must be named by a result, names "
                                "are unique; an unable visit sends exactly one. At most "
                                "`GRID_MAX_PHOTOS_PER_REPORT` (9) photos of JPEG, PNG, WebP or HEIC/HEIF "
                                "(judged by their bytes), each at most `GRID_MAX_PHOTO_BYTES`",
                            },
                        },
                    },
                    "encoding": {
                        "visit": {"contentType": "application/json"},
                        "photos": {
                            "contentType": "image/jpeg, image/png, image/webp, image/heic, image/heif"
                        },
                    },
                    "example": {"visit": json.dumps(VISIT_EXAMPLE, ensure_ascii=False)},
                },
                "application/json": {"schema": {"$ref": "#/components/schemas/VisitIn"}},
            },
        }
    },
    responses=errors(
        *UPLOAD_ERRORS,
        NotFound,
        VisitDone,
        IdempotencyConflict,
        declare(Conflict, "version_conflict"),
        # the point's place left the service area after the grid was edited: its failure has no cell
        OutsideServiceArea,
    ),
)
@UPLOAD
async def submit_visit(
    request: Request,
    visit_id: IdPath,
    principal: Inspector,
    session: SessionDep,
    settings: SettingsDep,
    hooks: HooksDep,
    lang: LangDep,
    calendar: CalendarDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """``multipart/form-data``: a ``visit`` part (JSON) and ``photos`` parts whose file names the results
    name; or JSON alone when no photo is needed. Every item of the checklist gets one result; a failure opens
    a case for the responsible unit (or adds to the item's open case at the point). An unable visit:
    ``{"unable": true, "reason": ...}`` and one photo. Retry-safe with ``Idempotency-Key``.

    Errors, each keeping nothing: 404 a visit not the caller's; 422 ``validation_error`` listing every
    problem, each naming its item, ``errors[].type`` saying which (``unknown_item``, ``missing_item``,
    ``duplicate_item``, ``amount_required``, ``amount_not_allowed``, ``result_mismatch``, ``photo_required``,
    ``note_required``, ``unknown_photo``, ``unreferenced_photo``, ``duplicate_photo_name``); 413/415/422 for
    photos; 409 ``visit_not_open``, ``idempotency_key_reused``, ``version_conflict`` (a failure's open case
    changed meanwhile: submit again); 422 ``outside_service_area`` when the point's place is no longer in
    any cell.
    """
    raw, files = await read_request(request, settings, "visit", frozenset({"photos"}))
    if raw is None:
        raise ValidationProblem(
            [{"loc": ["visit"], "msg": "the 'visit' part is required", "type": "missing"}]
        )
    data = parse_part(VisitIn, raw, "visit")
    state = request.app.state
    ctx = ActionContext(
        settings=settings, calendar=calendar, workshop=state.workshop, hooks=hooks, db=state.db
    )
    filed = await submission.submit(
        session, ctx, state.grid_index, principal, visit_id, data, files, idempotency_key
    )
    headers = {"Content-Language": CONTENT_LANGUAGE[lang], **submission.headers_of(filed)}
    return JSONResponse(filed.body, status_code=filed.status_code, headers=headers)
