"""Drawing a round's points (docs/campaign.md "Rounds and visits"): pure, so the same seed gives the same
sample on every database and in every process.

Per point type, the candidates (the scope's points of that type) are sorted by code in Python, never by a
database's collation, and drawn with ``random.Random(f"{seed}:{type}")``: a string seed is hashed with
SHA-512 by the standard library whatever ``PYTHONHASHSEED`` says, and each type has its own stream, so
asking for one more point of one type leaves the other types' draws as they were.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


class NotEnough(ValueError):
    """Fewer candidates than asked for: ``{type: (asked, available)}``."""

    def __init__(self, short: dict[str, tuple[int, int]]) -> None:
        super().__init__(", ".join(f"{t}: {a} asked, {n} in scope" for t, (a, n) in short.items()))
        self.short = short


def draw(candidates: Mapping[str, Sequence[tuple[str, T]]], counts: Mapping[str, int], seed: int) -> list[T]:
    """``counts[type]`` of ``candidates[type]`` (``(code, value)`` pairs) for each type, types in code order,
    each type's draw in the order drawn. Raises :class:`NotEnough` naming every short type."""
    short = {t: (n, len(candidates.get(t, ()))) for t, n in counts.items() if n > len(candidates.get(t, ()))}
    if short:
        raise NotEnough(short)
    chosen: list[T] = []
    for type_code in sorted(counts):
        pool = sorted(candidates[type_code], key=lambda pair: pair[0])
        rng = random.Random(f"{seed}:{type_code}")
        chosen.extend(value for _, value in rng.sample(pool, counts[type_code]))
    return chosen
