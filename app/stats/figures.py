"""The assessment figures (docs/domain.md "Assessment", 综合评价/考核) as data: each is a ratio of two
counts that app.stats.service computes in SQL, with the definition shipped in every response.

The cohort of a period is the cases *filed* in ``[from, to)`` (not deleted), judged as they stand
when the figures are asked for. The counts, per group and in total:

- ``filed`` 上报数: every case of the cohort.
- ``decided``: filed minus those still ``reported`` (awaiting the dispatchers' decision).
- ``registered`` 立案数: cases taken into the loop: neither ``reported`` nor ``rejected``.
- ``due_to_close`` 应结案数: registered cases that are closed or late: a case still inside its limit is
  not yet judged (the usual 数字城管 rule: 处置时限已到的立案数 + 时限未到但已结案的立案数). Late means the
  clock ran out, or it stopped too late: resolved after the deadline, or put on hold (挂账) with more
  than the limit used; a case held in time is judged when it resumes. Stopping the clock never takes
  a late case out of the figures.
- ``closed`` 结案数 and ``closed_on_time`` 按期结案数: closed cases, and those of them resolved by their
  deadline (a self-handled case was resolved on the spot, so on time).
- ``dispatched`` 派遣数: cases dispatched at least once; ``due_to_handle`` 应处置数: dispatched, and
  resolved or late; ``handled_on_time`` 按时处置数: resolved by the deadline. docs/domain.md divides by the
  cases dispatched; cases still inside their limit are left out so that a unit is not marked down
  for work it still has time to do.
- ``reworked``: due-to-close cases sent back at least once by a failed on-site check (返工).
- ``dispatches`` 派遣次数 and ``returns`` 回退次数: dispatches of the cohort's cases and the "not ours"
  returns that undid them; by unit, counted for the unit dispatched to and the unit that returned
  the case (from the history), otherwise for the case's group.
- ``extended``/``held``: dispatched cases with at least one approved extension (延期) / hold (挂账).
- ``resolved`` and ``handling_hours``: cases a unit resolved (self-handled ones, fixed on the spot, are
  not a unit's handling) and the hours of their limits they used, in the limit's own kind of time
  (working hours; natural hours for urgent and veto items).
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTS = (
    "filed",
    "decided",
    "registered",
    "due_to_close",
    "closed",
    "closed_on_time",
    "dispatched",
    "due_to_handle",
    "handled_on_time",
    "reworked",
    "dispatches",
    "returns",
    "extended",
    "held",
    "resolved",
)
SUMS = ("handling_hours",)


@dataclass(frozen=True)
class Figure:
    key: str
    label_zh: str
    label_en: str
    numerator: str  # a name of COUNTS or SUMS
    denominator: str  # a name of COUNTS
    per_case: bool = False  # an average, not a share


FIGURES = (
    Figure("closure_rate", "结案率", "closure rate", "closed", "due_to_close"),
    Figure("on_time_closure_rate", "按期结案率", "on-time closure rate", "closed_on_time", "due_to_close"),
    Figure(
        "on_time_handling_rate", "按时处置率", "on-time handling rate", "handled_on_time", "due_to_handle"
    ),
    Figure("rework_rate", "返工率", "rework rate", "reworked", "due_to_close"),
    Figure("return_rate", "回退率", "mis-dispatch (return) rate", "returns", "dispatches"),
    Figure("extension_rate", "延期率", "extension rate", "extended", "dispatched"),
    Figure("hold_rate", "挂账率", "hold rate", "held", "dispatched"),
    Figure(
        "average_handling_hours",
        "平均处置时长(小时)",
        "average handling time (hours)",
        "handling_hours",
        "resolved",
        per_case=True,
    ),
    Figure("registration_rate", "有效上报率", "share of reports registered", "registered", "decided"),
)

COUNT_LABELS_ZH = {
    "filed": "上报数",
    "decided": "已受理判定数",
    "registered": "立案数",
    "due_to_close": "应结案数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "dispatched": "派遣数",
    "due_to_handle": "应处置数",
    "handled_on_time": "按时处置数",
    "reworked": "返工案件数",
    "dispatches": "派遣次数",
    "returns": "回退次数",
    "extended": "延期案件数",
    "held": "挂账案件数",
    "resolved": "处置完毕数",
    "handling_hours": "处置用时(小时)",
}


def ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    """``numerator / denominator`` rounded, or None when nothing is due (never a division by zero)."""
    return round(numerator / denominator, digits) if denominator else None
