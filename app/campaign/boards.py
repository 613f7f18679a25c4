"""Boards (红黑榜) of a published round, by responsible unit, by street or by point (docs/campaign.md "Boards").

Made and stored when the round is published (:func:`on_round_published`, a ``RoundPublished`` handler), so
later edits and later negative-list entries never change them; a board of a round published before boards
were stored (or of points) is made when asked, from the same frozen figures.

A subject's ranking score is the mean of its points' scores minus the deductions of the confirmed
negative-list events against it whose local date lies in the round's period. Ranked: at least
``min_points`` points scored. Order: score (desc), then points scored (desc), then 符合率 (desc), then name
and id; subjects equal on score, points and 符合率 share a rank (1, 1, 3). Red: rank <= ``red_top``. Black:
score below ``black_below``, or among the last ``black_bottom`` (fewer than ``black_bottom`` ranked
subjects are strictly worse), or a confirmed veto event (一票否决) whatever the score or the points. Black
wins over red.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign import scoring
from app.campaign.events import RoundPublished
from app.campaign.models import Board, NegativeEvent, Round
from app.campaign.score_schemas import BoardEntry, BoardOut, BoardSubject
from app.core.errors import AppError, NotFound
from app.grids.directory import directory
from app.units.book import units

STORED_KINDS = ("unit", "grid")
DEFAULT_RULE: dict[str, Any] = {"black_below": None, "red_top": None, "black_bottom": None, "min_points": 1}


class RoundNotPublished(AppError):
    status, code, title = 409, "round_not_published", "The round is not published: it has no boards yet"
    title_zh = "测评批次尚未发布,尚无红黑榜"


@dataclass
class _Row:
    subject: BoardSubject
    mean: float | None
    points: int
    compliance: float
    penalty: float = 0.0
    veto: bool = False
    reasons: list[str] = field(default_factory=list)
    rank: int | None = None
    both_ends: bool = False  # within the top N and the bottom N at once

    @property
    def score(self) -> float | None:
        return None if self.mean is None else round(self.mean - self.penalty, 2)

    def key(self) -> tuple[float, int, float]:
        return (self.score or 0.0, self.points, self.compliance)

    def entry(self) -> BoardEntry:
        return BoardEntry(
            subject=self.subject,
            score=self.score,
            points=self.points,
            penalty=round(self.penalty, 4),
            rank=self.rank,
            reason="; ".join(self.reasons) or None,
        )


def period_bounds(round_: Round, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The round's period as UTC instants [start, end): its first day's local midnight to the day after its
    last."""
    start = dt.datetime.combine(round_.period_from, dt.time(), tz)
    end = dt.datetime.combine(round_.period_to + dt.timedelta(days=1), dt.time(), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def events_in_period(session: AsyncSession, round_: Round, tz: dt.tzinfo) -> list[NegativeEvent]:
    """The confirmed negative-list events whose local date lies in ``round_``'s period."""
    start, end = period_bounds(round_, tz)
    rows = await session.execute(
        select(NegativeEvent)
        .where(
            NegativeEvent.status == "confirmed",
            NegativeEvent.occurred_at >= start,
            NegativeEvent.occurred_at < end,
        )
        .order_by(NegativeEvent.id)
    )
    return list(rows.scalars())


async def _rows(session: AsyncSession, round_: Round, kind: str, tz: dt.tzinfo) -> dict[Any, _Row]:
    found = await scoring.parts(session, [round_.id], kind)
    named = await scoring.subjects(session, [round_.id], kind, found)
    rows = {
        k: _Row(
            subject=BoardSubject(kind=kind, id=named[k].id, name=named[k].name),
            mean=p.score_sum / p.points if p.points else None,
            points=p.points,
            compliance=p.rate_num / p.rate_den if p.rate_den else -1.0,
        )
        for k, p in found.items()
    }
    if kind == "point":
        return rows  # the negative list names units and streets
    book = await units(session) if kind == "unit" else {}
    cells = await directory(session)
    streets = [c for c in cells.by_id.values() if c.parent_id == round_.grid_id]
    for event in await events_in_period(session, round_, tz):
        key: Any = None
        if kind == "unit" and event.unit_id is not None:
            key = event.unit_id
            if key not in rows:
                name = book[key].name if key in book else str(key)
                rows[key] = _Row(BoardSubject(kind="unit", id=key, name=name), None, 0, -1.0)
        elif kind == "grid" and event.grid_id is not None and event.grid_id in cells.by_id:
            path = cells.by_id[event.grid_id].path
            street = next((c for c in streets if path.startswith(c.path)), None)
            if street is None:
                continue  # outside the round's scope
            key = street.id
            if key not in rows:
                rows[key] = _Row(BoardSubject(kind="grid", id=key, name=street.name), None, 0, -1.0)
        if key is None:
            continue
        if event.penalty == "veto":
            rows[key].veto = True
        else:
            rows[key].penalty += event.points
    return rows


def _label(score: float) -> str:
    return f"{score:g}"


def rank(rows: list[_Row], rule: dict[str, Any]) -> dict[str, list[_Row]]:
    """Ranks, red and black (module docstring); returns the lists of rows by board."""
    min_points = rule.get("min_points") or 0
    # Points without a responsible unit are figures, not a unit: they are never ranked against units.
    ranked = [r for r in rows if r.subject.id is not None and r.score is not None and r.points >= min_points]
    unranked = [r for r in rows if r not in ranked]
    ranked.sort(key=lambda r: (-r.key()[0], -r.key()[1], -r.key()[2], r.subject.name, r.subject.id or 0))
    for r in ranked:
        r.rank = 1 + sum(1 for o in ranked if o.key() > r.key())
    red, black = [], []
    for r in ranked:
        worse = sum(1 for o in ranked if o.key() < r.key())
        below = rule.get("black_below")
        if below is not None and r.score is not None and r.score < below:
            r.reasons.append(f"低于{_label(below)}分 / below {_label(below)}")
        better = sum(1 for o in ranked if o.key() > r.key())
        # A subject both within the top N and the bottom N (too few ranked) is on neither board by rank.
        top = bool(rule.get("red_top")) and better < rule["red_top"]
        if rule.get("black_bottom") and worse < rule["black_bottom"] and not top:
            r.reasons.append(f"倒数{rule['black_bottom']}名内 / bottom {rule['black_bottom']}")
        r.both_ends = top and bool(rule.get("black_bottom")) and worse < rule["black_bottom"]
    for r in rows:
        if r.veto:
            r.reasons.append("负面清单一票否决 / veto event")
    for r in ranked:
        if r.reasons:
            black.append(r)
        elif rule.get("red_top") and r.rank is not None and r.rank <= rule["red_top"] and not r.both_ends:
            r.reasons.append(f"红榜第{r.rank}名 / red board, rank {r.rank}")
            red.append(r)
    for r in unranked:
        if r.veto:
            black.append(r)
        if r.subject.id is None:
            r.reasons.append("无责任单位, 不参与排名 / no responsible unit: not ranked")
        else:
            r.reasons.append(f"测评点位少于{min_points}个 / fewer than {min_points} points scored")
    return {"ranking": ranked, "red": red, "black": black, "unranked": unranked}


async def make(session: AsyncSession, round_: Round, kind: str, tz: dt.tzinfo, now: dt.datetime) -> BoardOut:
    """The board of ``kind`` of ``round_`` from its figures now (module docstring)."""
    rule = {**DEFAULT_RULE, **(round_.board or {})}
    rows = list((await _rows(session, round_, kind, tz)).values())
    lists = rank(rows, rule)
    return BoardOut(
        round_id=round_.id,
        kind=kind,
        rule=rule,
        made_at=now,
        **{name: [r.entry() for r in found] for name, found in lists.items()},
    )


def on_round_published(tz: dt.tzinfo) -> Any:
    """The ``RoundPublished`` handler: make and store the round's unit and street boards."""

    async def handle(session: AsyncSession, event: RoundPublished) -> None:
        round_ = await session.get(Round, event.round_id)
        assert round_ is not None
        stored = set((await session.execute(select(Board.kind).where(Board.round_id == round_.id))).scalars())
        for kind in STORED_KINDS:
            if kind in stored:
                continue
            out = await make(session, round_, kind, tz, event.published_at)
            session.add(
                Board(round_id=round_.id, kind=kind, made_at=out.made_at, content=out.model_dump(mode="json"))
            )
        await session.flush()

    return handle


async def board(session: AsyncSession, round_id: int, kind: str, tz: dt.tzinfo | None = None) -> BoardOut:
    """The board of ``kind`` of published round ``round_id``: as stored at publishing, else made now from the
    frozen figures (``tz``: the city's zone, for the negative list's dates; UTC when not given). 404
    ``not_found``; 409 ``round_not_published``."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"No round with id {round_id}")
    if round_.published_at is None:
        raise RoundNotPublished(f"Round {round_id} is {round_.status}: boards are made when it is published")
    stored = (
        await session.execute(select(Board).where(Board.round_id == round_id, Board.kind == kind))
    ).scalar_one_or_none()
    if stored is not None:
        return BoardOut.model_validate(stored.content)
    return await make(session, round_, kind, tz or dt.UTC, round_.published_at)
