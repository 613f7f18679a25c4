"""The round's report (docs/campaign.md "The round's report"): one printable page a leader reads, from the
same figures the API answers: the overall figures, the trend over the scope's published rounds, the boards
of units and streets, the items that lose most points, and the scores by unit and by street.

Built from app.campaign.scoring and app.campaign.boards, so the page can never disagree with
``GET /campaign/scores`` or ``GET /campaign/boards``; formatted for people in the city's time zone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign import boards, scoring
from app.campaign.chart import TrendPoint, trend_svg
from app.campaign.models import PointType
from app.campaign.report_view import (
    BoardView,
    Definition,
    Entry,
    Figure,
    ItemRow,
    ReportView,
    Row,
    Table,
    parts,
    percent,
    render,
)
from app.campaign.rounds import get_round, present
from app.campaign.score_schemas import BoardOut, Figures, Fraction, ScoresOut
from app.core.times import local

KINDS = {
    "patrol": "常态巡查 patrol",
    "supervision": "督查 supervision",
    "mock": "模拟测评 mock",
    "recheck": "复查 recheck",
}
STATES = {
    "draft": "草稿 draft",
    "open": "测评中 open",
    "published": "已发布 published",
    "closed": "已关闭 closed",
}
TILES = (  # (figure, 中文, English)
    ("score", "点位得分率", "score"),
    ("compliance", "符合率", "compliance"),
    ("passed", "达标率", "points passed"),
    ("rectified", "整改率", "rectified"),
    ("rectified_on_time", "按期整改率", "rectified on time"),
    ("recurrence", "复发率", "recurrence"),
)
BOARD_KINDS = (("unit", "责任单位 units"), ("grid", "街道 streets"))


def _shown(figure: str, f: Fraction) -> str:
    # The point score is already a percentage (0-100); every other figure is a ratio.
    return percent(f.value, scale=100.0 if figure == "score" else 1.0)


def _rule_text(rule: dict[str, object]) -> str:
    said = []
    rule = {k: f"{v:g}" if isinstance(v, float) else v for k, v in rule.items()}
    if rule.get("black_below") is not None:
        said.append(f"低于{rule['black_below']}分上黑榜 below {rule['black_below']}: black")
    if rule.get("red_top"):
        said.append(f"前{rule['red_top']}名上红榜 top {rule['red_top']}: red")
    if rule.get("black_bottom"):
        said.append(f"末{rule['black_bottom']}名上黑榜 bottom {rule['black_bottom']}: black")
    if rule.get("min_points"):
        said.append(f"至少{rule['min_points']}个点位参与排名 ranked from {rule['min_points']} points")
    return "；".join(said) or "未设规则 no rule"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _board(label: str, out: BoardOut) -> BoardView:
    return BoardView(
        kind_label=label,
        rule_text=_rule_text(out.rule),
        red=[Entry(e.subject.name, _score(e.score)) for e in out.red],
        black=[Entry(e.subject.name, _score(e.score), e.reason or "") for e in out.black],
        unranked=[f"{e.subject.name}（{e.reason}）" if e.reason else e.subject.name for e in out.unranked],
    )


def _table(title: tuple[str, str, str, str], found: ScoresOut, board: BoardOut | None) -> Table:
    """The groups' figures; with a board, each row carries its rank, its board and its deduction there, so the
    table never reads as a ranking of its own (the board ranks by score after deductions)."""
    entries = {} if board is None else {e.subject.id: e for e in board.ranking + board.unranked}
    marks = _marks(board)
    rows = []
    for g in found.groups:
        entry = entries.get(g.subject.id)
        rank, note = "", ""
        if board is not None:
            rank = str(entry.rank) if entry is not None and entry.rank is not None else "—"
            if entry is not None and entry.rank is None and entry.reason:
                note = entry.reason
            elif entry is not None and entry.penalty:
                note = f"扣{entry.penalty:g}分 / {entry.penalty:g} deducted"
        rows.append(
            Row(
                rank=rank,
                name=g.subject.name,
                points=g.points,
                score=_shown("score", g.score),
                compliance=_shown("compliance", g.compliance),
                passed=_shown("passed", g.passed),
                rectified=_shown("rectified", g.rectified),
                on_time=_shown("rectified_on_time", g.rectified_on_time),
                board=marks.get(g.subject.id, ""),
                note=note,
            )
        )
    if board is not None:  # in the board's order; the unranked last
        rows.sort(key=lambda r: (not r.rank.isdigit(), int(r.rank) if r.rank.isdigit() else 0))
    return Table(*title, rows=rows)


def _marks(out: BoardOut | None) -> dict[int | None, str]:
    if out is None:
        return {}
    marks: dict[int | None, str] = {e.subject.id: "red" for e in out.red}
    marks.update({e.subject.id: "black" for e in out.black})  # black wins, as on the board
    return marks


def _label(period_from: dt.date) -> str:
    # A monthly round by its month; others by their first day, so two rounds of one month stay apart.
    return period_from.strftime("%Y-%m") if period_from.day == 1 else period_from.strftime("%m-%d")


def _point(label: str, figures: Figures, current: bool) -> TrendPoint:
    compliance = figures.compliance.value
    return TrendPoint(
        label=label,
        score=figures.score.value,
        compliance=None if compliance is None else compliance * 100,
        current=current,
    )


async def report_page(session: AsyncSession, round_id: int, tz: dt.tzinfo, now: dt.datetime) -> str:
    """The HTML page (UTF-8 text) of round ``round_id``; times in ``tz``. An unpublished round gets its live
    figures under a notice that they may change, and no boards. 404 ``not_found``."""
    round_ = await get_round(session, round_id)
    shown = (await present(session, [round_], with_visits=False))[0]
    ids = [round_.id]
    by_unit = await scoring.scores(session, ids, "unit")
    by_street = await scoring.scores(session, ids, "grid")
    failing = await scoring.items(session, ids, limit=10)
    named = select(PointType.code, PointType.name_zh).where(PointType.edition_id == round_.edition_id)
    type_names = {code: name for code, name in await session.execute(named)}
    made: dict[str, BoardOut] = {}
    if round_.published_at is not None:
        for kind, _ in BOARD_KINDS:
            made[kind] = await boards.board(session, round_.id, kind, tz)
    # The trend: the scope's published rounds up to this one, this one marked (drawn live if unpublished).
    earlier = await scoring.trend(session, group_by="grid", grid=round_.grid_id)
    points = [
        _point(_label(p.round.period_from), p, False)
        for p in earlier.points
        if p.round.period_from <= round_.period_from and p.round.id != round_.id
    ]
    points.append(_point(_label(round_.period_from), by_unit.total, True))
    total = by_unit.total
    view = ReportView(
        round_id=round_.id,
        title=round_.title,
        kind_label=KINDS.get(round_.kind, round_.kind),
        period=f"{round_.period_from.isoformat()} 至 {round_.period_to.isoformat()}",
        scope=shown.grid.name,
        status_label=STATES.get(round_.status, round_.status),
        published_at=(local(round_.published_at, tz) or "")[:16] or None,
        frozen=round_.published_at is not None,
        visited=shown.progress.get("submitted", 0),
        planned=sum(shown.progress.values()),
        generated_at=(local(now, tz) or "")[:16],
        figures=[
            Figure(zh, en, _shown(name, f), parts(f.numerator, f.denominator))
            for name, zh, en in TILES
            for f in [getattr(total, name)]
        ],
        chart=trend_svg(points[-12:]),
        boards=[_board(label, made[kind]) for kind, label in BOARD_KINDS if kind in made],
        items=[
            ItemRow(
                point_type=type_names.get(i.point_type, i.point_type),
                code=i.item.code,
                text=i.item.text,
                failures=parts(i.failures.numerator, i.failures.denominator),
                rate=percent(i.failures.value),
                weight_lost=f"{i.weight_lost:g}",
            )
            for i in failing.items
        ],
        tables=[
            _table(("各责任单位得分", "scores by unit", "责任单位", "unit"), by_unit, made.get("unit")),
            _table(("各街道得分", "scores by street", "街道", "street"), by_street, made.get("grid")),
        ],
        definitions=[Definition(f"{d.zh} {d.en}", d.formula) for d in by_unit.definitions.values()],
    )
    return render(view)
