"""Examples of the stats answers in the OpenAPI document (as the demo answers them)."""

from __future__ import annotations

from typing import Any

# One unit's counts and figures; the example's only group, so its total too.
_TOTALS: dict[str, Any] = {
    "counts": {
        "filed": 1,
        "decided": 1,
        "registered": 1,
        "due_to_close": 1,
        "closed": 1,
        "closed_on_time": 1,
        "dispatched": 1,
        "due_to_handle": 1,
        "handled_on_time": 1,
        "reworked": 0,
        "dispatches": 1,
        "returns": 0,
        "extended": 1,
        "held": 0,
        "resolved": 1,
    },
    "handling_hours": 0.0,
    "by_state": {
        "reported": 0,
        "registered": 0,
        "dispatched": 0,
        "in_progress": 0,
        "resolved": 0,
        "closed": 1,
        "rejected": 0,
        "on_hold": 0,
    },
    "figures": {
        "closure_rate": {"numerator": 1.0, "denominator": 1.0, "value": 1.0},
        "on_time_closure_rate": {"numerator": 1.0, "denominator": 1.0, "value": 1.0},
        "on_time_handling_rate": {"numerator": 1.0, "denominator": 1.0, "value": 1.0},
        "rework_rate": {"numerator": 0.0, "denominator": 1.0, "value": 0.0},
        "return_rate": {"numerator": 0.0, "denominator": 1.0, "value": 0.0},
        "extension_rate": {"numerator": 1.0, "denominator": 1.0, "value": 1.0},
        "hold_rate": {"numerator": 0.0, "denominator": 1.0, "value": 0.0},
        "average_handling_hours": {"numerator": 0.0, "denominator": 1.0, "value": 0.0},
        "registration_rate": {"numerator": 1.0, "denominator": 1.0, "value": 1.0},
    },
}

ASSESSMENT_EXAMPLE: dict[str, Any] = {
    "group_by": "unit",
    "period_from": "2026-11-30T16:00:00Z",
    "period_to": "2026-12-07T12:23:16.414771Z",
    "grid": None,
    "source": None,
    "as_of": "2026-12-07T12:23:16.414771Z",
    "count_labels_zh": {
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
    },
    "definitions": {
        "closure_rate": {
            "label_zh": "结案率",
            "label_en": "closure rate",
            "numerator": "closed",
            "denominator": "due_to_close",
        },
        "on_time_closure_rate": {
            "label_zh": "按期结案率",
            "label_en": "on-time closure rate",
            "numerator": "closed_on_time",
            "denominator": "due_to_close",
        },
    },
    "groups": [{**_TOTALS, "key": "2", "name": "平凉市公安局交通警察支队崆峒大队"}],
    "total": _TOTALS,
}
