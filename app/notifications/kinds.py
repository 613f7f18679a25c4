"""The events the service pushes and whom they concern (docs/notifications.md "Events"). Pure data.

A unit's endpoints hear what asks the unit to act; the command centre's endpoints (no unit) hear what asks a
dispatcher or a supervisor to act. An endpoint that lists no events hears every event of its owner.
"""

from __future__ import annotations

from typing import Literal

Owner = Literal["unit", "command_centre"]

TITLES_ZH: dict[str, str] = {
    "case.dispatched": "新派遣案件",
    "case.resumed": "挂账案件恢复处置",
    "case.urged": "案件督办",
    "case.rework_required": "案件核查未通过，需返工",
    "case.returned": "案件被回退，待重新派遣",
    "case.extension_requested": "延期申请待审批",
    "case.hold_requested": "挂账申请待审批",
    "case.deadline_warning": "案件即将超期",
    "case.overdue": "案件已超期",
    "veto.alert": "一票否决事项预警",
    "campaign.notice": "创文整改通知",
    "campaign.notice_signed_off": "创文整改通知已销号",
    "endpoint.disabled": "推送地址已停用",
    "endpoint.test": "推送测试",
}
EVENT_TYPES = tuple(TITLES_ZH)

# Whom each event asks to act.
FOR_UNIT = frozenset(
    {
        "case.dispatched",
        "case.resumed",
        "case.urged",
        "case.rework_required",
        "case.deadline_warning",
        "case.overdue",
        "campaign.notice",
        "campaign.notice_signed_off",
        "endpoint.test",
    }
)
FOR_COMMAND_CENTRE = frozenset(
    {
        "case.returned",
        "case.extension_requested",
        "case.hold_requested",
        "case.overdue",
        "veto.alert",
        "endpoint.disabled",
        "endpoint.test",
    }
)


def concerns(owner: Owner) -> frozenset[str]:
    """The events an endpoint of ``owner`` may hear."""
    return FOR_UNIT if owner == "unit" else FOR_COMMAND_CENTRE


def hears(owner: Owner, subscribed: list[str], event_type: str) -> bool:
    """Whether an endpoint of ``owner`` subscribed to ``subscribed`` (empty: all of its owner's) hears it."""
    if event_type not in concerns(owner):
        return False
    return not subscribed or event_type in subscribed or event_type == "endpoint.test"
