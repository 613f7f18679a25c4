"""What the campaign tells the rest of the service (domain events, app.core.events).

Campaign actions return these; the request hands them to their subscribers just before its commit, so what
a subscriber writes (a rectification notice, an outbox row) is kept exactly when the change is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RoundPublished:
    """Round ``round_id`` was published at ``published_at`` (UTC): its results, scores and boards are frozen
    from now on, and each responsible unit gets its rectification notice (整改通知)."""

    round_id: int
    published_at: dt.datetime


@dataclass(frozen=True)
class NoticeIssued:
    """Notice ``notice_id`` of round ``round_id`` was issued to unit ``unit_id`` at ``occurred_at`` (UTC), or
    re-issued with failures it did not list yet (app.campaign.notices)."""

    notice_id: int
    round_id: int
    unit_id: int
    occurred_at: dt.datetime


@dataclass(frozen=True)
class NoticeSignedOff:
    """Notice ``notice_id`` was signed off (销号) at ``occurred_at`` (UTC): the last of its cases was closed."""

    notice_id: int
    round_id: int
    unit_id: int
    occurred_at: dt.datetime
