"""Base of every request body: unknown fields refused, and no text a database cannot store.

PostgreSQL cannot store U+0000, and no database can store a lone surrogate (JSON allows the
escape ``\ud800``); refusing them at the edge turns what would be a database error into a 422 that
points at the field, on every database alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, StringConstraints, field_validator

EARLIEST, LATEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def in_range(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC; ValueError when it lies outside the years 1900 to 9000 (UTC)."""
    # Year 1 with +14:00 is before year 1 in UTC: converting it (as the database does) overflows.
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError("outside the years 1900 to 9000") from exc
    if not EARLIEST <= utc < LATEST:
        raise ValueError("outside the years 1900 to 9000")
    return utc


# An instant a client sends (RFC 3339 with an offset), normalised to UTC and kept in a range that every
# database and every date computation here can hold, so an extreme one is a 422, never a 500.
Instant = Annotated[AwareDatetime, AfterValidator(in_range)]


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text on every database, or None."""
    if "\x00" in value:
        return "must not contain NUL (U+0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def has_nul(value: Any) -> str | None:
    """The first text problem anywhere inside ``value`` (strings, lists, dicts), or None."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, (list, tuple)):
        return next((p for v in value if (p := has_nul(v))), None)
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := has_nul(k) or has_nul(v))), None)
    return None


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        problem = has_nul(value)
        if problem:
            raise ValueError(problem)
        return value
