"""Examples of the answers of scores, boards and the negative list, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.campaign.definitions import DEFINITIONS


def _f(numerator: float, denominator: float, value: float | None) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator, "value": value}


FIGURES: dict[str, Any] = {
    "score": _f(180.0, 2, 90.0),
    "compliance": _f(17, 19, 0.8947),
    "passed": _f(1, 2, 0.5),
    "rectified": _f(1, 2, 0.5),
    "rectified_on_time": _f(1, 1, 1.0),
    "recurrence": _f(0, 2, 0.0),
}
SCORES_EXAMPLE: dict[str, Any] = {
    "rounds": [3],
    "group_by": "grid",
    "definitions": {k: d.model_dump() for k, d in DEFINITIONS.items()},
    "total": FIGURES,
    "groups": [
        {
            "subject": {"kind": "grid", "id": 2, "code": "620802002", "name": "中街街道"},
            "points": 2,
            **FIGURES,
        }
    ],
}
TREND_EXAMPLE: dict[str, Any] = {
    "points": [
        {
            "round": {
                "id": 3,
                "title": "12月模拟测评",
                "period_from": "2026-12-07",
                "period_to": "2026-12-11",
            },
            **FIGURES,
        }
    ]
}
ITEMS_EXAMPLE: dict[str, Any] = {
    "items": [
        {
            "point_type": "NMSC",
            "item": {"code": "NM-13", "text": "市场内无占道经营"},
            "failures": _f(2, 3, 0.6667),
            "weight_lost": 2.0,
        }
    ]
}
_ENTRY: dict[str, Any] = {
    "subject": {"kind": "unit", "id": 3, "name": "崆峒区市场监督管理局"},
    "score": 92.5,
    "points": 4,
    "penalty": 0.0,
    "rank": 1,
    "reason": "红榜第1名 / red board, rank 1",
}
BOARD_EXAMPLE: dict[str, Any] = {
    "round_id": 3,
    "kind": "unit",
    "rule": {"black_below": 85, "red_top": 2, "black_bottom": 1, "min_points": 1},
    "made_at": "2026-12-11T09:00:00Z",
    "ranking": [_ENTRY],
    "red": [_ENTRY],
    "black": [],
    "unranked": [],
}
BOARD_CSV_EXAMPLE = "\ufeff排名,对象,得分,测评点位数,扣分,榜单,原因\r\n1,崆峒区市场监督管理局,92.5,4,0.0,红榜,红榜第1名 / red board, rank 1\r\n"
NEGATIVE_OUT_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "code": "FM-2026-031",
    "text": "中央督查组通报: 背街小巷垃圾堆积",
    "unit_id": 3,
    "grid_id": None,
    "occurred_at": "2026-12-09T02:00:00Z",
    "penalty": "deduct",
    "points": 2.0,
    "status": "confirmed",
    "case_id": None,
    "created_at": "2026-12-09T03:00:00Z",
    "decided_at": "2026-12-09T03:00:00Z",
}
