"""The whole demo history as a plan: the bulk of ordinary cases of the last 90 days, and the scenes.

:func:`plan_history` is pure and deterministic: the same seed, "now", calendar and catalogue limits give
the same plans. Proportions follow what a district command centre sees: most cases are grid workers'
reports of garbage, street vending, parking and small ads, closed within their limit; a few are late,
returned, extended, held, reworked, fixed on the spot, reported twice, or come from a citizen's app in a
neighbouring county (docs/domain.md "The case workflow").
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping

from app.deadlines.calendar import WorkCalendar
from app.demo.plan import (
    COUNTIES,
    DAYS,
    OPEN311,
    SUBURBS,
    WORKER_OF_STREET,
    CasePlan,
    Filing,
    Life,
    Limit,
    Spot,
    Timeline,
    handled,
    near,
    refused,
    self_handled,
    street_spot,
)
from app.demo.scenes import scene_plans
from app.demo.texts import COUNTY_REJECT, KINDS, NOT_A_CASE, SELF_HANDLED, Kind
from app.workflow.rules import Action


def pick_kind(rng: random.Random, month: int, citizen: bool = False) -> Kind:
    kinds = [k for k in KINDS if (not k.months or month in k.months) and (k.citizen or not citizen)]
    return rng.choices(kinds, weights=[k.weight for k in kinds])[0]


def filing_day(rng: random.Random, tl: Timeline) -> dt.date:
    """A day of the last :data:`DAYS`, more of them recent, fewer on weekends and holidays."""
    today = tl.now.astimezone(tl.calendar.tz).date()
    days = [today - dt.timedelta(days=DAYS - i) for i in range(DAYS + 1)]
    weights = [
        (0.5 + 1.5 * i / DAYS) * (1.0 if tl.calendar.is_workday(d) else 0.35) for i, d in enumerate(days)
    ]
    return rng.choices(days, weights=weights)[0]


def filing_hour(rng: random.Random, evening: bool = False) -> float:
    """Mostly 8:00-18:00 Beijing time, some evenings (night markets, barbecues), a few early mornings."""
    if evening or rng.random() < 0.08:
        return rng.uniform(18.5, 21.5)
    return rng.uniform(6.5, 8.0) if rng.random() < 0.05 else rng.uniform(8.0, 18.0)


def reporter_for(rng: random.Random, spot: Spot, kind: Kind) -> tuple[str, str]:
    """Who files in this place and what they write: the street's grid worker mostly, citizens through the
    app (Open311), the hotline (12345) through the dispatcher, a supervisor on patrol."""
    worker = WORKER_OF_STREET.get(spot.street or "")
    draw = rng.random()
    if worker and draw < 0.78:
        return worker, rng.choice(kind.worker)
    if kind.citizen and draw < (0.88 if worker else 0.5):
        return OPEN311, rng.choice(kind.citizen)
    if draw < (0.95 if worker else 0.8):
        return "dispatcher", "12345热线转办：市民反映" + rng.choice(kind.citizen or kind.worker)
    return "supervisor", "督查巡查发现：" + rng.choice(kind.worker)


def ordinary(rng: random.Random, tl: Timeline, index: int) -> list[CasePlan]:
    """One case of the bulk of the history (and the second report of it, now and then)."""
    day = filing_day(rng, tl)
    draw = rng.random()
    if draw < 0.04:  # a citizen in a neighbouring county: no unit there, the dispatcher turns it away
        county, lat, lon = rng.choice(COUNTIES)
        kind = pick_kind(rng, day.month, citizen=True)
        at = tl.local(day, rng.uniform(7.5, 21.5))
        filing = Filing(at, OPEN311, kind.code, Spot(lat, lon, county=county), rng.choice(kind.citizen))
        life = Life(rng, tl, at, False)
        life.wait(20, 240)
        life.add("dispatcher", Action.reject, reason=COUNTY_REJECT.format(county=county))
        return [CasePlan(index, filing, tuple(life.steps))]
    spot = Spot(*rng.choice(SUBURBS)) if draw < 0.08 else street_spot(rng, east_edge=rng.random() < 0.15)
    kind = pick_kind(rng, day.month)
    reporter, text = reporter_for(rng, spot, kind)
    at = tl.local(day, filing_hour(rng, evening=kind.code in ("06029", "06028")))
    photos = ("",) if rng.random() < (0.25 if reporter.startswith("worker") else 0.1) else ()
    if reporter.startswith("worker") and kind.code in SELF_HANDLED and rng.random() < 0.25:
        filing = Filing(at, reporter, kind.code, spot, SELF_HANDLED[kind.code], ("",), True)
        return [CasePlan(index, filing, tuple(self_handled(rng, tl, kind, at)))]
    filing = Filing(at, reporter, kind.code, spot, text, photos)
    if spot.street is not None and rng.random() < 0.02:
        return [CasePlan(index, filing, tuple(refused(rng, tl, at, NOT_A_CASE, None)))]
    out = [
        CasePlan(
            index,
            filing,
            tuple(handled(rng, tl, kind, spot, at, returned=spot.street is not None and rng.random() < 0.05)),
        )
    ]
    if spot.street is not None and rng.random() < 0.03:  # somebody else reports the same thing soon after
        again = tl.after(at, rng.uniform(20, 180) * 60, True)
        who, said = (
            (OPEN311, rng.choice(kind.citizen))
            if kind.citizen
            else ("dispatcher", "12345热线转办：市民反映" + kind.worker[0])
        )
        second = Filing(again, who, kind.code, near(rng, spot, 20), said)
        out.append(CasePlan(index + 1, second, tuple(refused(rng, tl, again, "", index))))
    return out


def plan_history(
    seed: int, now: dt.datetime, calendar: WorkCalendar, limits: Mapping[str, Limit], cases: int
) -> list[CasePlan]:
    """About ``cases`` ordinary cases filed over the last :data:`DAYS` days before ``now``, then the scenes;
    steps that would come after ``now`` are left out (they have not happened yet)."""
    rng = random.Random(seed)
    tl = Timeline(calendar, now, limits)
    cutoff = now - dt.timedelta(minutes=1)
    plans: list[CasePlan] = []
    index = 0
    while index < cases:
        drawn = ordinary(rng, tl, index)
        index += len(drawn)
        plans += [p for p in drawn if p.filing.at < cutoff]
    # The scenes draw from their own generator: the same whatever the number of ordinary cases.
    plans += scene_plans(random.Random(f"scenes-{seed}"), tl, index)
    return [
        CasePlan(p.index, p.filing, tuple(s for s in p.steps if s.at < cutoff))
        for p in sorted(plans, key=lambda p: (p.filing.at, p.index))
    ]
