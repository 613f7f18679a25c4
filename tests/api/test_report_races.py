"""Concurrent identical reports (a phone retrying on a weak link) make exactly one case, on real connections."""

import asyncio
import uuid

from sqlalchemy import func, select

from app.cases.models import Case
from app.reports.models import IdempotencyRecord
from tests.support.photos import NO_GPS_JPEG
from tests.support.reports import CENTRE, post_report


async def test_concurrent_identical_requests_make_one_case(live_client, live_engine, world) -> None:  # type: ignore[no-untyped-def]
    client_id = str(uuid.uuid4())
    report = {"client_id": client_id, "category_code": "06010", "description": "race", **CENTRE}
    photo = NO_GPS_JPEG.read_bytes()
    key = {"Idempotency-Key": f"race-{client_id}"}

    async def one():  # type: ignore[no-untyped-def]
        return await post_report(live_client, world, report, [("p.jpg", photo)], headers=key)

    responses = await asyncio.gather(*[one() for _ in range(8)])
    assert [r.status_code for r in responses] == [201] * 8, [r.text[:200] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    async with live_engine.connect() as conn:
        cases = (
            await conn.execute(select(func.count()).select_from(Case).where(Case.client_id == client_id))
        ).scalar()
        records = (
            await conn.execute(
                select(func.count())
                .select_from(IdempotencyRecord)
                .where(IdempotencyRecord.key.like(f"%{client_id}"))
            )
        ).scalar()
    assert (cases, records) == (1, 2)  # one case; its answer kept under the header key and the client_id


async def test_concurrent_requests_with_one_key_and_no_client_id(live_client, live_engine, world) -> None:  # type: ignore[no-untyped-def]
    key = f"key-only-{uuid.uuid4()}"
    report = {"category_code": "07001", "description": key, **CENTRE}

    async def one():  # type: ignore[no-untyped-def]
        return await live_client.post(
            "/api/v1/reports", json=report, headers={**world.headers("worker2"), "Idempotency-Key": key}
        )

    responses = await asyncio.gather(*[one() for _ in range(6)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    async with live_engine.connect() as conn:
        n = (
            await conn.execute(select(func.count()).select_from(Case).where(Case.description == key))
        ).scalar()
    assert n == 1
