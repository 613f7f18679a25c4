"""The cases the demo must show *now*, written backwards from "now" on the working calendar.

Whenever the demo is loaded, a dispatcher finds requests waiting for a decision and returned cases to
re-dispatch, a supervisor finds red (overdue) and yellow cases and an open veto alert, a grid worker finds
fixed cases to check: each scene below is one such case, with the steps that brought it there. The rest of
the history (app.demo.story) is drawn at random; where these cases stand now holds for any seed and any
"now" (only the places, the minutes and the last three scenes' later steps are drawn).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import replace

from app.demo.plan import (
    CHENGGUAN,
    COUNTIES,
    OPEN311,
    UNIT,
    CasePlan,
    Filing,
    Spot,
    Step,
    Timeline,
    handled,
    near,
    refused,
    street_spot,
)
from app.demo.texts import BY_CODE, COUNTY_REJECT, HOLD_REASONS, RETURNS, URGE_NOTES
from app.workflow.rules import Action as A

EAST, MIDDLE, WEST_ST = "620802001", "620802002", "620802003"  # 东关, 中街, 西郊
Scene = Callable[[random.Random, Timeline], tuple[Filing, list[Step]]]


def _w(rng: random.Random, tl: Timeline, hours: float) -> dt.datetime:
    """``hours`` of working time before now, give or take a few minutes (people do not act on the hour)."""
    return tl.back(hours + rng.uniform(0.0, 0.06))


def _text(code: str, n: int = 0) -> str:
    return BY_CODE[code].worker[n % len(BY_CODE[code].worker)]


def red_vending(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Street vending in 中街 accepted a day and a half ago and never resolved: red, urged."""
    spot = street_spot(rng, MIDDLE)
    filing = Filing(_w(rng, tl, 12), "worker2", "09006", spot, _text("09006"), ("",))
    return filing, [
        Step(_w(rng, tl, 11.6), UNIT, A.accept),
        Step(_w(rng, tl, 4), "supervisor", A.urge, note=URGE_NOTES[0]),
    ]


def red_unaccepted(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Garbage in 东关 dispatched two working days ago that nobody accepted: red, urged."""
    filing = Filing(_w(rng, tl, 16), "worker1", "06010", street_spot(rng, EAST), _text("06010", 1))
    return filing, [Step(_w(rng, tl, 3), "supervisor", A.urge, note=URGE_NOTES[1])]


def red_refused_extension(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Dust from a building site in 西郊 (the housing bureau): its extension was refused, now red."""
    text = "12345热线转办：市民反映" + _text("08004")
    filing = Filing(_w(rng, tl, 20), "dispatcher", "08004", street_spot(rng, WEST_ST), text)
    return filing, [
        Step(_w(rng, tl, 19.5), UNIT, A.accept),
        Step(_w(rng, tl, 17), UNIT, A.request_extension, reason="需协调工地停工整改", hours=8),
        Step(
            _w(rng, tl, 16.6), "dispatcher", A.decide_extension, approve=False, note="理由不充分，请按期处置"
        ),
    ]


def red_manhole(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A missing rain-water manhole cover in 中街 (4 natural hours) accepted over six hours ago: red."""
    at = tl.back(0.5, tl.now - dt.timedelta(hours=6))
    filing = Filing(at, "worker2", "01003", street_spot(rng, MIDDLE), _text("01003"), ("",))
    return filing, [Step(at + dt.timedelta(minutes=20), UNIT, A.accept)]


def red_village(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Illegal small ads on the eastern edge of 东关, where 十里铺村 answers: accepted, left, red."""
    spot = street_spot(rng, EAST, east_edge=True)
    return Filing(_w(rng, tl, 30), "worker1", "07001", spot, _text("07001", 1)), [
        Step(_w(rng, tl, 29), UNIT, A.accept)
    ]


def yellow_parking(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Illegal parking in 中街 (the traffic police, 2 working hours): 85 % used, yellow."""
    filing = Filing(_w(rng, tl, 1.7), "worker2", "09009", street_spot(rng, MIDDLE), _text("09009"))
    return filing, [Step(_w(rng, tl, 1.5), UNIT, A.accept)]


def yellow_citizen(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A citizen's garbage report in 西郊 (the app, Open311) not yet accepted: yellow."""
    spot = street_spot(rng, WEST_ST)
    return Filing(_w(rng, tl, 3.4), OPEN311, "06010", spot, BY_CODE["06010"].citizen[0]), []


def yellow_extended(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A broken road in 东关 given 14 more hours (approved) and still being fixed: yellow."""
    filing = Filing(_w(rng, tl, 30), "worker1", "06013", street_spot(rng, EAST), _text("06013", 1))
    return filing, [
        Step(_w(rng, tl, 29.5), UNIT, A.accept),
        Step(_w(rng, tl, 25), UNIT, A.request_extension, reason="需采购沥青混合料，已设置警示标志", hours=14),
        Step(_w(rng, tl, 24.5), "dispatcher", A.decide_extension, approve=True, note="同意延期"),
    ]


def pending_extension(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Piled rubbish in 中街: the unit asked for a day more 20 minutes ago; the dispatcher decides."""
    filing = Filing(_w(rng, tl, 5), "worker2", "06036", street_spot(rng, MIDDLE), _text("06036", 1), ("",))
    return filing, [
        Step(_w(rng, tl, 4.6), UNIT, A.accept),
        Step(_w(rng, tl, 0.4), UNIT, A.request_extension, reason="需协调清运车辆，申请延期", hours=7),
    ]


def pending_hold(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A street light out in 东关: the unit asks to put it aside (挂账) until the line is rebuilt."""
    filing = Filing(_w(rng, tl, 10), "worker1", "01037", street_spot(rng, EAST), _text("01037"))
    return filing, [
        Step(_w(rng, tl, 9.5), UNIT, A.accept),
        Step(_w(rng, tl, 0.6), UNIT, A.request_hold, reason="整条线路老化需整体改造，申请挂账"),
    ]


def returned_vending(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Street vending sent back by 中街's partner unit (no enforcement powers): waits for a new dispatch."""
    filing = Filing(_w(rng, tl, 1.5), "worker2", "09006", street_spot(rng, MIDDLE), _text("09006", 2))
    return filing, [Step(_w(rng, tl, 0.7), UNIT, A.return_, reason=RETURNS["09006"][0])]


def returned_parking(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Parking inside a residential compound, returned by the traffic police: waits for a new dispatch."""
    filing = Filing(_w(rng, tl, 3), "worker1", "09009", street_spot(rng, EAST), _text("09009", 1))
    return filing, [
        Step(_w(rng, tl, 2.8), UNIT, A.accept),
        Step(_w(rng, tl, 0.3), UNIT, A.return_, reason=RETURNS["09009"][0]),
    ]


def reported_county(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A citizen's report from 泾川县, where no unit is assigned: waits for the dispatcher in reported."""
    name, lat, lon = COUNTIES[0]
    return Filing(
        _w(rng, tl, 2), OPEN311, "06010", Spot(lat, lon, county=name), BY_CODE["06010"].citizen[1]
    ), []


def reported_county_manhole(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    name, lat, lon = COUNTIES[2]
    return Filing(
        _w(rng, tl, 0.3), OPEN311, "01003", Spot(lat, lon, county=name), BY_CODE["01003"].citizen[0]
    ), []


def rejected_county(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    name, lat, lon = COUNTIES[1]
    at = tl.back(0, tl.local(tl.now.astimezone(tl.calendar.tz).date() - dt.timedelta(days=5), 16.2))
    filing = Filing(at, OPEN311, "06013", Spot(lat, lon, county=name), BY_CODE["06013"].citizen[0])
    return filing, [
        Step(tl.after(at, 40 * 60), "dispatcher", A.reject, reason=COUNTY_REJECT.format(county=name))
    ]


def veto(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A veto item (一票否决, 91003 环保事件) filed 80 minutes ago: the supervisors' alert is open; the
    street's partner unit sent it back and the dispatcher gave it to the enforcement bureau."""
    at = tl.now - dt.timedelta(minutes=80)
    text = "河道内发现大量死鱼，疑似有企业偷排污水"
    filing = Filing(at, "worker1", "91003", street_spot(rng, EAST), text, ("",))
    minutes = dt.timedelta(minutes=1)
    return filing, [
        Step(at + 12 * minutes, UNIT, A.return_, reason="环保事件应由生态环境部门牵头处置，请改派"),
        Step(
            at + 18 * minutes,
            "dispatcher",
            A.dispatch,
            unit=CHENGGUAN,
            note="一票否决事项，请城管局会同生态环境部门立即处置",
        ),
        Step(at + 26 * minutes, UNIT, A.accept),
        Step(at + 41 * minutes, "supervisor", A.comment, note="已报告分管领导，请随时报告处置进展"),
    ]


def water_main(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A burst water main in 西郊 (the water company, 2 natural hours) an hour ago: red within the hour."""
    at = tl.now - dt.timedelta(minutes=rng.uniform(62, 70))
    text = "12345热线转办：市民反映" + _text("10004")
    filing = Filing(at, "dispatcher", "10004", street_spot(rng, WEST_ST), text)
    return filing, [Step(at + dt.timedelta(minutes=9), UNIT, A.accept)]


def _held(tl: Timeline, filing: Filing, reason: str) -> tuple[Filing, list[Step]]:
    at = filing.at
    accepted = tl.after(at, 40 * 60)
    asked = tl.after(accepted, 5 * 3600)
    return filing, [
        Step(accepted, UNIT, A.accept),
        Step(asked, UNIT, A.request_hold, reason=reason),
        Step(
            tl.after(asked, 2 * 3600),
            "dispatcher",
            A.decide_hold,
            approve=True,
            note="同意挂账，纳入计划后恢复",
        ),
    ]


def held_road(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    day = tl.now.astimezone(tl.calendar.tz).date() - dt.timedelta(days=25)
    filing = Filing(
        tl.back(0, tl.local(day, 10.0)), "worker2", "06013", street_spot(rng, MIDDLE), _text("06013")
    )
    return _held(tl, filing, HOLD_REASONS[0])


def held_lamp(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    day = tl.now.astimezone(tl.calendar.tz).date() - dt.timedelta(days=12)
    text = "12345热线转办：市民反映" + BY_CODE["01037"].citizen[0]
    filing = Filing(tl.back(0, tl.local(day, 15.0)), "dispatcher", "01037", street_spot(rng, WEST_ST), text)
    return _held(tl, filing, "线路需供电部门整体改造")


def resolved_to_check(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Fixed by the traffic police an hour ago: worker2's on-site check is due."""
    filing = Filing(_w(rng, tl, 2.2), "worker2", "09010", street_spot(rng, MIDDLE), _text("09010"))
    return filing, [
        Step(_w(rng, tl, 2.0), UNIT, A.accept),
        Step(_w(rng, tl, 0.6), UNIT, A.resolve, note=BY_CODE["09010"].done[0], photo=True),
    ]


def self_handled_to_check(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Fixed on the spot by worker1 (自处理): a dispatcher or supervisor checks it."""
    spot = street_spot(rng, EAST)
    return Filing(_w(rng, tl, 1), "worker1", "09006", spot, "已现场劝离占道摊贩", ("",), True), []


def self_handled_reworked(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """Fixed on the spot, but the check found the shop back outside: registered, for a dispatch."""
    spot = street_spot(rng, MIDDLE)
    filing = Filing(_w(rng, tl, 6), "worker2", "09005", spot, "已现场劝导商户收回店外物品", ("",), True)
    return filing, [Step(_w(rng, tl, 2), "dispatcher", A.rework, reason="商户仍在店外经营，需执法部门处理")]


def just_dispatched(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    return Filing(_w(rng, tl, 0.2), OPEN311, "06042", street_spot(rng, EAST), BY_CODE["06042"].citizen[0]), []


def far_photo(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """worker2 attached an old photo from elsewhere (a real camera photo with GPS in Italy): the evidence
    flags show it; the dispatcher asks for a proper one; the case runs its course."""
    day = tl.now.astimezone(tl.calendar.tz).date() - dt.timedelta(days=4)
    at = tl.back(0, tl.local(day, 10.5))
    spot = street_spot(rng, MIDDLE)
    filing = Filing(at, "worker2", "06010", spot, _text("06010", 2), ("DSCN0012.jpg",))
    note = Step(
        tl.after(at, 15 * 60), "dispatcher", A.comment, note="照片定位与上报位置不符，请网格员补充现场照片"
    )
    return filing, [note, *handled(rng, tl, BY_CODE["06010"], spot, at)]


def citizen_photo(rng: random.Random, tl: Timeline) -> tuple[Filing, list[Step]]:
    """A citizen's parking report in 西郊 with a photo without GPS (a real camera file, turned upright)."""
    day = tl.now.astimezone(tl.calendar.tz).date() - dt.timedelta(days=6)
    at = tl.back(0, tl.local(day, 17.0))
    spot = street_spot(rng, WEST_ST)
    filing = Filing(at, OPEN311, "09009", spot, BY_CODE["09009"].citizen[0], ("landscape_3.jpg",))
    return filing, handled(rng, tl, BY_CODE["09009"], spot, at)


def duplicate_pair(rng: random.Random, tl: Timeline) -> list[tuple[Filing, list[Step]]]:
    """Parking reported by worker2 and, 40 minutes later, by a citizen: the second is a duplicate."""
    day = tl.now.astimezone(tl.calendar.tz).date() - dt.timedelta(days=3)
    at = tl.back(0, tl.local(day, 9.4))
    spot = street_spot(rng, MIDDLE)
    first = Filing(at, "worker2", "09009", spot, _text("09009", 2))
    again = at + dt.timedelta(minutes=40)
    second = Filing(again, OPEN311, "09009", near(rng, spot, 15), BY_CODE["09009"].citizen[0])
    return [(first, handled(rng, tl, BY_CODE["09009"], spot, at)), (second, refused(rng, tl, again, "", -1))]


SCENES: tuple[Scene, ...] = (
    red_vending,
    red_unaccepted,
    red_refused_extension,
    red_manhole,
    red_village,
    yellow_parking,
    yellow_citizen,
    yellow_extended,
    pending_extension,
    pending_hold,
    returned_vending,
    returned_parking,
    reported_county,
    reported_county_manhole,
    rejected_county,
    veto,
    water_main,
    held_road,
    held_lamp,
    resolved_to_check,
    self_handled_to_check,
    self_handled_reworked,
    just_dispatched,
    far_photo,
    citizen_photo,
)


def scene_plans(rng: random.Random, tl: Timeline, first_index: int) -> list[CasePlan]:
    """Every scene as a plan, numbered from ``first_index``; the duplicate pair points at its first case."""
    plans = []
    index = first_index
    for scene in SCENES:
        filing, steps = scene(rng, tl)
        plans.append(CasePlan(index, filing, tuple(steps)))
        index += 1
    (first, first_steps), (second, second_steps) = duplicate_pair(rng, tl)
    plans.append(CasePlan(index, first, tuple(first_steps)))
    fixed = [s if s.duplicate_of is None else replace(s, duplicate_of=index) for s in second_steps]
    plans.append(CasePlan(index + 1, second, tuple(fixed)))
    return plans
