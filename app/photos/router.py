"""HTTP routes serving photos: EXIF-free bytes with immutable caching, for callers who see the case."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import select

from app.auth.models import Role
from app.core.deps import IdPath, SessionDep
from app.core.errors import Forbidden, NotFound
from app.photos.models import Photo
from app.reports.access import get_visible_case
from app.reports.permissions import CaseReader

router = APIRouter(prefix="/api/v1/photos", tags=["photos"])
CACHE = "private, max-age=31536000, immutable"  # content-addressed: the bytes behind a URL never change
STAFF = (Role.unit_staff, Role.dispatcher, Role.supervisor, Role.admin)


async def _visible_photo(session, principal, photo_id: int) -> Photo:  # type: ignore[no-untyped-def]
    photo = (await session.execute(select(Photo).where(Photo.id == photo_id))).scalar_one_or_none()
    try:
        if photo is None:
            raise NotFound()
        await get_visible_case(session, principal, photo.case_id)
    except NotFound:  # the same answer whether the photo is missing or not the caller's to see
        raise NotFound(f"No photo with id {photo_id}") from None
    return photo


def _send(data: bytes | None, etag: str, if_none_match: str | None, media_type: str = "image/jpeg") -> Response:
    if data is None:
        raise NotFound("The photo's file is missing from storage")
    headers = {"ETag": etag, "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"}
    tags = [t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")]
    if if_none_match and (etag in tags or "*" in tags):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=media_type, headers=headers)


_JPEG = {200: {"content": {"image/jpeg": {}}}, 304: {"description": "Not modified"}}


# GET and HEAD as two routes of one function, so each has an operationId of its own.
@router.get("/{photo_id}", summary="A photo: display size (<= 1600 px) or, for staff, the original",
            responses=_JPEG)
@router.head("/{photo_id}", operation_id="head_photo", summary="A photo's headers", responses=_JPEG)
async def get_photo(photo_id: IdPath, request: Request, principal: CaseReader, session: SessionDep,
                    variant: Literal["display", "original"] = "display",
                    if_none_match: str | None = Header(default=None, max_length=1024)) -> Response:
    """JPEG without EXIF (no GPS), upright. ``variant=original`` (staff only): the bytes as received, with
    their metadata removed (JPEG: the same pixels; HEIC/PNG/WebP: re-encoded). 404 when the case is not yours.
    """
    photo = await _visible_photo(session, principal, photo_id)
    workshop = request.app.state.workshop
    if variant == "original":
        if principal.role not in STAFF:
            raise Forbidden("Only staff may download originals")
        original = await workshop.original_without_metadata(photo.sha256)
        data, media = original if original else (None, "image/jpeg")
        return _send(data, f'"{photo.sha256}-original"', if_none_match, media)
    return _send(await workshop.ensure_display(photo.sha256), f'"{photo.sha256}-display"', if_none_match)


@router.get("/{photo_id}/thumbnail", summary="A photo's thumbnail (<= 320 px JPEG, no EXIF)", responses=_JPEG)
@router.head("/{photo_id}/thumbnail", operation_id="head_thumbnail", summary="A thumbnail's headers",
             responses=_JPEG)
async def get_thumbnail(photo_id: IdPath, request: Request, principal: CaseReader, session: SessionDep,
                        if_none_match: str | None = Header(default=None, max_length=1024)) -> Response:
    photo = await _visible_photo(session, principal, photo_id)
    data = await request.app.state.workshop.thumbnail(photo.sha256)
    return _send(data, f'"{photo.sha256}-thumbnail"', if_none_match)
