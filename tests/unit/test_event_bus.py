"""The event bus hands out the events a handler returns, after the ones already waiting (app.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.events import EventBus


@dataclass(frozen=True)
class Closed:
    case_id: int


@dataclass(frozen=True)
class SignedOff:
    notice_id: int


async def test_events_a_handler_returns_are_published_in_turn() -> None:
    bus, heard = EventBus(), []
    session: Any = object()  # handlers get the caller's session as given

    async def sign_off(s: Any, event: Closed) -> list[object]:
        assert s is session
        heard.append(event)
        return [SignedOff(event.case_id * 10)] if event.case_id == 2 else []

    async def push(s: Any, event: SignedOff) -> None:
        heard.append(event)

    bus.subscribe(Closed, sign_off)
    bus.subscribe(SignedOff, push)
    await bus.publish(session, [Closed(1), Closed(2), Closed(3)])
    assert heard == [Closed(1), Closed(2), Closed(3), SignedOff(20)]
