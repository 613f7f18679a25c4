"""Rounds (测评批次): their points, listed or sampled from a cell's subtree, a visit per point assigned to an
inspector, and their states (docs/campaign.md "Rounds and visits").

States: ``draft`` (being prepared) -> ``open`` (inspectors submit visits) -> ``published`` (results frozen:
app.campaign.attribution; boards and notices follow from the ``RoundPublished`` event) -> ``closed``. A draft may be closed without opening it.
A round answers the checklists of the edition active when it was made, whatever is activated later.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User, WorkerGrid
from app.auth.permissions import Principal
from app.campaign.attribution import freeze
from app.campaign.checklists import active_edition, checklists
from app.campaign.events import RoundPublished
from app.campaign.models import Edition, Point, Round, Visit
from app.campaign.permissions import check_inspector
from app.campaign.round_schemas import MAX_SEED, RoundIn, RoundOut, RoundVisit, UserRef, VisitPointRef
from app.campaign.sampling import NotEnough, draw
from app.cases.permissions import patrols
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, NotFound, ValidationProblem
from app.grids.directory import directory
from app.grids.models import subtree
from app.grids.schemas import CellRef

# action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "open": (("draft",), "open"),
    "publish": (("open",), "published"),
    "close": (("draft", "open", "published"), "closed"),
}


class RoundTransitionRefused(AppError):
    status, code, title = 409, "invalid_transition", "The round's state does not allow that action"
    title_zh = "测评批次当前状态不允许该操作"


def _invalid(loc: list[object], msg: str, type_: str) -> dict[str, object]:
    return {"loc": loc, "msg": msg, "type": type_}


async def _listed(session: AsyncSession, data: RoundIn, scope: str, types: set[str]) -> list[Point]:
    assert data.points is not None
    found = {
        p.id: p
        for p in (
            await session.execute(select(Point).where(Point.id.in_(data.points), Point.deleted_at.is_(None)))
        ).scalars()
    }
    errors = []
    for i, point_id in enumerate(data.points):
        point = found.get(point_id)
        if point is None:
            errors.append(_invalid(["points", i], f"no point with id {point_id}", "unknown_point"))
        elif not point.grid_path.startswith(scope):
            errors.append(
                _invalid(["points", i], f"point {point.code} is outside the round's cell", "outside_scope")
            )
        elif point.type_code not in types:
            errors.append(
                _invalid(
                    ["points", i],
                    f"point {point.code}: no checklist for {point.type_code}",
                    "unknown_point_type",
                )
            )
    if errors:
        raise ValidationProblem(errors)
    return [found[i] for i in data.points]


async def _sampled(
    session: AsyncSession, data: RoundIn, scope: str, types: set[str], seed: int
) -> list[Point]:
    assert data.sample is not None
    unknown = [t for t in data.sample if t not in types]
    if unknown:
        raise ValidationProblem(
            [
                _invalid(["sample", t], f"no point type {t} in the active edition", "unknown_point_type")
                for t in unknown
            ]
        )
    rows = await session.execute(
        select(Point).where(
            subtree(Point.grid_path, scope),
            Point.type_code.in_(sorted(data.sample)),
            Point.deleted_at.is_(None),
        )
    )
    candidates: dict[str, list[tuple[str, Point]]] = defaultdict(list)
    for point in rows.scalars():
        candidates[point.type_code].append((point.code, point))
    try:
        return draw(candidates, data.sample, seed)
    except NotEnough as exc:
        raise ValidationProblem(
            [
                _invalid(
                    ["sample", t], f"{asked} {t} asked, {available} in the round's cell", "not_enough_points"
                )
                for t, (asked, available) in exc.short.items()
            ]
        ) from exc


async def _patrolling_workers(session: AsyncSession) -> list[tuple[int, list[str]]]:
    """Active grid workers and the paths of the cells they patrol, by user id."""
    rows = await session.execute(
        select(User.id, WorkerGrid.grid_id)
        .join(WorkerGrid, WorkerGrid.user_id == User.id)
        .where(User.role == Role.worker.value, User.active.is_(True))
        .order_by(User.id)
    )
    cells: dict[int, list[int]] = defaultdict(list)
    for user_id, grid_id in rows:
        cells[user_id].append(grid_id)
    found = await directory(session)
    return [(user_id, found.paths(ids)) for user_id, ids in cells.items()]


async def create_round(session: AsyncSession, principal: Principal, data: RoundIn) -> Round:
    """A draft round with a visit per point (module docstring). 422 naming the field: an unknown cell, a
    listed point unknown or outside the cell, a point type without a checklist, fewer points than a sample
    asks for, an inspector who may not inspect a point; 409 ``no_active_edition``."""
    cell = (await directory(session)).by_id.get(data.grid_id)
    if cell is None:
        raise ValidationProblem([_invalid(["grid_id"], f"no cell with id {data.grid_id}", "unknown_cell")])
    edition = await active_edition(session)
    types = set(await checklists(session, edition.id))
    seed = None
    if data.points is not None:
        points = await _listed(session, data, cell.path, types)
    else:
        seed = data.seed if data.seed is not None else secrets.randbelow(MAX_SEED + 1)
        points = await _sampled(session, data, cell.path, types, seed)
    if data.inspector_id is not None:
        await check_inspector(session, data.inspector_id, points, "inspector_id")
        inspectors: dict[int, int | None] = {p.id: data.inspector_id for p in points}
    else:
        workers = await _patrolling_workers(session)
        inspectors = {
            p.id: next((uid for uid, paths in workers if patrols(paths, p.grid_path)), None) for p in points
        }
    now = utcnow()
    round_ = Round(
        kind=data.kind,
        title=data.title,
        period_from=data.period_from,
        period_to=data.period_to,
        grid_id=cell.id,
        edition_id=edition.id,
        status="draft",
        sample=dict(data.sample) if data.sample is not None else None,
        seed=seed,
        pass_mark=data.pass_mark,
        rectify_hours=data.rectify_hours,
        board=data.board.model_dump() if data.board is not None else None,
        created_by_id=principal.user.id if principal.user else None,
        created_at=now,
        updated_at=now,
    )
    session.add(round_)
    await session.flush()
    session.add_all(
        Visit(
            round_id=round_.id, point_id=p.id, inspector_id=inspectors[p.id], created_at=now, updated_at=now
        )
        for p in points
    )
    await session.flush()
    return round_


async def get_round(session: AsyncSession, round_id: int) -> Round:
    found = await session.get(Round, round_id)
    if found is None:
        raise NotFound(f"No round with id {round_id}")
    return found


async def take_action(
    session: AsyncSession, round_: Round, action: str, now: dt.datetime | None = None
) -> tuple[Round, list[object]]:
    """``open`` a draft, ``publish`` an open round (its visits' points are frozen: app.campaign.attribution;
    visits still pending stay unscored), ``close`` a round, at ``now`` (default: the clock's now; the demo's
    past rounds give their own time). Returns the round and its domain events (``RoundPublished`` on
    publishing). 409 ``invalid_transition`` naming the state and what it allows."""
    sources, target = TRANSITIONS[action]
    if round_.status not in sources:
        allowed = [a for a, (s, _) in TRANSITIONS.items() if round_.status in s]
        raise RoundTransitionRefused(
            f"'{action}' is not possible: the round is {round_.status}; allowed now: {', '.join(allowed) or 'nothing'}",
            current_status=round_.status,
            allowed_actions=allowed,
        )
    now = now or utcnow()
    events: list[object] = []
    round_.status, round_.updated_at = target, now
    if target == "open":
        round_.opened_at = now
    if target == "published":
        round_.published_at = now
        await freeze(session, round_.id, now)
        events.append(RoundPublished(round_id=round_.id, published_at=now))
    if target == "closed":
        round_.closed_at = now
    await session.flush()
    return round_, events


async def list_rounds(session: AsyncSession, page: Page, status: str | None, kind: str | None) -> list[Round]:
    """A keyset page, newest first (limit + 1 rows)."""
    query = select(Round)
    if status:
        query = query.where(Round.status == status)
    if kind:
        query = query.where(Round.kind == kind)
    if page.after_id is not None:
        query = query.where(Round.id < page.after_id)
    return list((await session.execute(query.order_by(Round.id.desc()).limit(page.limit + 1))).scalars())


async def present(session: AsyncSession, rounds: Sequence[Round], with_visits: bool) -> list[RoundOut]:
    """Rounds with their scope, edition and progress (visits by status); ``with_visits``: every visit."""
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    cells = await directory(session)
    editions = dict(
        (
            await session.execute(
                select(Edition.id, Edition.code).where(Edition.id.in_({r.edition_id for r in rounds}))
            )
        ).all()
    )
    progress: dict[int, Counter[str]] = defaultdict(Counter)
    for round_id, status, n in await session.execute(
        select(Visit.round_id, Visit.status, func.count())
        .where(Visit.round_id.in_(ids))
        .group_by(Visit.round_id, Visit.status)
    ):
        progress[round_id][status] = n
    visits: dict[int, list[RoundVisit]] = defaultdict(list)
    if with_visits:
        rows = await session.execute(
            select(Visit, Point, User)
            .join(Point, Point.id == Visit.point_id)
            .outerjoin(User, User.id == Visit.inspector_id)
            .where(Visit.round_id.in_(ids))
            .order_by(Visit.id)
        )
        for visit, point, user in rows.all():
            visits[visit.round_id].append(
                RoundVisit(
                    id=visit.id,
                    point=VisitPointRef(id=point.id, code=point.code, name=point.name, type=point.type_code),
                    inspector=user_ref(user),
                    status=visit.status,
                )
            )
    out = []
    for r in rounds:
        cell = cells.by_id[r.grid_id]
        out.append(
            RoundOut(
                id=r.id,
                kind=r.kind,
                title=r.title,
                period_from=r.period_from,
                period_to=r.period_to,
                grid=CellRef(id=cell.id, code=cell.code, name=cell.name, level=cell.level, kind=cell.kind),
                edition=editions[r.edition_id],
                status=r.status,
                sample=r.sample,
                seed=r.seed,
                pass_mark=r.pass_mark,
                rectify_hours=r.rectify_hours,
                board=r.board,
                progress={s: progress[r.id][s] for s in ("pending", "submitted", "unable")},
                visits=visits[r.id] if with_visits else None,
                created_at=r.created_at,
                opened_at=r.opened_at,
                published_at=r.published_at,
                closed_at=r.closed_at,
            )
        )
    return out


def user_ref(user: User | None) -> UserRef | None:
    return UserRef(id=user.id, username=user.username, display_name=user.display_name) if user else None
