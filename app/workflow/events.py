"""What the workflow tells the rest of the service: one domain event per action that asks someone to act.

Workflow actions (app.workflow.actions) return these; the request collects them and hands them to their
handlers just before its commit (app.core.events), so a handler that writes an outbox row writes it in the
same transaction as the change. Which action emits which event, and for whom, is a column of the workflow
table (app.workflow.rules, ``announce``); the names are the public event types of docs/domain.md
"Notifications".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.workflow.rules import Audience


@dataclass(frozen=True)
class Happened:
    """An action that asks ``audience`` to act on case ``case_id``.

    ``unit_id`` is the unit concerned (the one it was dispatched to, or the one that returned it);
    ``history_id`` the history row that records the step; ``occurred_at`` its instant (UTC).
    """

    name: str  # e.g. "case.dispatched", "veto.alert"
    case_id: int
    tracking_code: str
    unit_id: int | None
    audience: Audience
    history_id: int
    occurred_at: dt.datetime


@dataclass(frozen=True)
class StatusChanged:
    """Case ``case_id`` left ``from_status`` for ``to_status`` at ``occurred_at`` (UTC), by any action, or was
    deleted (``to_status`` "deleted"). Not pushed anywhere by itself: it lets other packages follow a case's
    life (a campaign notice is signed off when its last case is closed, rejected or deleted)."""

    case_id: int
    from_status: str
    to_status: str
    occurred_at: dt.datetime

    @property
    def settled(self) -> bool:
        """Whether the case left the closed loop: closed, rejected or deleted."""
        return self.to_status in ("closed", "rejected", "deleted")
