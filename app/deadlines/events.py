"""What the deadlines tell the rest of the service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CalendarChanged:
    """An admin loaded a year's working days: deadlines counted on the old calendar must be counted again
    (app.workflow.retime subscribes). ``tz`` is the city's time zone name."""

    year: int
    tz: str
