"""Every step through the workflow's one action function: history rows of one shape whoever takes a step,
and the domain events the steps emit, handed to their handlers inside the request's transaction."""

from __future__ import annotations

from app.cases.models import Case
from app.workflow.events import Happened
from app.workflow.rules import Audience
from tests.support.reports import CENTRE
from tests.support.store import count
from tests.support.workflow import act, history

PARKING = {"category_code": "09009", "description": "机动车占用人行道", **CENTRE}  # 交警 takes it in 中街


def listen(app) -> list[Happened]:  # type: ignore[no-untyped-def]
    heard: list[Happened] = []

    async def handler(session, event) -> None:  # type: ignore[no-untyped-def]
        heard.append(event)

    app.state.bus.subscribe(Happened, handler)
    return heard


async def test_auto_dispatch_and_a_dispatchers_dispatch_leave_rows_of_one_shape(
    client, world, settings
) -> None:  # type: ignore[no-untyped-def]
    auto = (await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))).json()
    settings.workflow.auto_dispatch = False
    by_hand = (await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))).json()
    for action in ("register", "dispatch"):
        r = await act(client, world, by_hand["id"], "dispatcher", action)
        assert r.status_code == 200, r.text
    rows = {
        "auto": await history(client, world, auto["id"]),
        "hand": await history(client, world, by_hand["id"]),
    }
    assert (
        [e["action"] for e in rows["auto"]]
        == [e["action"] for e in rows["hand"]]
        == [
            "report",
            "register",
            "dispatch",
        ]
    )
    for auto_row, hand_row in zip(rows["auto"], rows["hand"], strict=True):
        assert auto_row.keys() == hand_row.keys()
        assert auto_row["data"].keys() == hand_row["data"].keys(), auto_row["action"]
        assert (auto_row["from_status"], auto_row["to_status"]) == (
            hand_row["from_status"],
            hand_row["to_status"],
        )
        assert auto_row["unit_id"] == hand_row["unit_id"]
    auto_dispatch, hand_dispatch = rows["auto"][2], rows["hand"][2]
    assert (
        auto_dispatch["data"]
        == hand_dispatch["data"]
        == {
            "unit_name": "平凉市公安局交通警察支队崆峒大队",
            "routed": True,
        }
    )
    # Who took it is the one difference: the service itself, or the dispatcher.
    assert (auto_dispatch["actor"]["kind"], hand_dispatch["actor"]["username"]) == ("system", "dispatcher")


async def test_steps_that_ask_someone_to_act_emit_domain_events(client, world, app) -> None:  # type: ignore[no-untyped-def]
    heard = listen(app)
    case = (await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))).json()
    unit = world.units["平凉市公安局交通警察支队崆峒大队"]
    assert [(e.name, e.audience, e.unit_id, e.case_id) for e in heard] == [
        ("case.dispatched", Audience.unit, unit, case["id"])
    ]
    heard.clear()
    r = await act(client, world, case["id"], "jiaojing", "return", reason="不归我们管")
    assert r.status_code == 200
    assert [(e.name, e.audience, e.unit_id) for e in heard] == [("case.returned", Audience.dispatchers, unit)]
    heard.clear()
    r = await act(client, world, case["id"], "dispatcher", "reject", reason="重复")
    assert r.status_code == 200 and heard == []  # nobody is asked to act on a rejected case


async def test_a_veto_item_alerts_supervisors_before_any_dispatch(client, world, app) -> None:  # type: ignore[no-untyped-def]
    heard = listen(app)
    r = await client.post(
        "/api/v1/reports",
        json={"category_code": "91002", "description": "群体性聚集", **CENTRE},
        headers=world.headers("worker2"),
    )
    assert r.status_code == 201
    assert [(e.name, e.audience) for e in heard][0] == ("veto.alert", Audience.supervisors)


async def test_a_failing_handler_keeps_nothing_of_the_change(client, world, app, session) -> None:  # type: ignore[no-untyped-def]
    # Handlers run in the request's transaction: what they must leave behind is kept exactly when the change is.
    async def broken(session, event) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("outbox unavailable")

    app.state.bus.subscribe(Happened, broken)
    before = await count(session, Case)
    r = await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))
    assert (r.status_code, r.json()["code"]) == (500, "internal_error")
    assert await count(session, Case) == before
