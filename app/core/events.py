"""Domain events and the bus that hands them to their handlers, inside the transaction that caused them.

A domain action says what happened as small frozen values (cosmicpython's ``events``); what follows from
it (an outbox row for a webhook, a campaign notice) is a handler subscribed here, not code inside the
action. Handlers run in the request's transaction, just before its commit (app.core.deps), so what they
write is kept exactly when the change is kept: a crash never loses an event nor invents one. Handlers that
must reach the outside world write a durable row and let a worker send it after the commit.

This module knows no domain: events are any objects; handlers subscribe by type.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("grid_inspector.events")

# A handler may return the events its own work caused (e.g. a notice signed off when a case closed): they are
# handed out in the same transaction, after the events already waiting.
Handler = Callable[[AsyncSession, Any], Awaitable[Iterable[object] | None]]


class EventBus:
    """Handlers by event type; :meth:`publish` runs them in order in the caller's transaction."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def handlers_for(self, event: object) -> list[Handler]:
        return [h for kind in type(event).__mro__ for h in self._handlers.get(kind, ())]

    async def publish(self, session: AsyncSession, events: Iterable[object]) -> None:
        """Run every handler of every event in ``session``'s transaction; a handler's error propagates, so the
        change that caused the event is not committed without what the event must leave behind. Events a
        handler returns are published in turn, after the ones given."""
        waiting = deque(events)
        while waiting:
            event = waiting.popleft()
            for handler in self.handlers_for(event):
                more = await handler(session, event)
                if more:
                    waiting.extend(more)
