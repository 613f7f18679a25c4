"""Routes of editions, point types and checklists (docs/campaign.md "Checklists")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.campaign import checklists as service
from app.campaign.checklists import NoActiveEdition
from app.campaign.permissions import CampaignEditor, ChecklistReader
from app.campaign.schemas import (
    CHECKLIST_EXAMPLE,
    ChecklistFile,
    EditionList,
    EditionOut,
    ImportOut,
    PointTypeList,
)
from app.core.deps import SessionDep
from app.core.errors import Conflict, NotFound
from app.core.openapi import errors

router = APIRouter(prefix="/api/v1/campaign", tags=["campaign"])
EditionCode = Annotated[
    str | None,
    Query(
        max_length=32,
        pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$",
        description="an edition's code, e.g. `LOCAL-2026` (default: the active edition)",
    ),
]


@router.post(
    "/checklists/import",
    response_model=ImportOut,
    summary="Import a checklist file",
    # 409 ``conflict``: two first imports of one edition at once; the loser is refused, nothing kept.
    responses=errors(Conflict),
)
async def import_checklists(data: ChecklistFile, _: CampaignEditor, session: SessionDep) -> ImportOut:
    """A file in the exchange format (docs/campaign.md). All or nothing: 422 lists every problem, naming the
    point type and item (duplicate codes, unknown categories, answer kinds and thresholds). Importing an
    edition again updates it by code; items it no longer lists are retired; what past visits answered never
    changes. The first edition imported becomes the active one."""
    return await service.import_checklists(session, data)


@router.get(
    "/checklists/export",
    summary="A checklist file of an edition",
    responses={
        200: {"content": {"application/json": {"example": CHECKLIST_EXAMPLE}}},
        **errors(NotFound, NoActiveEdition),
    },
)
async def export_checklists(
    _: ChecklistReader, session: SessionDep, edition: EditionCode = None
) -> dict[str, Any]:
    """The edition (default: the active one) in the exchange format, as an import takes it. 404 for an
    unknown edition, 409 ``no_active_edition``."""
    return await service.export(session, await service.edition_by_code(session, edition))


@router.get("/editions", response_model=EditionList, summary="Editions of the standards")
async def list_editions(_: ChecklistReader, session: SessionDep) -> EditionList:
    """Every edition stored, the active one flagged, with the point types and items it has in use."""
    return EditionList(items=[await service.edition_out(session, e) for e in await service.editions(session)])


@router.post(
    "/editions/{code}/activate",
    response_model=EditionOut,
    summary="Make an edition the active one",
    # 409 ``conflict``: another activation at the same moment won (one edition is active at a time).
    responses=errors(NotFound, Conflict),
)
async def activate_edition(
    code: Annotated[
        str,
        Path(
            max_length=32,
            pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$",
            description="the edition's code, e.g. `LOCAL-2026`",
        ),
    ],
    _: CampaignEditor,
    session: SessionDep,
) -> EditionOut:
    """New rounds answer the active edition's checklists; rounds made before keep theirs. 404 when unknown."""
    return await service.edition_out(session, await service.activate(session, code))


@router.get(
    "/point-types",
    response_model=PointTypeList,
    summary="Point types with protocol and items",
    responses=errors(NotFound, NoActiveEdition),
)
async def list_point_types(
    _: ChecklistReader, session: SessionDep, edition: EditionCode = None
) -> PointTypeList:
    """The edition's (default: the active one's) point types, each with how a point is observed and its items
    in use, in the file's order. 404 for an unknown edition, 409 ``no_active_edition``."""
    found = await service.edition_by_code(session, edition)
    return PointTypeList(
        edition=found.code, items=[c.out() for c in (await service.checklists(session, found.id)).values()]
    )
