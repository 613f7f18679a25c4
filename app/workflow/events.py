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
