"""A visit's figures (docs/campaign.md "Scores"): pure functions of its answers, no database.

- Whether an answer complies: ``binary`` as answered; ``count_min`` when ``amount >= threshold``;
  ``problem_count`` when ``amount == 0``. Not-applicable answers (不涉及) are neither.
- Point score (得分率) = 100 x sum of the weights of compliant items / sum of the weights of applicable
  items; 符合率 (compliance rate) = compliant results / applicable results. Both null when nothing applied.
- 达标 (the point passes): no item failed, or the score reaches the round's pass mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    answer_kind: str  # binary, count_min, problem_count
    threshold: int | None
    weight: float
    result: str  # compliant, noncompliant, not_applicable
    amount: int | None


def complies(answer_kind: str, threshold: int | None, amount: int | None) -> bool | None:
    """What the count says of a counted item (``count_min``, ``problem_count``); None for a ``binary`` one,
    or when no count was given."""
    if amount is None or answer_kind == "binary":
        return None
    if answer_kind == "count_min":
        return threshold is not None and amount >= threshold
    return amount == 0


@dataclass(frozen=True)
class Figures:
    score_num: float
    score_den: float
    rate_num: int
    rate_den: int

    @property
    def score(self) -> float | None:
        return round(100 * self.score_num / self.score_den, 2) if self.score_den else None

    @property
    def rate(self) -> float | None:
        return round(self.rate_num / self.rate_den, 4) if self.rate_den else None

    def passed(self, pass_mark: float) -> bool:
        if self.rate_num == self.rate_den:  # no item failed (nothing applied counts as passing)
            return True
        return self.score is not None and self.score >= pass_mark


def figures(answers: Iterable[Answer]) -> Figures:
    """The visit's score and compliance parts over ``answers`` (module docstring)."""
    score_num = score_den = 0.0
    rate_num = rate_den = 0
    for a in answers:
        if a.result == "not_applicable":
            continue
        score_den += a.weight
        rate_den += 1
        if a.result == "compliant":
            score_num += a.weight
            rate_num += 1
    return Figures(score_num, score_den, rate_num, rate_den)
