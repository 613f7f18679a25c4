"""Examples of the campaign's answers for the OpenAPI document (app.core.openapi), as the demo answers them:
the real checklists shipped in ``app/campaign/data/checklists.json`` (农贸市场及周边, its 15 items), the demo's
中山街农贸市场 in 中街街道 with its duty, and a mock round whose visit found street vending (NM-13) at the east
gate. Nothing here is read by the service's logic: these are the documentation's, kept apart so the schema
modules stay readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_FILE = json.loads((Path(__file__).parent / "data" / "checklists.json").read_text(encoding="utf-8"))
_ITEM_FIELDS = (
    "code",
    "group",
    "text",
    "judging_note",
    "answer_kind",
    "threshold",
    "weight",
    "photo_on_fail",
    "note_on_fail",
    "category_code",
    "abridged",
)


def _point_type(code: str) -> dict[str, Any]:
    """A point type of the shipped file as ``PointTypeOut`` answers it."""
    found = next(t for t in _FILE["point_types"] if t["code"] == code)
    protocol = {k: found.get("protocol", {}).get(k) for k in ("walk_m", "watch_min", "window", "rule")}
    return {
        "code": found["code"],
        "name_zh": found["name_zh"],
        "name_en": found.get("name_en"),
        "protocol": protocol,
        "source": found.get("source"),
        "items": [
            {f: item.get(f, False if f == "abridged" else None) for f in _ITEM_FIELDS}
            for item in found["items"]
        ],
    }


MARKET = _point_type("NMSC")  # 农贸市场及周边
ITEM_COUNT = sum(len(t["items"]) for t in _FILE["point_types"])

EDITION_OUT: dict[str, Any] = {
    "code": _FILE["edition"]["code"],
    "name": _FILE["edition"]["name"],
    "year": _FILE["edition"]["year"],
    "issuer": _FILE["edition"]["issuer"],
    "source": _FILE["edition"]["source"],
    "active": True,
    "point_types": len(_FILE["point_types"]),
    "items": ITEM_COUNT,
    "updated_at": "2026-12-07T02:14:09.512301Z",
}
IMPORT_OUT: dict[str, Any] = {
    "edition": EDITION_OUT,
    "point_types": len(_FILE["point_types"]),
    "items": ITEM_COUNT,
    "created": ITEM_COUNT,
    "updated": 0,
    "retired": 0,
}
POINT_TYPES_OUT: dict[str, Any] = {"edition": EDITION_OUT["code"], "items": [MARKET]}

CELL = {"id": 834, "code": "620802002001279", "name": "中街街道第279网格", "level": 3, "kind": "grid"}
STREET = {"id": 2, "code": "620802002", "name": "中街街道", "level": 2, "kind": "street"}
CHENGGUAN = {"id": 1, "name": "崆峒区城市管理综合执法局"}
JIAOJING = {"id": 2, "name": "平凉市公安局交通警察支队崆峒大队"}
SHANGWU = {"id": 5, "name": "区商务局"}
MARKET_OUTLINE = {
    "type": "Polygon",
    "coordinates": [
        [
            [106.6651, 35.5428],
            [106.6659, 35.5428],
            [106.6659, 35.5434],
            [106.6651, 35.5434],
            [106.6651, 35.5428],
        ]
    ],
}
POINT_OUT: dict[str, Any] = {
    "id": 1,
    "code": "KT-NM-001",
    "name": "中山街农贸市场",
    "type": "NMSC",
    "tier": "key",
    "reported": True,
    "address": "崆峒区中山街",
    "lat": 35.5431,
    "lon": 106.6655,
    "geometry": MARKET_OUTLINE,
    "grid": CELL,
    "duty": {
        "unit": SHANGWU,
        "lead_unit": CHENGGUAN,
        "chief_name": "王建国",
        "chief_phone": "0933-8210001",
        "chief_user_id": None,
        "items": {"NM-12": JIAOJING, "NM-13": CHENGGUAN},
    },
    "created_at": "2026-12-07T02:14:10.204518Z",
    "updated_at": "2026-12-07T02:14:10.204518Z",
}
POINT_IMPORT_OUT: dict[str, Any] = {
    "dry_run": True,
    "created": ["KT-GC-002"],
    "changed": [{"code": "KT-NM-002", "fields": ["tier", "geometry"]}],
    "unchanged": 4,
}

WORKER = {"id": 5, "username": "worker2", "display_name": "网格员 grid worker, 中街街道"}
SUPERVISOR = {"id": 3, "username": "supervisor", "display_name": "督查员 supervisor"}
ROUND_OUT: dict[str, Any] = {
    "id": 3,
    "kind": "mock",
    "title": "2026年12月模拟测评(中街街道)",
    "period_from": "2026-12-07",
    "period_to": "2026-12-11",
    "grid": STREET,
    "edition": EDITION_OUT["code"],
    "status": "open",
    "sample": {"NMSC": 1, "GJXL": 2},
    "seed": 7,
    "pass_mark": 85.0,
    "rectify_hours": None,
    "board": {"black_below": 85.0, "red_top": 2, "black_bottom": 1, "min_points": 1},
    "progress": {"pending": 2, "submitted": 1, "unable": 0},
    "visits": [
        {
            "id": 7,
            "point": {"id": 1, "code": "KT-NM-001", "name": "中山街农贸市场", "type": "NMSC"},
            "inspector": WORKER,
            "status": "submitted",
        },
        {
            "id": 8,
            "point": {"id": 5, "code": "KT-GJ-002", "name": "1路公交 中山街站", "type": "GJXL"},
            "inspector": WORKER,
            "status": "pending",
        },
        {
            "id": 9,
            "point": {"id": 4, "code": "KT-GJ-001", "name": "1路公交 西郊站", "type": "GJXL"},
            "inspector": SUPERVISOR,
            "status": "pending",
        },
    ],
    "created_at": "2026-12-07T02:20:31.771204Z",
    "opened_at": "2026-12-07T02:21:02.118930Z",
    "published_at": None,
    "closed_at": None,
}
ROUND_LIST: dict[str, Any] = {"items": [{**ROUND_OUT, "visits": None}], "next_cursor": None}

# What the market's visit answered: street vending at the east gate (a case for its unit), pets not applicable.
_ANSWERS: dict[str, tuple[str, int | None, str | None]] = {
    "NM-01": ("compliant", 3, None),
    "NM-02": ("compliant", 6, None),
    "NM-09": ("not_applicable", None, None),
    "NM-13": ("noncompliant", 2, "东门外两处占道卖菜"),
}
RESULTS = [
    {
        "item": item["code"],
        "text": item["text"],
        "answer_kind": item["answer_kind"],
        "threshold": item["threshold"],
        "weight": item["weight"],
        "result": _ANSWERS.get(item["code"], ("compliant", None, None))[0],
        "amount": _ANSWERS.get(item["code"], ("compliant", None, None))[1],
        "note": _ANSWERS.get(item["code"], ("compliant", None, None))[2],
        "photos": ["f1.jpg"] if item["code"] == "NM-13" else [],
        "case_id": 41 if item["code"] == "NM-13" else None,
    }
    for item in MARKET["items"]
]
_APPLICABLE = [r for r in RESULTS if r["result"] != "not_applicable"]
_COMPLIANT = [r for r in _APPLICABLE if r["result"] == "compliant"]
_SCORE = 100 * sum(r["weight"] for r in _COMPLIANT) / sum(r["weight"] for r in _APPLICABLE)
VISIT_OUT: dict[str, Any] = {
    "id": 7,
    "round": {k: ROUND_OUT[k] for k in ("id", "kind", "title", "status", "period_from", "period_to")},
    "point": {
        **{k: POINT_OUT[k] for k in ("id", "code", "name", "type", "tier", "address", "lat", "lon")},
        "geometry": MARKET_OUTLINE,
        "grid": CELL,
        "chief_name": "王建国",
        "chief_phone": "0933-8210001",
    },
    "inspector": WORKER,
    "status": "submitted",
    "checklist": MARKET,
    "observed_at": "2026-12-08T01:30:00Z",
    "submitted_at": "2026-12-08T01:31:12.418207Z",
    "unable_reason": None,
    "score": {
        "numerator": float(sum(r["weight"] for r in _COMPLIANT)),
        "denominator": float(sum(r["weight"] for r in _APPLICABLE)),
        "value": round(_SCORE, 2),
    },
    "compliance": {
        "numerator": float(len(_COMPLIANT)),
        "denominator": float(len(_APPLICABLE)),
        "value": round(len(_COMPLIANT) / len(_APPLICABLE), 4),
    },
    "passed": ROUND_OUT["pass_mark"] <= _SCORE,
    "results": RESULTS,
    "photos": [
        {
            "id": 57,
            "name": "f1.jpg",
            "case_id": 41,
            "sha256": "9f2c4b7e1d0a8c6f3e5b2a7d4c1f8e6b3a0d9c7e5f2b4a1c8d6e3f0b7a5c2d9e",
            "flags": [],
            "distance_m": 12.4,
            "taken_at": "2026-12-08T01:28:41Z",
            "url": "/api/v1/campaign/visits/7/photos/57",
        }
    ],
    "cases": [
        {
            "id": 41,
            "tracking_code": "20261208-K7Q2MX",
            "status": "dispatched",
            "unit": CHENGGUAN,
            "item": "NM-13",
            "repeat": False,
        }
    ],
}
# A phone's list: a visit still to make, with what it needs offline (the point and its checklist).
VISIT_LIST: dict[str, Any] = {
    "items": [
        {
            **VISIT_OUT,
            "id": 8,
            "point": {
                "id": 5,
                "code": "KT-GJ-002",
                "name": "1路公交 中山街站",
                "type": "GJXL",
                "tier": "ordinary",
                "address": "崆峒区中山街口",
                "lat": 35.5425,
                "lon": 106.662,
                "geometry": {"type": "Point", "coordinates": [106.662, 35.5425]},
                "grid": {**CELL, "id": 829, "code": "620802002001274", "name": "中街街道第274网格"},
                "chief_name": None,
                "chief_phone": None,
            },
            "status": "pending",
            "checklist": _point_type("GJXL"),
            "observed_at": None,
            "submitted_at": None,
            "score": None,
            "compliance": None,
            "passed": None,
            "results": [],
            "photos": [],
            "cases": [],
        }
    ],
    "next_cursor": None,
}
