"""The closed loop as data (docs/domain.md "The case workflow"): one table, one function that reads it.

Each row says which states an action may start from, where it leads, who may take it (as relations
between the caller and the case), which fields it needs, its effects on the deadline clock and the
counters, and whom it asks to act (``announce``: the domain event the action emits, app.workflow.events).
Nothing else in the code base decides a transition: the service's own steps (auto-dispatch at filing,
self-handling, the veto alert) are rows of this table taken by :attr:`Who.system` or the reporter.
Pure: no database, no app; tests read it directly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.cases.models import OPEN_STATUSES, STATUS_LABELS, Status

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
    self_handle = "self_handle"  # 自处理: the reporter fixed it on the spot (at filing only)
    veto_alert = "veto_alert"  # 一票否决: supervisors alerted at filing, before any dispatch


# Names for people in zh-CN (the enum's comments), for refusals.
ACTION_ZH = {
    Action.register: "立案",
    Action.reject: "不予立案",
    Action.dispatch: "派遣",
    Action.accept: "接单",
    Action.return_: "回退",
    Action.resolve: "处置完毕",
    Action.verify: "核查通过",
    Action.rework: "返工",
    Action.request_extension: "申请延期",
    Action.decide_extension: "审批延期",
    Action.request_hold: "申请挂账",
    Action.decide_hold: "审批挂账",
    Action.resume: "恢复处置",
    Action.urge: "督办",
    Action.comment: "备注",
    Action.self_handle: "自处理",
    Action.veto_alert: "一票否决告警",
}
REQUEST_ZH = {"extension": "延期", "hold": "挂账"}


class Who(str, enum.Enum):
    """How a caller relates to a case; a row admits callers holding any of its relations."""

    dispatcher = "dispatcher"
    supervisor = "supervisor"
    admin = "admin"
    unit_staff = "unit_staff"  # staff of the unit the case is dispatched to now
    cell_worker = "cell_worker"  # a grid worker who patrols the case's cell (or a cell above it)
    closer = (
        "closer"  # a dispatcher, for a self-handled case (自处理: "a dispatcher or supervisor closes it")
    )
    viewer = "viewer"  # anyone who can see the case
    reporter = "reporter"  # whoever filed the case, while filing it
    system = "system"  # the service itself (auto-dispatch, alerts)


class Effect(str, enum.Enum):
    start_clock = "start_clock"
    stop_clock = "stop_clock"  # hold
    restart_clock = "restart_clock"  # resume: the remaining time runs again
    extend = "extend"  # an approved extension adds its hours
    count_return = "count_return"  # a mis-dispatch against the routing
    count_rework = "count_rework"  # against the unit
    raise_priority = "raise_priority"
    mark_resolved = "mark_resolved"  # stamp when it was resolved and whether in time
    close = "close"
    clear_unit = "clear_unit"  # back to the dispatchers' queue
    raise_alert = "raise_alert"  # a supervisors' alert row (veto items)


class Audience(str, enum.Enum):
    """Who a domain event asks to act (docs/domain.md "Notifications")."""

    unit = "unit"  # the unit holding the case (or the one it was taken from)
    dispatchers = "dispatchers"  # the command centre's dispatchers
    supervisors = "supervisors"  # the command centre's supervisors


@dataclass(frozen=True)
class Announce:
    """The domain event a row emits: its public name and whom it asks to act."""

    name: str
    audience: Audience


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: frozenset[Status]
    target: Status | None  # None: the case stays where it is
    who: frozenset[Who]
    needs: frozenset[str] = frozenset()  # request fields: reason, unit_id, hours, approve, photos
    effects: frozenset[Effect] = frozenset()
    pending: str | None = None  # decide_*: a request of this kind must be pending
    not_pending: str | None = None  # request_*: refused while the same kind of request waits for a decision
    denied_target: Status | None = None  # decide_*: where a denial leaves the case (None: where it is)
    unitless_target: Status | None = None  # where it leads when the case has no unit (a self-handled case)
    announce: Announce | None = None
    public: bool = True  # False: the service takes it while filing; POST .../actions refuses it


def _row(
    action: Action,
    sources: Iterable[Status],
    target: Status | None,
    who: Iterable[Who],
    needs: Iterable[str] = (),
    effects: Iterable[Effect] = (),
    *,
    pending: str | None = None,
    not_pending: str | None = None,
    unitless_target: Status | None = None,
    announce: tuple[str, Audience] | None = None,
    public: bool = True,
) -> Rule:
    return Rule(
        action,
        frozenset(sources),
        target,
        frozenset(who),
        frozenset(needs),
        frozenset(effects),
        pending=pending,
        not_pending=not_pending,
        unitless_target=unitless_target,
        announce=Announce(*announce) if announce else None,
        public=public,
    )


E, A = Effect, Audience
DISPATCH = (Who.dispatcher, Who.admin)
HANDLING = (S.dispatched, S.in_progress)
CHECKERS = (Who.cell_worker, Who.supervisor, Who.admin, Who.closer)
TO_UNIT, TO_DISPATCHERS = A.unit, A.dispatchers

TABLE: dict[Action, Rule] = {
    r.action: r
    for r in (
        _row(Action.register, [S.reported], S.registered, [*DISPATCH, Who.system]),
        _row(Action.reject, [S.reported, S.registered], S.rejected, DISPATCH, ["reason"], [E.close]),
        _row(
            Action.dispatch,
            [S.registered],
            S.dispatched,
            [*DISPATCH, Who.system],
            effects=[E.start_clock],
            announce=("case.dispatched", TO_UNIT),
        ),
        _row(Action.accept, [S.dispatched], S.in_progress, [Who.unit_staff]),
        _row(
            Action.return_,
            HANDLING,
            S.registered,
            [Who.unit_staff],
            ["reason"],
            [E.count_return, E.clear_unit, E.stop_clock],
            announce=("case.returned", TO_DISPATCHERS),
        ),
        _row(
            Action.resolve, [S.in_progress], S.resolved, [Who.unit_staff], [], [E.stop_clock, E.mark_resolved]
        ),
        _row(Action.verify, [S.resolved], S.closed, CHECKERS, [], [E.close]),
        # A failed check sends the case back to its unit; a self-handled case has none, so it goes to the
        # dispatchers' queue instead (its clock starts when it is dispatched).
        _row(
            Action.rework,
            [S.resolved],
            S.in_progress,
            CHECKERS,
            ["reason"],
            [E.count_rework, E.restart_clock],
            unitless_target=S.registered,
            announce=("case.rework_required", TO_UNIT),
        ),
        _row(
            Action.request_extension,
            HANDLING,
            None,
            [Who.unit_staff],
            ["reason", "hours"],
            not_pending="extension",
            announce=("case.extension_requested", TO_DISPATCHERS),
        ),
        _row(Action.decide_extension, HANDLING, None, DISPATCH, ["approve"], [E.extend], pending="extension"),
        _row(
            Action.request_hold,
            HANDLING,
            None,
            [Who.unit_staff],
            ["reason"],
            not_pending="hold",
            announce=("case.hold_requested", TO_DISPATCHERS),
        ),
        _row(Action.decide_hold, HANDLING, S.on_hold, DISPATCH, ["approve"], [E.stop_clock], pending="hold"),
        _row(
            Action.resume,
            [S.on_hold],
            S.dispatched,
            DISPATCH,
            effects=[E.restart_clock],
            announce=("case.resumed", TO_UNIT),
        ),
        _row(
            Action.urge,
            OPEN_STATUSES,
            None,
            [Who.supervisor, Who.admin],
            ["note"],
            [E.raise_priority],
            announce=("case.urged", TO_UNIT),
        ),
        _row(Action.comment, list(Status), None, [Who.viewer], ["note"]),
        _row(
            Action.self_handle, [S.reported], S.resolved, [Who.reporter], [], [E.mark_resolved], public=False
        ),
        _row(
            Action.veto_alert,
            OPEN_STATUSES,
            None,
            [Who.system],
            effects=[E.raise_alert],
            announce=("veto.alert", A.supervisors),
            public=False,
        ),
    )
}
PUBLIC_ACTIONS = tuple(a for a, r in TABLE.items() if r.public)


WHO_ZH = {
    Who.dispatcher: "派遣员",
    Who.supervisor: "监督员",
    Who.admin: "管理员",
    Who.unit_staff: "承办单位人员",
    Who.cell_worker: "本网格网格员",
    Who.closer: "自处理案件的派遣员",
    Who.viewer: "可查看案件者",
    Who.reporter: "上报人",
    Who.system: "系统",
}


class TransitionError(Exception):
    """A refused transition: ``str()`` is the English message, ``zh`` the same in zh-CN."""

    def __init__(self, message: str, *, zh: str = "", allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.zh = zh or message
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


def allowed_actions(
    status: Status, relations: Iterable[Who] = tuple(Who), pending: Iterable[str] = ("extension", "hold")
) -> list[str]:
    """Public actions a caller holding ``relations`` may take on a case in ``status``, in table order."""
    have, open_requests = set(relations), set(pending)
    return [
        r.action.value
        for r in TABLE.values()
        if r.public
        and status in r.sources
        and have & r.who
        and (r.pending is None or r.pending in open_requests)
        and (r.not_pending is None or r.not_pending not in open_requests)
    ]


def decide(
    action: Action,
    status: Status,
    relations: Iterable[Who],
    given: Iterable[str],
    pending: Iterable[str] = (),
    approve: bool | None = None,
    has_unit: bool = True,
) -> Outcome:
    """The transition ``action`` makes from ``status`` for a caller holding ``relations``.

    ``given`` names the request's non-empty fields; ``pending`` the open requests on the case
    (``extension``, ``hold``). Raises :class:`InvalidTransition`, :class:`NotPermitted` or
    :class:`MissingFields`; state is checked first, so a caller learns what the case allows.
    """
    rule = TABLE[action]
    have = set(relations)
    waiting = set(pending)
    why = why_zh = ""
    if status not in rule.sources:
        why, why_zh = f"the case is {status.value}", f"案件当前为“{STATUS_LABELS[status][0]}”"
    elif rule.pending is not None and rule.pending not in waiting:
        why = f"no {rule.pending} request is pending"
        why_zh = f"没有待审批的{REQUEST_ZH[rule.pending]}申请"
    elif rule.not_pending is not None and rule.not_pending in waiting:
        why = f"a {rule.not_pending} request already waits for a decision"
        why_zh = f"已有{REQUEST_ZH[rule.not_pending]}申请在等待审批"
    named = f"“{ACTION_ZH[action]}”({action.value})"
    if why:
        raise InvalidTransition(
            f"'{action.value}' is not possible: {why}",
            zh=f"无法{named}：{why_zh}",
            allowed=allowed_actions(status, have, pending),
        )
    if not have & rule.who:
        who = sorted(rule.who, key=lambda w: w.value)
        raise NotPermitted(
            f"'{action.value}' needs one of: {', '.join(w.value for w in who)}",
            zh=f"{named}只能由以下人员执行：{'、'.join(WHO_ZH[w] for w in who)}",
        )
    missing = sorted(rule.needs - set(given))
    if missing:
        raise MissingFields(
            f"'{action.value}' needs {', '.join(missing)}",
            zh=f"{named}需要 {', '.join(missing)}",
            allowed=missing,
        )
    target = rule.target if rule.target is not None else status
    effects = rule.effects
    if not has_unit and rule.unitless_target is not None:
        target = rule.unitless_target
        effects = frozenset(e for e in effects if e is not Effect.restart_clock)
    if rule.pending is not None and approve is False:
        target = rule.denied_target or status
        effects = frozenset()
    return Outcome(rule=rule, from_status=status, to_status=target, effects=effects)
