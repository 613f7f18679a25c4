"""Submissions at the same moment, on real connections that see each other's commits: a phone retrying a visit
gets one answer, and two visits failing one item at one point open one case (the other is its repeat)."""

import asyncio
import uuid

from sqlalchemy import text

from tests.support.campaign import (
    MARKET,
    NO_GPS,
    add_point,
    import_real_checklists,
    make_round,
    open_round,
    submit,
    with_results,
)

FAIL = {"result": "noncompliant", "note": "占道", "photos": ["p.jpg"]}


async def _visits(client, world, code: str, rounds: int) -> list[int]:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    point = await add_point(client, world, code, geometry=MARKET)
    out = []
    for _ in range(rounds):
        round_ = await make_round(client, world, grid_id=world.cells["620802002"], points=[point["id"]])
        await open_round(client, world, round_["id"])
        out.append(round_["visits"][0]["id"])
    return out


async def test_a_visit_sent_many_times_at_once_is_kept_once(live_client, live_engine, world) -> None:  # type: ignore[no-untyped-def]
    code = f"RACE-{uuid.uuid4().hex[:8]}"
    (visit_id,) = await _visits(live_client, world, code, 1)
    visit = {"results": with_results("NMSC", NM_13=FAIL)}
    photo = [("p.jpg", NO_GPS.read_bytes())]
    key = {"Idempotency-Key": f"race-{code}"}
    responses = await asyncio.gather(
        *[submit(live_client, world, "worker2", visit_id, visit, photo, key) for _ in range(5)]
    )
    assert [r.status_code for r in responses] == [200] * 5, [r.text[:200] for r in responses]
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    assert len({r.json()["cases"][0]["id"] for r in responses}) == 1
    async with live_engine.connect() as conn:
        results = (
            await conn.execute(
                text("SELECT count(*) FROM campaign_results WHERE visit_id = :v"), {"v": visit_id}
            )
        ).scalar()
    assert results == 15


async def test_two_visits_failing_one_item_at_one_point_open_one_case(
    live_client, live_engine, world
) -> None:  # type: ignore[no-untyped-def]
    code = f"TWIN-{uuid.uuid4().hex[:8]}"
    first, second = await _visits(live_client, world, code, 2)
    visit = {"results": with_results("NMSC", NM_13=FAIL)}
    photo = [("p.jpg", NO_GPS.read_bytes())]
    a, b = await asyncio.gather(
        submit(live_client, world, "worker2", first, visit, photo),
        submit(live_client, world, "worker2", second, visit, photo),
    )
    assert (a.status_code, b.status_code) == (200, 200), (a.text[:300], b.text[:300])
    (case_a,), (case_b,) = a.json()["cases"], b.json()["cases"]
    assert case_a["id"] == case_b["id"] and sorted([case_a["repeat"], case_b["repeat"]]) == [False, True]
    shown = await live_client.get(f"/api/v1/reports/{case_a['id']}", headers=world.headers("supervisor"))
    assert shown.json()["inspection"]["repeats"] == 1
