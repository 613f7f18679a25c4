"""How the service writes instants: JSON answers in UTC with ``Z`` (RFC 3339, docs/api.md "Conventions"),
files made for people in the city's time zone with its offset (a CSV opened in Excel in Beijing)."""

from __future__ import annotations

import datetime as dt


def rfc3339(value: dt.datetime | None) -> str | None:
    """``2026-12-07T03:00:00Z``: the instant in UTC, ``Z`` for the offset; None stays None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def local(value: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    """``2026-12-07 11:00:00+08:00``: the instant in ``tz`` to the second, with its offset (RFC 3339 allows the
    space, and spreadsheets read it as a date and time)."""
    if value is None:
        return None
    return value.astimezone(tz).replace(microsecond=0).isoformat(sep=" ")


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant with UTC as its zone (pydantic then writes it with ``Z``)."""
    return value.astimezone(dt.UTC)
