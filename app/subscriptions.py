"""What follows from each domain event (app.core.events): the service's one list of handlers.

:func:`app.main.create_app` gives its bus these, and so does code that acts outside a request but must leave
the same rows behind (the demo's past campaign rounds, app.demo.campaign). Its own module, beside app.main,
so such code does not import every router to get them.
"""

from __future__ import annotations

from app.campaign.boards import on_round_published
from app.campaign.events import NoticeIssued, NoticeSignedOff, RoundPublished
from app.campaign.negative import propose_veto_event
from app.campaign.notices import issue_on_publish, on_status_changed
from app.core.config import Settings
from app.core.events import EventBus, Handler
from app.deadlines.events import CalendarChanged
from app.notifications.notices import on_notice
from app.notifications.outbox import on_happened
from app.workflow.events import Happened, StatusChanged
from app.workflow.retime import on_calendar_changed


def subscriptions(settings: Settings) -> list[tuple[type, Handler]]:
    """(event type, handler) pairs, in the order the handlers run."""
    notify = on_notice(settings)
    return [
        (CalendarChanged, on_calendar_changed(settings)),
        (Happened, on_happened(settings)),
        (Happened, propose_veto_event),  # a veto case proposes a negative-list event
        (RoundPublished, on_round_published(settings.workflow_tz)),  # boards (红黑榜)
        # Rectification notices: issued when a round is published, signed off when their last case settles;
        # the campaign's notice events are pushed to the unit.
        (RoundPublished, issue_on_publish),
        (StatusChanged, on_status_changed),
        (NoticeIssued, notify),
        (NoticeSignedOff, notify),
    ]


def event_bus(settings: Settings) -> EventBus:
    """A bus with every handler of :func:`subscriptions`."""
    bus = EventBus()
    for event_type, handler in subscriptions(settings):
        bus.subscribe(event_type, handler)
    return bus
