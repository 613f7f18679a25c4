"""Every result of a round as CSV (docs/campaign.md "Exporting a round"), streamed.

One row per result of a submitted visit; a visit that was unable (无法测评) or is still pending is one row
without an item. Points are as the round scores them (app.campaign.attribution: frozen when it was
published). The file is made like the case export (app.reports.export): UTF-8 with a byte-order mark, labels
in zh or en, times in the city's time zone, text cells a spreadsheet would run as a formula prefixed with
``'``. Visits are read in keyset batches (``GRID_EXPORT_BATCH_ROWS`` visits with their results, at most a
checklist's items each) in short read transactions of their own, so memory stays flat however large the
round and no snapshot is held open while the client downloads.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.campaign.attribution import SCORED_AS
from app.campaign.models import Point, Result, Visit
from app.cases.models import Case, status_label
from app.core.db import Database
from app.core.i18n import Lang
from app.reports.export import for_people, safe_cell
from app.units.book import units

VISIT_ZH = {"pending": "待测评", "submitted": "已测评", "unable": "无法测评"}
ANSWER_ZH = {"compliant": "符合", "noncompliant": "不符合", "not_applicable": "不涉及"}

# (key, zh label, en label, value of a row: the visit's fields and its result's, or None for the item's)
Column = tuple[str, str, str, Callable[[dict[str, Any], Lang], Any]]


def _label(labels: dict[str, str], value: Any, lang: Lang) -> Any:
    return labels.get(value, value) if lang == "zh" and value is not None else value


def _case_status(row: dict[str, Any], lang: Lang) -> Any:
    if row.get("case_deleted"):
        return "已删除" if lang == "zh" else "deleted"
    return status_label(row["case_status"], lang) if row.get("case_status") else None


COLUMNS: list[Column] = [
    ("round", "测评批次", "round", lambda r, lang: r["round"]),
    ("point_code", "点位编号", "point code", lambda r, lang: r["point_code"]),
    ("point_name", "点位名称", "point name", lambda r, lang: r["point_name"]),
    ("point_type", "点位类型", "point type", lambda r, lang: r["point_type"]),
    ("grid_code", "网格编码", "grid cell", lambda r, lang: r["grid_code"]),
    ("unit", "责任单位", "responsible unit", lambda r, lang: r["unit"]),
    ("inspector", "测评员", "inspector", lambda r, lang: r["inspector"]),
    ("visit_status", "测评状态", "visit status", lambda r, lang: _label(VISIT_ZH, r["visit_status"], lang)),
    ("observed_at", "测评时间", "observed at", lambda r, lang: r["observed_at"]),
    ("item_code", "测评项代码", "item code", lambda r, lang: r.get("item_code")),
    ("item_text", "测评项", "item", lambda r, lang: r.get("item_text")),
    ("answer", "测评结果", "answer", lambda r, lang: _label(ANSWER_ZH, r.get("answer"), lang)),
    ("amount", "数量", "amount", lambda r, lang: r.get("amount")),
    ("note", "备注", "note", lambda r, lang: r.get("note")),
    ("weight", "权重", "weight", lambda r, lang: r.get("weight")),
    ("tracking_code", "案件号", "case tracking code", lambda r, lang: r.get("tracking_code")),
    ("case_status", "案件状态", "case status", _case_status),
]


async def _batch(
    session: AsyncSession, round_id: int, title: str, after: int, size: int
) -> tuple[list[dict[str, Any]], int | None]:
    """The rows of up to ``size`` visits after visit id ``after``, and the last visit id read (None: done)."""
    visits = (
        await session.execute(
            select(
                Visit.id,
                Visit.status,
                func.coalesce(Visit.observed_at, Visit.submitted_at).label("observed_at"),
                Visit.unable_reason,
                SCORED_AS.code.label("code"),
                SCORED_AS.name.label("name"),
                SCORED_AS.type_code.label("type_code"),
                SCORED_AS.grid_path.label("grid_path"),
                SCORED_AS.unit_id.label("unit_id"),
                func.coalesce(func.nullif(User.display_name, ""), User.username).label("inspector"),
            )
            .join(Point, Point.id == Visit.point_id)
            # Who inspected: who submitted the visit (a supervisor may submit another's), else who is assigned.
            .outerjoin(User, User.id == func.coalesce(Visit.submitted_by_id, Visit.inspector_id))
            .where(Visit.round_id == round_id, Visit.id > after)
            .order_by(Visit.id)
            .limit(size)
        )
    ).all()
    if not visits:
        return [], None
    results: dict[int, list[Any]] = defaultdict(list)
    for r in await session.execute(
        select(Result, Case.tracking_code, Case.status, Case.deleted_at)
        .outerjoin(Case, Case.id == Result.case_id)
        .where(Result.visit_id.in_([v.id for v in visits]))
        .order_by(Result.visit_id, Result.id)
    ):
        results[r[0].visit_id].append(r)
    all_units = await units(session)
    rows = []
    for v in visits:
        unit = all_units.get(v.unit_id) if v.unit_id is not None else None
        base = {
            "round": title,
            "point_code": v.code,
            "point_name": v.name,
            "point_type": v.type_code,
            "grid_code": v.grid_path.strip("/").rsplit("/", 1)[-1] if v.grid_path else None,
            "unit": unit.name if unit else None,
            "inspector": v.inspector,
            "visit_status": v.status,
            "observed_at": v.observed_at,
        }
        if not results[v.id]:
            rows.append({**base, "note": v.unable_reason})
        for result, tracking_code, case_status, case_deleted in results[v.id]:
            rows.append(
                {
                    **base,
                    "item_code": result.item_code,
                    "item_text": result.item_text,
                    "answer": result.result,
                    "amount": result.amount,
                    "note": result.note,
                    "weight": result.weight,
                    "tracking_code": tracking_code,
                    "case_status": case_status,
                    "case_deleted": case_deleted is not None,
                }
            )
    return rows, (visits[-1].id if len(visits) == size else None)


async def round_csv(
    db: Database, round_id: int, title: str, size: int, lang: Lang, tz: dt.tzinfo
) -> AsyncIterator[bytes]:
    """The round's CSV, a header row then a chunk per batch of visits (module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([zh if lang == "zh" else en for _, zh, en, _ in COLUMNS])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    after: int | None = 0
    while after is not None:
        async with db.sessionmaker() as session:
            rows, after = await _batch(session, round_id, title, after, size)
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([safe_cell(for_people(get(row, lang), tz)) for *_, get in COLUMNS])
        yield buffer.getvalue().encode()
