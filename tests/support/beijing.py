"""Fixed instants in Beijing time (UTC+8, no daylight saving), the time the calendar and deadlines use."""

import datetime as dt

BJ = dt.timezone(dt.timedelta(hours=8))


def at(*args: int) -> dt.datetime:
    """``at(2026, 11, 30, 10, 0)``: that wall-clock time in Beijing, an aware datetime."""
    return dt.datetime(*args, tzinfo=BJ)
