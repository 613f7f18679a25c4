"""Visits as inspectors and the campaign office read them: a phone's list of its visits, each with its point
and the checklist to answer (enough to work offline), and one visit with its results, photos, scores and
the cases its failures opened or repeated."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.auth.permissions import Principal
from app.campaign.checklists import Checklist, checklists
from app.campaign.models import Point, Result, Round, Visit, VisitPhoto
from app.campaign.permissions import check_inspector, check_visit_visible, sees_every_visit
from app.campaign.round_schemas import (
    CaseRef,
    ResultOut,
    Score,
    VisitOut,
    VisitPhotoOut,
    VisitPoint,
    VisitRound,
)
from app.campaign.rounds import user_ref
from app.campaign.scores import Figures
from app.cases.models import Case
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import Conflict, NotFound
from app.grids.directory import directory
from app.grids.schemas import CellRef
from app.photos.models import Photo
from app.units.book import units
from app.units.schemas import UnitRef


class VisitDone(Conflict):
    code, title = "visit_not_open", "The visit is not open for that"
    title_zh = "该点位测评已不可提交或修改"


async def get_visit(session: AsyncSession, principal: Principal, visit_id: int) -> Visit:
    """The visit if ``principal`` sees it; 404 otherwise (app.campaign.permissions)."""
    visit = await session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"No visit with id {visit_id}")
    check_visit_visible(principal, visit)
    return visit


async def photo_of(session: AsyncSession, visit: Visit, photo_id: int) -> str:
    """The sha256 of photo ``photo_id`` if ``visit`` brought it; 404 otherwise."""
    found = await session.execute(
        select(Photo.sha256)
        .join(VisitPhoto, VisitPhoto.photo_id == Photo.id)
        .where(VisitPhoto.visit_id == visit.id, Photo.id == photo_id)
    )
    sha = found.scalar_one_or_none()
    if sha is None:
        raise NotFound(f"No photo with id {photo_id} on this visit")
    return sha


async def list_visits(
    session: AsyncSession,
    principal: Principal,
    page: Page,
    mine: bool,
    round_id: int | None,
    status: str | None,
) -> list[Visit]:
    """A keyset page in id order (limit + 1 rows): a worker's own visits; supervisors' and admins' all, or
    their own with ``mine``."""
    query = select(Visit)
    user_id = principal.user.id if principal.user else 0
    if mine or not sees_every_visit(principal):
        query = query.where(Visit.inspector_id == user_id)
    if round_id is not None:
        query = query.where(Visit.round_id == round_id)
    if status:
        query = query.where(Visit.status == status)
    if page.after_id is not None:
        query = query.where(Visit.id > page.after_id)
    return list((await session.execute(query.order_by(Visit.id).limit(page.limit + 1))).scalars())


async def reassign(session: AsyncSession, visit: Visit, inspector_id: int | None) -> Visit:
    """Give a pending visit to another inspector (or to nobody); 422 ``inspector_not_eligible``, 409
    ``visit_not_open`` once it was submitted."""
    if visit.status != "pending":
        raise VisitDone(f"The visit was {visit.status}; it keeps its inspector")
    if inspector_id is not None:
        point = await session.get(Point, visit.point_id)
        assert point is not None
        await check_inspector(session, inspector_id, [point], "inspector_id")
    visit.inspector_id, visit.updated_at = inspector_id, utcnow()
    await session.flush()
    return visit


@dataclass
class _Loaded:
    rounds: dict[int, Round]
    points: dict[int, Point]
    users: dict[int, User]
    lists: dict[tuple[int, str], Checklist]
    results: dict[int, list[Result]]
    photos: dict[int, list[tuple[VisitPhoto, Photo]]]
    cases: dict[int, Case]


async def _load(session: AsyncSession, visits: Sequence[Visit]) -> _Loaded:
    ids = [v.id for v in visits]
    rounds = {
        r.id: r
        for r in (
            await session.execute(select(Round).where(Round.id.in_({v.round_id for v in visits})))
        ).scalars()
    }
    points = {
        p.id: p
        for p in (
            await session.execute(select(Point).where(Point.id.in_({v.point_id for v in visits})))
        ).scalars()
    }
    user_ids = {v.inspector_id for v in visits if v.inspector_id is not None}
    users = (
        {u.id: u for u in (await session.execute(select(User).where(User.id.in_(user_ids)))).scalars()}
        if user_ids
        else {}
    )
    lists: dict[tuple[int, str], Checklist] = {}
    wanted: dict[int, set[str]] = defaultdict(set)
    for v in visits:
        wanted[rounds[v.round_id].edition_id].add(points[v.point_id].type_code)
    for edition_id, codes in wanted.items():
        for code, found in (await checklists(session, edition_id, codes)).items():
            lists[(edition_id, code)] = found
    results: dict[int, list[Result]] = defaultdict(list)
    for r in (
        await session.execute(select(Result).where(Result.visit_id.in_(ids)).order_by(Result.id))
    ).scalars():
        results[r.visit_id].append(r)
    photos: dict[int, list[tuple[VisitPhoto, Photo]]] = defaultdict(list)
    rows = await session.execute(
        select(VisitPhoto, Photo)
        .join(Photo, Photo.id == VisitPhoto.photo_id)
        .where(VisitPhoto.visit_id.in_(ids))
        .order_by(VisitPhoto.id)
    )
    for link, photo in rows.all():
        photos[link.visit_id].append((link, photo))
    case_ids = {r.case_id for rs in results.values() for r in rs if r.case_id is not None}
    cases = (
        {c.id: c for c in (await session.execute(select(Case).where(Case.id.in_(case_ids)))).scalars()}
        if case_ids
        else {}
    )
    return _Loaded(rounds, points, users, lists, results, photos, cases)


def _score(num: float | None, den: float | None, value: float | None) -> Score | None:
    return None if num is None or den is None else Score(numerator=num, denominator=den, value=value)


async def present(session: AsyncSession, visits: Sequence[Visit]) -> list[VisitOut]:
    """Visits with their round, point, inspector, checklist, results, photos, scores and cases."""
    if not visits:
        return []
    got = await _load(session, visits)
    cells, all_units = await directory(session), await units(session)
    out = []
    for v in visits:
        round_, point = got.rounds[v.round_id], got.points[v.point_id]
        cell = cells.by_id[point.grid_id]
        found = got.lists.get((round_.edition_id, point.type_code))
        figures = (
            Figures(v.score_num, v.score_den, v.rate_num, v.rate_den)
            if v.score_num is not None
            and v.score_den is not None
            and v.rate_num is not None
            and v.rate_den is not None
            else None
        )
        cases = []
        for r in got.results[v.id]:
            case = got.cases.get(r.case_id) if r.case_id is not None else None
            if case is not None:
                info = all_units.get(case.unit_id) if case.unit_id is not None else None
                cases.append(
                    CaseRef(
                        id=case.id,
                        tracking_code=case.tracking_code,
                        status=case.status,
                        unit=UnitRef(id=info.id, name=info.name) if info else None,
                        item=r.item_code,
                        repeat=r.repeat,
                    )
                )
        out.append(
            VisitOut(
                id=v.id,
                round=VisitRound(
                    id=round_.id,
                    kind=round_.kind,
                    title=round_.title,
                    status=round_.status,
                    period_from=round_.period_from,
                    period_to=round_.period_to,
                ),
                point=VisitPoint(
                    id=point.id,
                    code=point.code,
                    name=point.name,
                    type=point.type_code,
                    tier=point.tier,
                    address=point.address,
                    lat=point.lat,
                    lon=point.lon,
                    geometry=point.geometry,
                    grid=CellRef(
                        id=cell.id, code=cell.code, name=cell.name, level=cell.level, kind=cell.kind
                    ),
                    chief_name=point.chief_name,
                    chief_phone=point.chief_phone,
                ),
                inspector=user_ref(got.users.get(v.inspector_id) if v.inspector_id is not None else None),
                status=v.status,
                checklist=found.out() if found else None,
                observed_at=v.observed_at,
                submitted_at=v.submitted_at,
                unable_reason=v.unable_reason,
                score=_score(v.score_num, v.score_den, figures.score if figures else None),
                compliance=_score(v.rate_num, v.rate_den, figures.rate if figures else None),
                passed=figures.passed(round_.pass_mark) if figures else None,
                results=[
                    ResultOut(
                        item=r.item_code,
                        text=r.item_text,
                        answer_kind=r.answer_kind,
                        threshold=r.threshold,
                        weight=r.weight,
                        result=r.result,
                        amount=r.amount,
                        note=r.note,
                        photos=list(r.photos),
                        case_id=r.case_id,
                    )
                    for r in got.results[v.id]
                ],
                photos=[
                    VisitPhotoOut(
                        id=photo.id,
                        name=link.name,
                        case_id=photo.case_id,
                        sha256=photo.sha256,
                        flags=list(photo.flags),
                        distance_m=photo.distance_m,
                        taken_at=photo.taken_at,
                        url=f"/api/v1/campaign/visits/{v.id}/photos/{photo.id}",
                    )
                    for link, photo in got.photos[v.id]
                ],
                cases=cases,
            )
        )
    return out
