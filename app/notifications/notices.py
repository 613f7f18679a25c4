"""Pushing rectification notices to their unit (docs/notifications.md "Events"): ``campaign.notice`` when a
notice is issued (or re-issued with new failures) and ``campaign.notice_signed_off`` when it is signed off
(销号). The campaign emits ``NoticeIssued`` and ``NoticeSignedOff`` (app.campaign.events); these handlers
write the outbox rows in the same transaction, like :func:`app.notifications.outbox.on_happened`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.campaign.events import NoticeIssued, NoticeSignedOff
from app.campaign.models import Notice
from app.campaign.notices import present
from app.core.config import Settings
from app.core.events import Handler
from app.core.times import rfc3339
from app.notifications import outbox

EVENT_TYPES = {NoticeIssued: "campaign.notice", NoticeSignedOff: "campaign.notice_signed_off"}


def link(settings: Settings, notice_id: int) -> str:
    base = (settings.public_url or "/").rstrip("/")
    return f"{base}/api/v1/campaign/notices/{notice_id}"


async def notice_data(session: AsyncSession, settings: Settings, notice: Notice) -> dict[str, Any]:
    """The thin payload of a notice's event: the notice's summary (round, status, progress, deadline), its
    unit and a link; never its cases' details (receivers fetch the notice with their own credentials)."""
    shown = (await present(session, [notice]))[0]
    return {
        "notice": {
            "id": shown.id,
            "round": {"id": shown.round.id, "title": shown.round.title},
            "status": shown.status,
            "progress": {"closed": shown.progress.closed, "total": shown.progress.total},
            "signed_off_at": rfc3339(shown.signed_off_at),
        },
        "unit": {"id": shown.unit.id, "name": shown.unit.name},
        "due_at": rfc3339(shown.due_at),
        "link": link(settings, notice.id),
    }


def on_notice(settings: Settings) -> Handler:
    """The bus handler of ``NoticeIssued`` and ``NoticeSignedOff``: an outbox row per endpoint of the notice's
    unit that hears it."""

    async def handle(session: AsyncSession, event: NoticeIssued | NoticeSignedOff) -> None:
        event_type = EVENT_TYPES[type(event)]
        endpoints = await outbox.endpoints_hearing(session, event_type, [event.unit_id])
        if not endpoints:
            return
        notice = await session.get(Notice, event.notice_id)
        if notice is None:
            return
        data = await notice_data(session, settings, notice)
        await outbox.record(
            session, event_type, data, endpoints, unit_id=event.unit_id, occurred_at=event.occurred_at
        )

    return handle
