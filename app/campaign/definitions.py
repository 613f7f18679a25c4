"""What each campaign figure means (docs/campaign.md "Scores"), as the scores answer it to clients: the
names in Chinese and English and the formula, numerator over denominator."""

from __future__ import annotations

from app.campaign.score_schemas import Definition

RECURRENCE_DAYS = 30
DEFINITIONS: dict[str, Definition] = {
    "score": Definition(
        zh="得分率(点位得分的平均)",
        en="score: mean of the points' scores",
        formula="sum(100 * weight compliant / weight applicable, per point) / points scored",
    ),
    "compliance": Definition(
        zh="符合率", en="compliance rate", formula="compliant results / applicable results"
    ),
    "passed": Definition(
        zh="达标率",
        en="share of points passed",
        formula="points with no failed item or a score >= the pass mark / points scored",
    ),
    "rectified": Definition(zh="整改率", en="rectified", formula="failures whose case is closed / failures"),
    "rectified_on_time": Definition(
        zh="按期整改率",
        en="rectified on time",
        formula="failures whose case closed on time / failures due (due date passed, or closed)",
    ),
    "recurrence": Definition(
        zh="复发率",
        en="recurrence",
        formula=f"failures of an item at a point whose earlier case there closed <= {RECURRENCE_DAYS} days "
        "before / failures",
    ),
}
