"""Every row of the DOMAIN.md workflow table (app/workflow/rules.py) over HTTP: the allowed path, each
forbidden caller and state."""

import pytest

from app.cases.models import Status
from app.workflow.rules import PUBLIC_ACTIONS, TABLE, Action, Who
from tests.support.photos import jpeg_at
from tests.support.reports import file_report
from tests.support.workflow import act

PHOTO = jpeg_at(35.5428, 106.6652)
# (action, who, fields) that bring a case from one state to the next; the case is 09009 (交警) in 中街 (worker2)
PATH = {
    Status.registered: [("register", "dispatcher", {})],
    Status.dispatched: [("register", "dispatcher", {}), ("dispatch", "dispatcher", {})],
    Status.in_progress: [
        ("register", "dispatcher", {}),
        ("dispatch", "dispatcher", {}),
        ("accept", "jiaojing", {}),
    ],
}
PATH[Status.resolved] = PATH[Status.in_progress] + [("resolve", "jiaojing", {"photo": PHOTO})]
PATH[Status.closed] = PATH[Status.resolved] + [("verify", "worker2", {})]
PATH[Status.rejected] = [("reject", "dispatcher", {"reason": "重复"})]
PATH[Status.on_hold] = PATH[Status.in_progress] + [
    ("request_hold", "jiaojing", {"reason": "待修缮资金"}),
    ("decide_hold", "dispatcher", {"approve": True}),
]
PATH[Status.reported] = []
FIELDS = {"reason": "原因", "note": "备注", "hours": 4, "approve": True}
USERS = {
    "dispatcher": Who.dispatcher,
    "admin": Who.admin,
    "supervisor": Who.supervisor,
    "jiaojing": Who.unit_staff,
    "worker2": Who.cell_worker,
}
PENDING = {
    "extension": ("request_extension", {"reason": "r", "hours": 4}),
    "hold": ("request_hold", {"reason": "r"}),
}


async def case_in(client, world, settings, status: Status, pending: str | None = None) -> int:  # type: ignore[no-untyped-def]
    settings.workflow.auto_dispatch = False
    cid = (await file_report(client, world))["id"]
    for action, user, fields in PATH[status] + (
        [(PENDING[pending][0], "jiaojing", PENDING[pending][1])] if pending else []
    ):
        r = await act(client, world, cid, user, action, **fields)
        assert r.status_code == 200, (action, r.text)
    return cid


def fields_for(action: Action) -> dict:
    needs = TABLE[action].needs
    out = {k: v for k, v in FIELDS.items() if k in needs}
    if action is Action.resolve:
        out["photo"] = PHOTO
    return out


@pytest.mark.parametrize("action", PUBLIC_ACTIONS, ids=lambda a: a.value)
async def test_each_row_allowed_and_forbidden_callers(client, world, settings, action: Action) -> None:  # type: ignore[no-untyped-def]
    rule = TABLE[action]
    source = next(
        s
        for s in (
            Status.reported,
            Status.registered,
            Status.dispatched,
            Status.in_progress,
            Status.resolved,
            Status.on_hold,
            Status.closed,
            Status.rejected,
        )
        if s in rule.sources
    )
    pending = {"decide_extension": "extension", "decide_hold": "hold"}.get(action.value)
    for user, relation in USERS.items():
        cid = await case_in(client, world, settings, source, pending)
        r = await act(client, world, cid, user, action.value, **fields_for(action))
        sees = user != "jiaojing" or source not in (Status.reported, Status.registered)
        allowed = relation in rule.who or Who.viewer in rule.who
        expected = (200 if allowed else 403) if sees else 404
        assert r.status_code == expected, (action.value, source.value, user, r.text[:200])
        if expected == 200:
            target = rule.target or source
            assert r.json()["status"] == target.value
        if expected == 403:
            assert r.json()["code"] == "action_not_allowed"


@pytest.mark.parametrize(
    "action", [a for a in PUBLIC_ACTIONS if len(TABLE[a].sources) < len(Status)], ids=lambda a: a.value
)
async def test_each_row_from_a_forbidden_state_is_409(client, world, settings, action: Action) -> None:  # type: ignore[no-untyped-def]
    rule = TABLE[action]
    state = next(
        s
        for s in (Status.closed, Status.rejected, Status.resolved, Status.reported, Status.on_hold)
        if s not in rule.sources
    )
    cid = await case_in(client, world, settings, state)
    user = next(
        u
        for u, rel in USERS.items()
        if rel in rule.who and (u != "jiaojing" or state not in (Status.reported, Status.registered))
    )
    r = await act(client, world, cid, user, action.value, **fields_for(action))
    assert (r.status_code, r.json()["code"], r.json()["current_status"]) == (
        409,
        "invalid_transition",
        state.value,
    )
    assert isinstance(r.json()["allowed_actions"], list)


@pytest.mark.parametrize("action", [a for a in Action if a not in PUBLIC_ACTIONS], ids=lambda a: a.value)
async def test_the_services_own_steps_are_not_actions_clients_take(
    client, world, settings, action: Action
) -> None:  # type: ignore[no-untyped-def]
    # Self-handling is chosen when filing, the veto alert is raised by the service: neither is a client's action.
    cid = await case_in(client, world, settings, Status.reported)
    r = await act(client, world, cid, "admin", action.value, note="n")
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "action.action")
