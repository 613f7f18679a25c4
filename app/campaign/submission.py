"""Submitting a visit from a phone (docs/campaign.md "Rounds and visits"): one request with every item's
result and the photos of the failures, or an unable visit (无法测评) with its reason and one photo.

In order, so that a refusal keeps nothing (no row, no file): replay a retry (``Idempotency-Key``, keys per
caller, prefixed ``visit:`` so they never meet a report's); check the answers against the checklist
(app.campaign.answers); check the photos outside any transaction; then lock the visit and its point (a twin
request waits, then gets the first answer; two visits at one point cannot both open a case for one item),
refuse a visit that is no longer open, and write: the results with the items as answered, a case per
failure or a repeat of the open one (app.campaign.failures), the photos no case shows, the scores
(app.campaign.scores), the answer kept for retries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.campaign import answers, failures
from app.campaign.checklists import checklists
from app.campaign.models import Item, Point, Result, Round, Visit, VisitPhoto
from app.campaign.round_schemas import VisitIn
from app.campaign.scores import Answer, figures
from app.campaign.visits import VisitDone, get_visit, present
from app.core.db import utcnow
from app.core.deps import release
from app.core.errors import ValidationProblem
from app.geo.coords import to_wgs84_point
from app.grids.index import GridIndexCache
from app.photos.models import Photo
from app.photos.multipart import Part
from app.photos.service import Ingested, attach
from app.reports.models import IdempotencyRecord
from app.reports.retries import Filed, replay
from app.workflow.actions import ActionContext


def fingerprint(visit_id: int, data: VisitIn, photos: Sequence[Part]) -> str:
    """What makes two submissions "the same": the visit, its fields, and each photo's name and bytes."""
    meaning = {
        "visit_id": visit_id,
        "visit": data.model_dump(mode="json"),
        "photos": [[p.filename, hashlib.sha256(bytes(p.data)).hexdigest()] for p in photos],
    }
    return hashlib.sha256(json.dumps(meaning, sort_keys=True).encode()).hexdigest()


async def _locked(session: AsyncSession, visit_id: int) -> tuple[Visit, Round, Point]:
    """The visit, its round and point, the visit and point rows locked for this transaction (PostgreSQL;
    SQLite's writer holds the whole database already)."""
    visit = (
        await session.execute(
            select(Visit)
            .where(Visit.id == visit_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    point = (
        await session.execute(
            select(Point)
            .where(Point.id == visit.point_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    round_ = await session.get(Round, visit.round_id, populate_existing=True)
    assert round_ is not None
    return visit, round_, point


def _check_open(visit: Visit, round_: Round) -> None:
    if visit.status != "pending":
        raise VisitDone(f"The visit was {visit.status} already", current_status=visit.status)
    if round_.status != "open":
        raise VisitDone(
            f"The round is {round_.status}: visits are submitted while it is open",
            current_status=round_.status,
        )


async def _items(session: AsyncSession, round_: Round, point: Point) -> list[Item]:
    found = await checklists(session, round_.edition_id, {point.type_code})
    return found[point.type_code].items if point.type_code in found else []


async def _keep_unlinked(
    session: AsyncSession,
    ctx: ActionContext,
    principal: Principal,
    visit: Visit,
    point: Point,
    photos: Sequence[Ingested],
    now: dt.datetime,
) -> list[Photo]:
    """Photo rows of no case (an unable visit's, a photo only compliant answers named), measured against the
    point."""
    if not photos:
        return []
    await ctx.workshop.store(photos, ctx.hooks, ctx.db)
    return await attach(
        session,
        case_id=None,
        photos=photos,
        stage="check",
        uploader_id=principal.user.id if principal.user else None,
        event_id=None,
        point=(point.lat, point.lon),
        reported_at=now,
        settings=ctx.settings,
    )


async def _clear_own_reuse(session: AsyncSession, visit: Visit, rows: Sequence[Photo]) -> None:
    """One photo named by two failures is on two cases: that is not reuse. Drop ``reused_photo`` from this
    visit's photo rows whose bytes no photo row outside the visit has."""
    mine = {r.id for r in rows}
    flagged = {r.sha256 for r in rows if "reused_photo" in r.flags}
    if not flagged:
        return
    elsewhere = set(
        (
            await session.execute(
                select(Photo.sha256)
                .where(Photo.sha256.in_(sorted(flagged)), Photo.id.not_in(sorted(mine)))
                .group_by(Photo.sha256)
            )
        ).scalars()
    )
    for row in rows:
        if row.sha256 in flagged and row.sha256 not in elsewhere:
            row.flags = [f for f in row.flags if f != "reused_photo"]
    await session.flush()


async def _answer(
    session: AsyncSession,
    ctx: ActionContext,
    cache: GridIndexCache,
    principal: Principal,
    data: VisitIn,
    photos: dict[str, Ingested],
    locked: tuple[Visit, Round, Point],
    items: list[Item],
    now: dt.datetime,
) -> list[tuple[str, Photo]]:
    """Write the results, cases and scores of a visit with results; the photo rows made, with their names."""
    visit, round_, point = locked
    by_code = {r.item: r for r in data.results}
    rows: list[Result] = []
    for item in items:  # in the checklist's order
        r = by_code[item.code]
        row = Result(
            visit_id=visit.id,
            round_id=visit.round_id,
            item_id=item.id,
            item_code=item.code,
            item_text=item.text,
            answer_kind=item.answer_kind,
            threshold=item.threshold,
            weight=item.weight,
            result=r.result,
            amount=r.amount,
            note=(r.note or "").strip() or None,
            photos=list(r.photos),
        )
        session.add(row)
        rows.append(row)
    await session.flush()
    named: list[tuple[str, Photo]] = []
    on_cases: set[str] = set()
    for row, item in zip(rows, items, strict=True):
        if row.result != "noncompliant":
            continue
        failure = failures.Failure(row, item, [photos[name] for name in row.photos])
        outcome = await failures.handle(session, ctx, cache, principal, round_, visit, point, failure, now)
        row.case_id, row.repeat = outcome.case.id, outcome.repeat
        named.extend(zip(row.photos, outcome.photos, strict=True))
        on_cases.update(row.photos)
    rest = [name for name in photos if name not in on_cases]
    kept = await _keep_unlinked(session, ctx, principal, visit, point, [photos[n] for n in rest], now)
    named.extend(zip(rest, kept, strict=True))
    f = figures(Answer(r.answer_kind, r.threshold, r.weight, r.result, r.amount) for r in rows)
    visit.score_num, visit.score_den, visit.rate_num, visit.rate_den = (
        f.score_num,
        f.score_den,
        f.rate_num,
        f.rate_den,
    )
    return named


async def submit(
    session: AsyncSession,
    ctx: ActionContext,
    cache: GridIndexCache,
    principal: Principal,
    visit_id: int,
    data: VisitIn,
    parts: Sequence[Part],
    idempotency_key: str | None,
    now: dt.datetime | None = None,
) -> Filed:
    """Submit the visit (module docstring) at ``now`` (default: the clock's now; the demo's past rounds give
    their own time). Raises 404 for a visit the caller does not see, 422 naming each
    item whose answer does not fit (app.campaign.answers), 413/415/422 for photos, 409 ``visit_not_open``
    (submitted already, or its round is not open), 409 ``idempotency_key_reused``."""
    owner, keys = principal.label, ([f"visit:{idempotency_key}"] if idempotency_key else [])
    print_ = fingerprint(visit_id, data, parts)
    visit = await get_visit(session, principal, visit_id)
    answered = await replay(session, owner, keys, print_)
    if answered is not None:
        return answered
    round_ = await session.get(Round, visit.round_id)
    point = await session.get(Point, visit.point_id)
    assert round_ is not None and point is not None
    _check_open(visit, round_)
    items = await _items(session, round_, point)
    names = [p.filename for p in parts]
    problems = answers.problems(
        data,
        [
            answers.Expected(i.code, i.answer_kind, i.threshold, i.photo_on_fail, i.note_on_fail)
            for i in items
        ],
        names,
    )
    if problems:
        raise ValidationProblem(problems[:100], detail=f"{len(problems)} problem(s); nothing was kept")
    await release(session)  # decode the photos holding no lock
    ingested = await ctx.workshop.ingest(parts)
    locked = await _locked(session, visit_id)
    answered = await replay(session, owner, keys, print_)  # a twin request may have finished meanwhile
    if answered is not None:
        return answered
    visit, round_, point = locked
    _check_open(visit, round_)
    now = now or utcnow()
    photos = {name: photo for name, photo in zip(names, ingested, strict=True) if name}
    if data.unable:
        visit.status, visit.unable_reason = "unable", (data.reason or "").strip()
        kept = await _keep_unlinked(session, ctx, principal, visit, point, list(photos.values()), now)
        named = list(zip(photos, kept, strict=True))
    else:
        visit.status = "submitted"
        named = await _answer(session, ctx, cache, principal, data, photos, locked, items, now)
    if data.lat is not None and data.lon is not None:
        visit.lon, visit.lat = to_wgs84_point(data.lon, data.lat, data.coord_system)
        visit.coord_system = data.coord_system.value
    visit.observed_at, visit.submitted_at, visit.updated_at = data.observed_at, now, now
    visit.submitted_by_id = principal.user.id if principal.user else None
    session.add_all(VisitPhoto(visit_id=visit.id, photo_id=row.id, name=name) for name, row in named)
    await session.flush()
    await _clear_own_reuse(session, visit, [row for _, row in named])
    body = (await present(session, [visit]))[0].model_dump(mode="json")
    answer = Filed(status_code=200, body=body, case_id=0, replayed=False)
    return await _remember(session, owner, keys, print_, answer)


async def _remember(session: AsyncSession, owner: str, keys: list[str], print_: str, answer: Filed) -> Filed:
    for key in keys:
        session.add(
            IdempotencyRecord(
                owner=owner, key=key, fingerprint=print_, status_code=answer.status_code, response=answer.body
            )
        )
    try:
        await session.flush()
    except IntegrityError:  # a twin won the race for the key: its answer, and nothing of this one is kept
        await session.rollback()
        found = await replay(session, owner, keys, print_)
        if found is None:
            raise
        return found
    return answer


def headers_of(filed: Filed) -> dict[str, Any]:
    return {"Idempotent-Replayed": "true"} if filed.replayed else {}
