"""Retries of a creating request answered alike (docs/api.md "Conventions": retries).

A request carrying an ``Idempotency-Key`` (or a report carrying a ``client_id``) leaves a record of its
first answer and of what it meant (a fingerprint of its fields and photos). A retry meaning the same gets
that answer again; the same key with another meaning is 409 ``idempotency_key_reused``. Keys are per caller.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.i18n import Text
from app.reports.models import IdempotencyRecord
from app.reports.schemas import ReportIn


class IdempotencyConflict(Conflict):
    code, title = "idempotency_key_reused", "That Idempotency-Key was used for a different request"
    title_zh = "该 Idempotency-Key 已用于另一份上报"


@dataclass
class Filed:
    """The answer to a filing: its status, body, the case and its ETag; ``replayed`` for a retry's answer."""

    status_code: int
    body: dict[str, Any]
    case_id: int
    replayed: bool

    @property
    def etag(self) -> str:
        return f'"case-{self.case_id}-v{self.body.get("version", 1)}"'


def fingerprint(data: ReportIn, photo_shas: Sequence[str], extra: dict[str, Any] | None = None) -> str:
    """What makes two requests "the same": the report's fields, the photos' bytes in order, and what
    else the caller's interface carries (``extra``, e.g. Open311 attributes and contacts)."""
    meaning: dict[str, Any] = {"report": data.model_dump(mode="json"), "photos": list(photo_shas)}
    if extra:  # absent for native reports, so the fingerprints already stored keep matching
        meaning["extra"] = extra
    canonical = json.dumps(meaning, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def retry_keys(idempotency_key: str | None, data: ReportIn) -> list[str]:
    keys = [f"key:{idempotency_key}"] if idempotency_key else []
    if data.client_id is not None:
        keys.append(f"client_id:{data.client_id}")
    return keys


async def replay(session: AsyncSession, owner: str, keys: Sequence[str], print_: str) -> Filed | None:
    """The first answer to a request with one of ``keys`` from ``owner``; None when there was none;
    409 ``idempotency_key_reused`` when it meant something else."""
    if not keys:
        return None
    rows = list(
        (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key.in_(list(keys))
                )
            )
        ).scalars()
    )
    if not rows:
        return None
    if any(r.fingerprint != print_ for r in rows):
        raise IdempotencyConflict(
            Text(
                "该 Idempotency-Key 或 client_id 已用于另一份上报；新的上报请使用新的 key",
                "That Idempotency-Key or client_id was first used with a different report; "
                "use a new key for a new report",
            )
        )
    first = rows[0]
    return Filed(
        status_code=first.status_code, body=first.response, case_id=first.case_id or 0, replayed=True
    )


def remember(session: AsyncSession, owner: str, keys: Sequence[str], print_: str, filed: Filed) -> None:
    for key in keys:
        session.add(
            IdempotencyRecord(
                owner=owner,
                key=key,
                fingerprint=print_,
                status_code=filed.status_code,
                response=filed.body,
                case_id=filed.case_id,
            )
        )


async def flush_or_replay(
    session: AsyncSession, owner: str, keys: Sequence[str], print_: str
) -> Filed | None:
    """Flush; if a concurrent twin (same client_id or Idempotency-Key) won the race, its answer.

    The unique constraints on (reporter, client_id) and (owner, key) decide the race; the loser's
    transaction is rolled back whole, so it leaves nothing behind, and answers as a retry would.
    """
    try:
        await session.flush()
        return None
    except IntegrityError:
        await session.rollback()
        found = await replay(session, owner, keys, print_)
        if found is None:
            raise
        return found
