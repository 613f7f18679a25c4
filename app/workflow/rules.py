"""The closed loop as data (DOMAIN.md "The case workflow"): one table, one function that reads it.

Each row says which states an action may start from, where it leads, who may take it (as relations
between the caller and the case), which fields it needs, and its side effects on the deadline clock
and the counters. Nothing else in the code base decides a transition.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.reports.models import OPEN_STATUSES, Status

S = Status


class Action(str, enum.Enum):
    register = "register"  # 立案
    reject = "reject"  # 不予立案/作废
    dispatch = "dispatch"  # 派遣
    accept = "accept"  # 接单
    return_ = "return"  # 回退: "not ours"
    resolve = "resolve"  # 处置完毕
    verify = "verify"  # 核查通过, closes
    rework = "rework"  # 返工
    request_extension = "request_extension"  # 申请延期
    decide_extension = "decide_extension"
    request_hold = "request_hold"  # 申请挂账
    decide_hold = "decide_hold"
    resume = "resume"
    urge = "urge"  # 督办
    comment = "comment"


class Who(str, enum.Enum):
    """How a caller relates to a case; a row admits callers holding any of its relations."""

    dispatcher = "dispatcher"
    supervisor = "supervisor"
    admin = "admin"
    unit_staff = "unit_staff"  # staff of the unit the case is dispatched to now
    cell_worker = "cell_worker"  # a grid worker who patrols the case's cell (or a cell above it)
    closer = "closer"  # a dispatcher, for a self-handled case (自处理: "a dispatcher or supervisor closes it")
    viewer = "viewer"  # anyone who can see the case


class Effect(str, enum.Enum):
    start_clock = "start_clock"
    stop_clock = "stop_clock"  # hold
    restart_clock = "restart_clock"  # resume: the remaining time runs again
    extend = "extend"  # an approved extension adds its hours
    count_return = "count_return"  # a mis-dispatch against the routing
    count_rework = "count_rework"  # against the unit
    raise_priority = "raise_priority"
    notify_unit = "notify_unit"
    close = "close"
    clear_unit = "clear_unit"  # back to the dispatchers' queue


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: frozenset[Status]
    target: Status | None  # None: the case stays where it is
    who: frozenset[Who]
    needs: frozenset[str] = frozenset()  # request fields: reason, unit_id, hours, approve, photos
    effects: frozenset[Effect] = frozenset()
    pending: str | None = None  # decide_*: a request of this kind must be pending
    denied_target: Status | None = None  # decide_*: where a denial leaves the case (None: where it is)
    unitless_target: Status | None = None  # where it leads when the case has no unit (a self-handled case)


def _rule(action: Action, sources: Iterable[Status], target: Status | None, who: Iterable[Who],
          needs: Iterable[str] = (), effects: Iterable[Effect] = (), **kw: object) -> Rule:
    return Rule(action, frozenset(sources), target, frozenset(who), frozenset(needs), frozenset(effects), **kw)  # type: ignore[arg-type]


DISPATCH = (Who.dispatcher, Who.admin)
HANDLING = (S.dispatched, S.in_progress)
CHECKERS = (Who.cell_worker, Who.supervisor, Who.admin, Who.closer)

TABLE: dict[Action, Rule] = {r.action: r for r in (
    _rule(Action.register, [S.reported], S.registered, DISPATCH),
    _rule(Action.reject, [S.reported, S.registered], S.rejected, DISPATCH, ["reason"], [Effect.close]),
    _rule(Action.dispatch, [S.registered], S.dispatched, DISPATCH, [], [Effect.start_clock, Effect.notify_unit]),
    _rule(Action.accept, [S.dispatched], S.in_progress, [Who.unit_staff]),
    _rule(Action.return_, HANDLING, S.registered, [Who.unit_staff], ["reason"],
          [Effect.count_return, Effect.clear_unit, Effect.stop_clock]),
    _rule(Action.resolve, [S.in_progress], S.resolved, [Who.unit_staff], [], [Effect.stop_clock]),
    _rule(Action.verify, [S.resolved], S.closed, CHECKERS, [], [Effect.close]),
    # A failed check sends the case back to its unit; a self-handled case has none, so it goes to the
    # dispatchers' queue instead (its clock starts when it is dispatched).
    _rule(Action.rework, [S.resolved], S.in_progress, CHECKERS, ["reason"], [Effect.count_rework, Effect.restart_clock],
          unitless_target=S.registered),
    _rule(Action.request_extension, HANDLING, None, [Who.unit_staff], ["reason", "hours"]),
    _rule(Action.decide_extension, HANDLING, None, DISPATCH, ["approve"], [Effect.extend], pending="extension"),
    _rule(Action.request_hold, HANDLING, None, [Who.unit_staff], ["reason"]),
    _rule(Action.decide_hold, HANDLING, S.on_hold, DISPATCH, ["approve"], [Effect.stop_clock], pending="hold"),
    _rule(Action.resume, [S.on_hold], S.dispatched, DISPATCH, [], [Effect.restart_clock, Effect.notify_unit]),
    _rule(Action.urge, OPEN_STATUSES, None, [Who.supervisor, Who.admin], ["note"],
          [Effect.raise_priority, Effect.notify_unit]),
    _rule(Action.comment, list(Status), None, [Who.viewer], ["note"]),
)}


class TransitionError(Exception):
    def __init__(self, message: str, *, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class InvalidTransition(TransitionError):
    """The action cannot start from the case's state (409 ``invalid_transition``)."""


class NotPermitted(TransitionError):
    """The caller has none of the relations the row asks for (403)."""


class MissingFields(TransitionError):
    """The action needs fields the request lacks (422)."""


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    from_status: Status
    to_status: Status
    effects: frozenset[Effect] = field(default_factory=frozenset)


def allowed_actions(status: Status, relations: Iterable[Who] = tuple(Who),
                    pending: Iterable[str] = ("extension", "hold")) -> list[str]:
    """Actions a caller holding ``relations`` may take on a case in ``status``, in table order."""
    have, open_requests = set(relations), set(pending)
    return [r.action.value for r in TABLE.values() if status in r.sources and have & r.who
            and (r.pending is None or r.pending in open_requests)]


def decide(action: Action, status: Status, relations: Iterable[Who], given: Iterable[str],
           pending: Iterable[str] = (), approve: bool | None = None, has_unit: bool = True) -> Outcome:
    """The transition ``action`` makes from ``status`` for a caller holding ``relations``.

    ``given`` names the request's non-empty fields; ``pending`` the open requests on the case
    (``extension``, ``hold``). Raises :class:`InvalidTransition`, :class:`NotPermitted` or
    :class:`MissingFields`; state is checked first, so a caller learns what the case allows.
    """
    rule = TABLE[action]
    have = set(relations)
    if status not in rule.sources or (rule.pending is not None and rule.pending not in set(pending)):
        why = f"no {rule.pending} request is pending" if status in rule.sources else f"the case is {status.value}"
        raise InvalidTransition(f"'{action.value}' is not possible: {why}",
                                allowed=allowed_actions(status, have, pending))
    if not have & rule.who:
        raise NotPermitted(f"'{action.value}' needs one of: {', '.join(sorted(w.value for w in rule.who))}")
    missing = sorted(rule.needs - set(given))
    if missing:
        raise MissingFields(f"'{action.value}' needs {', '.join(missing)}", allowed=missing)
    target = rule.target if rule.target is not None else status
    effects = rule.effects
    if not has_unit and rule.unitless_target is not None:
        target = rule.unitless_target
        effects = frozenset(e for e in effects if e is not Effect.restart_clock)
    if rule.pending is not None and approve is False:
        target = rule.denied_target or status
        effects = frozenset()
    return Outcome(rule=rule, from_status=status, to_status=target, effects=effects)
