"""HTTP routes serving photos: EXIF-free bytes with immutable caching, for callers who see the case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.permissions import get_visible_case, sees_originals
from app.core.deps import IdPath, SessionDep
from app.core.errors import Forbidden, NotFound
from app.core.i18n import Text
from app.core.openapi import errors
from app.photos.models import Photo
from app.reports.permissions import CaseReader

router = APIRouter(prefix="/api/v1/photos", tags=["photos"])
IfNoneMatch = Annotated[
    str | None,
    Header(
        max_length=1024, description="the `ETag` of a copy you have: 304 without a body when it is current"
    ),
]
CACHE = "private, max-age=31536000, immutable"  # content-addressed: the bytes behind a URL never change


async def _visible_photo(session: AsyncSession, principal: Principal, photo_id: int) -> Photo:
    photo = (await session.execute(select(Photo).where(Photo.id == photo_id))).scalar_one_or_none()
    try:
        # A photo of no case (a campaign visit's own evidence) is not served here.
        if photo is None or photo.case_id is None:
            raise NotFound()
        await get_visible_case(session, principal, photo.case_id)
    except NotFound:  # the same answer whether the photo is missing or not the caller's to see
        raise NotFound(Text(f"没有编号为 {photo_id} 的照片", f"No photo with id {photo_id}")) from None
    return photo


def _send(
    data: bytes | None, etag: str, if_none_match: str | None, media_type: str = "image/jpeg"
) -> Response:
    if data is None:
        raise NotFound(Text("照片文件在存储中缺失", "The photo's file is missing from storage"))
    headers = {"ETag": etag, "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"}
    tags = [t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")]
    if if_none_match and (etag in tags or "*" in tags):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=media_type, headers=headers)


_JPEG: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the JPEG, EXIF-free, with `ETag` and `Cache-Control: private, max-age=31536000, immutable`",
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    },
    304: {"description": "Not modified: `If-None-Match` named the current `ETag`"},
}


# GET and HEAD as two routes of one function, so each has an operationId of its own.
@router.get(
    "/{photo_id}",
    summary="A photo: display size (<= 1600 px) or, for staff, the original",
    response_class=Response,
    responses={**_JPEG, **errors(NotFound, Forbidden)},
)
@router.head(
    "/{photo_id}",
    operation_id="head_photo",
    summary="A photo's headers",
    response_class=Response,
    responses={**_JPEG, **errors(NotFound, Forbidden)},
)
async def get_photo(
    photo_id: IdPath,
    request: Request,
    principal: CaseReader,
    session: SessionDep,
    variant: Annotated[
        Literal["display", "original"],
        Query(description="`display` (at most 1600 px, JPEG) or, for staff, the `original` without metadata"),
    ] = "display",
    if_none_match: IfNoneMatch = None,
) -> Response:
    """JPEG without EXIF (no GPS), upright. ``variant=original`` (staff only): the bytes as received, with
    their metadata removed (JPEG: the same pixels; HEIC/PNG/WebP: re-encoded). 404 when the case is not yours.
    """
    photo = await _visible_photo(session, principal, photo_id)
    workshop = request.app.state.workshop
    if variant == "original":
        if not sees_originals(principal):
            raise Forbidden(Text("只有指挥中心人员可以下载原图", "Only staff may download originals"))
        original = await workshop.original_without_metadata(photo.sha256)
        data, media = original if original else (None, "image/jpeg")
        return _send(data, f'"{photo.sha256}-original"', if_none_match, media)
    return _send(await workshop.ensure_display(photo.sha256), f'"{photo.sha256}-display"', if_none_match)


@router.get(
    "/{photo_id}/thumbnail",
    summary="A photo's thumbnail (<= 320 px JPEG, no EXIF)",
    response_class=Response,
    responses={**_JPEG, **errors(NotFound)},
)
@router.head(
    "/{photo_id}/thumbnail",
    operation_id="head_thumbnail",
    summary="A thumbnail's headers",
    response_class=Response,
    responses={**_JPEG, **errors(NotFound)},
)
async def get_thumbnail(
    photo_id: IdPath,
    request: Request,
    principal: CaseReader,
    session: SessionDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    photo = await _visible_photo(session, principal, photo_id)
    data = await request.app.state.workshop.thumbnail(photo.sha256)
    return _send(data, f'"{photo.sha256}-thumbnail"', if_none_match)
