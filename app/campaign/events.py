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
