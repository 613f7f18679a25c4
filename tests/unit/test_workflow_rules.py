"""The workflow table (DOMAIN.md), tested without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.cases.models import Status
from app.workflow.rules import (
    TABLE,
    Action,
    Effect,
    InvalidTransition,
    MissingFields,
    NotPermitted,
    Who,
    allowed_actions,
    decide,
)

S = Status
DOMAIN_TABLE = {  # action: (from, to or None for "same"), as DOMAIN.md writes it
    "register": ({S.reported}, S.registered),
    "reject": ({S.reported, S.registered}, S.rejected),
    "dispatch": ({S.registered}, S.dispatched),
    "accept": ({S.dispatched}, S.in_progress),
    "return": ({S.dispatched, S.in_progress}, S.registered),
    "resolve": ({S.in_progress}, S.resolved),
    "verify": ({S.resolved}, S.closed),
    "rework": ({S.resolved}, S.in_progress),
    "request_extension": ({S.dispatched, S.in_progress}, None),
    "decide_extension": ({S.dispatched, S.in_progress}, None),
    "request_hold": ({S.dispatched, S.in_progress}, None),
    "decide_hold": ({S.dispatched, S.in_progress}, S.on_hold),
    "resume": ({S.on_hold}, S.dispatched),
    "urge": (set(S) - {S.closed, S.rejected}, None),
    "comment": (set(S), None),
}
# The service's own steps, taken while filing (never through POST .../actions).
FILING_STEPS = {
    "self_handle": ({S.reported}, S.resolved),
    "veto_alert": (set(S) - {S.closed, S.rejected}, None),
}


def test_the_table_is_domain_md() -> None:
    public = {a.value: (set(r.sources), r.target) for a, r in TABLE.items() if r.public}
    own = {a.value: (set(r.sources), r.target) for a, r in TABLE.items() if not r.public}
    assert (public, own) == (DOMAIN_TABLE, FILING_STEPS)


def test_events_announce_who_must_act() -> None:
    announced = {
        a.value: (r.announce.name, r.announce.audience.value) for a, r in TABLE.items() if r.announce
    }
    assert announced == {
        "dispatch": ("case.dispatched", "unit"),
        "return": ("case.returned", "dispatchers"),
        "rework": ("case.rework_required", "unit"),
        "request_extension": ("case.extension_requested", "dispatchers"),
        "request_hold": ("case.hold_requested", "dispatchers"),
        "resume": ("case.resumed", "unit"),
        "urge": ("case.urged", "unit"),
        "veto_alert": ("veto.alert", "supervisors"),
    }


def test_who_may_take_each_action() -> None:
    assert TABLE[Action.accept].who == {Who.unit_staff}
    assert TABLE[Action.verify].who == {Who.cell_worker, Who.supervisor, Who.admin, Who.closer}
    assert Who.dispatcher in TABLE[Action.dispatch].who and Who.unit_staff not in TABLE[Action.dispatch].who
    assert TABLE[Action.urge].who == {Who.supervisor, Who.admin}


def test_forbidden_state_names_the_state_and_the_allowed_actions() -> None:
    with pytest.raises(InvalidTransition) as info:
        decide(Action.accept, S.registered, [Who.unit_staff, Who.viewer], [])
    assert "registered" in str(info.value) and info.value.allowed == ["comment"]
    with pytest.raises(NotPermitted):
        decide(Action.dispatch, S.registered, [Who.unit_staff, Who.viewer], [])
    with pytest.raises(MissingFields) as info:
        decide(Action.return_, S.dispatched, [Who.unit_staff], [])
    assert info.value.allowed == ["reason"]


def test_decisions_need_a_pending_request_and_a_denial_changes_nothing() -> None:
    with pytest.raises(InvalidTransition):
        decide(Action.decide_hold, S.in_progress, [Who.dispatcher], ["approve"])
    granted = decide(
        Action.decide_hold, S.in_progress, [Who.dispatcher], ["approve"], pending=["hold"], approve=True
    )
    assert granted.to_status is S.on_hold and Effect.stop_clock in granted.effects
    denied = decide(
        Action.decide_hold, S.in_progress, [Who.dispatcher], ["approve"], pending=["hold"], approve=False
    )
    assert denied.to_status is S.in_progress and not denied.effects


@given(
    st.lists(
        st.tuples(st.sampled_from(list(Action)), st.sets(st.sampled_from(list(Who))), st.booleans()),
        max_size=40,
    )
)
def test_random_action_sequences_only_reach_states_the_table_allows(steps) -> None:  # type: ignore[no-untyped-def]
    status, pending = S.reported, set()
    reachable = {S.reported} | {r.target for r in TABLE.values() if r.target} | {S.registered}
    for action, relations, approve in steps:
        rule = TABLE[action]
        given_fields = set(rule.needs)
        try:
            outcome = decide(action, status, relations, given_fields, pending, approve)
        except (InvalidTransition, NotPermitted, MissingFields):
            assert action.value not in allowed_actions(status, relations, pending) or not relations & rule.who
            continue
        assert status in rule.sources and relations & rule.who
        assert outcome.to_status in reachable
        assert outcome.to_status in (rule.target, status, rule.denied_target)
        if action is Action.request_extension:
            pending.add("extension")
        elif action is Action.request_hold:
            pending.add("hold")
        elif rule.pending:
            pending.discard(rule.pending)
        if status in (S.closed, S.rejected):
            assert outcome.to_status is status  # nothing reopens a closed or rejected case
        status = outcome.to_status
