"""Scores of a round against hand-computed figures (tests/support/campaign_scores.py): weights, not-applicable
items, ``count_min`` and ``problem_count`` items, an unable visit, the pass mark; rectification and
recurrence following the cases; the trend over published rounds; the items that fail most; and a property:
group figures equal a pure-Python recomputation over random answers."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app.campaign.models import Item, Result
from app.campaign.scores import Answer, figures
from tests.support.campaign import IN_ZHONGJIE, IPHONE, make_round, open_round, submit
from tests.support.campaign_scores import (
    JIAOJING,
    M2_SCORE,
    SHANGWU,
    answers,
    fail,
    import_weighted,
    point,
    publish,
    scored_round,
)
from tests.support.photos import jpeg_at

SCORES = "/api/v1/campaign/scores"


def f(numerator: float, denominator: float, value: float | None) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator, "value": value}


async def _scores(client, world, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(SCORES, params=params, headers=world.headers("dispatcher"))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _by_name(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["subject"]["name"]: g for g in found["groups"]}


async def _close(client, world, case_id: int, unit_user: str = "jiaojing") -> None:  # type: ignore[no-untyped-def]
    after = jpeg_at(35.5431, 106.6655)
    for user, action, photo, fields in (
        (unit_user, "accept", None, {}),
        (unit_user, "resolve", after, {"note": "已整改"}),
        ("supervisor", "verify", None, {"note": "复查通过"}),
    ):
        files: list[tuple[str, Any]] = [
            ("action", (None, json.dumps({"action": action, **fields}), "application/json"))
        ]
        if photo is not None:
            files.append(("photos", ("p.jpg", photo, "image/jpeg")))
        r = await client.post(f"/api/v1/reports/{case_id}/actions", files=files, headers=world.headers(user))
        assert r.status_code == 200, (action, r.text)


async def test_scores_match_the_hand_computed_round(client, world) -> None:  # type: ignore[no-untyped-def]
    made = await scored_round(client, world)
    rid = made["round"]
    by_unit = await _scores(client, world, round=rid, group_by="unit")
    assert by_unit["rounds"] == [rid] and by_unit["group_by"] == "unit"
    assert set(by_unit["definitions"]) == {
        "score",
        "compliance",
        "passed",
        "rectified",
        "rectified_on_time",
        "recurrence",
    }
    assert all({"zh", "en", "formula"} <= set(d) for d in by_unit["definitions"].values())
    # Sorted by score: 商务局 (94.12) before 交警 (87.5).
    assert [g["subject"]["name"] for g in by_unit["groups"]] == [SHANGWU, JIAOJING]
    jiaojing, shangwu = _by_name(by_unit)[JIAOJING], _by_name(by_unit)[SHANGWU]
    assert jiaojing["subject"] == {
        "kind": "unit",
        "id": world.units[JIAOJING],
        "code": None,
        "name": JIAOJING,
    }
    assert jiaojing["points"] == 2  # S-G2 was unable: not scored
    assert jiaojing["score"] == f(175.0, 2, 87.5)  # (75 + 100) / 2: the mean of the points' scores
    assert jiaojing["compliance"] == f(21, 23, round(21 / 23, 4))  # (12 + 9) / (14 + 9): pooled
    assert jiaojing["passed"] == f(1, 2, 0.5)  # S-M1 (75) is below the pass mark 85
    assert jiaojing["rectified"] == f(0, 2, 0.0)  # two failures at S-M1, no case closed yet
    assert jiaojing["rectified_on_time"] == f(0, 0, None)  # nothing due yet
    assert jiaojing["recurrence"] == f(0, 2, 0.0)
    assert shangwu["score"] == f(round(M2_SCORE, 6), 1, round(M2_SCORE, 2))  # 16/17: NM-15 had 2 problems
    assert shangwu["compliance"] == f(14, 15, round(14 / 15, 4))
    assert shangwu["passed"] == f(1, 1, 1.0)  # an item failed, but 94.12 reaches the pass mark
    total = by_unit["total"]
    assert total["score"] == f(round(175 + M2_SCORE, 6), 3, round((175 + M2_SCORE) / 3, 2))
    assert total["compliance"] == f(35, 38, round(35 / 38, 4))
    assert total["passed"] == f(2, 3, round(2 / 3, 4))
    assert total["rectified"] == f(0, 3, 0.0)

    streets = await _scores(client, world, round=rid, group_by="grid")
    assert [(g["subject"]["code"], g["points"], g["score"]["value"]) for g in streets["groups"]] == [
        ("620802001", 1, round(M2_SCORE, 2)),  # 东关
        ("620802002", 2, 87.5),  # 中街
    ]
    assert streets["total"] == total
    types = await _scores(client, world, round=rid, group_by="point_type")
    assert [(g["subject"]["code"], g["points"], g["score"]["value"]) for g in types["groups"]] == [
        ("GJXL", 1, 100.0),
        ("NMSC", 2, round((75 + M2_SCORE) / 2, 2)),
    ]
    assert types["groups"][1]["compliance"] == f(26, 29, round(26 / 29, 4))
    points = await _scores(client, world, round=rid, group_by="point")
    assert [
        (g["subject"]["code"], g["score"]["value"], g["compliance"]["value"]) for g in points["groups"]
    ] == [
        ("S-G1", 100.0, 1.0),
        ("S-M2", round(M2_SCORE, 2), round(14 / 15, 4)),
        ("S-M1", 75.0, round(12 / 14, 4)),  # 12 of 16 weight: NM-03 weighs 3, NM-14 not applicable
    ]
    assert points["groups"][2]["passed"] == f(0, 1, 0.0)

    failing = (
        await client.get(f"{SCORES}/items", params={"round": rid}, headers=world.headers("supervisor"))
    ).json()["items"]
    assert [(i["point_type"], i["item"]["code"], i["weight_lost"], i["failures"]) for i in failing] == [
        ("NMSC", "NM-03", 3.0, f(1, 2, 0.5)),  # the heaviest loss first
        ("NMSC", "NM-01", 1.0, f(1, 2, 0.5)),
        ("NMSC", "NM-15", 1.0, f(1, 2, 0.5)),
    ]
    only = await client.get(
        f"{SCORES}/items", params={"round": rid, "point_type": "GJXL"}, headers=world.headers("supervisor")
    )
    assert only.json() == {"items": []}


async def test_rectification_stays_live_and_recurrence_counts_a_failure_after_closing(client, world) -> None:  # type: ignore[no-untyped-def]
    made = await scored_round(client, world)
    rid = made["round"]
    await publish(client, world, rid)
    await _close(client, world, made["cases"]["S-M1 NM-01"])
    # Published, yet rectification follows the cases: fixing is what happens after publishing.
    total = (await _scores(client, world, round=rid, group_by="unit"))["total"]
    assert total["rectified"] == f(1, 3, round(1 / 3, 4))
    assert total["rectified_on_time"] == f(1, 1, 1.0)
    assert total["recurrence"] == f(0, 3, 0.0)
    # NM-01 fails again at S-M1 in a later round, within 30 days of its case's closing: a recurrence.
    later = await make_round(
        client,
        world,
        title="复查",
        period_from="2026-12-19",
        period_to="2026-12-25",
        points=[made["points"]["S-M1"]],
        inspector_id=world.users["supervisor"][0],
    )
    await open_round(client, world, later["id"])
    visit = {"results": answers(made["data"], "NMSC", NM_01=fail("a.jpg", amount=0))}
    r = await submit(
        client, world, "supervisor", later["visits"][0]["id"], visit, [("a.jpg", IPHONE.read_bytes())]
    )
    assert r.status_code == 200, r.text
    again = (await _scores(client, world, round=later["id"], group_by="point"))["total"]
    assert again["recurrence"] == f(1, 1, 1.0)
    assert again["score"] == f(round(100 * 16 / 17, 6), 1, round(100 * 16 / 17, 2))
    await publish(client, world, later["id"])
    # A period selects the published rounds that lie inside it; the trend lists them in period order.
    both = await _scores(client, world, period_from="2026-12-01", period_to="2026-12-31", group_by="unit")
    assert both["rounds"] == sorted([rid, later["id"]])
    assert both["total"]["score"]["denominator"] == 4
    first_only = await _scores(
        client, world, period_from="2026-12-01", period_to="2026-12-18", group_by="unit"
    )
    assert first_only["rounds"] == [rid]
    trend = (
        await client.get(
            f"{SCORES}/trend",
            params={"group_by": "point", "subject": "S-M1"},
            headers=world.headers("supervisor"),
        )
    ).json()["points"]
    assert [(p["round"]["id"], p["score"]["value"], p["recurrence"]["value"]) for p in trend] == [
        (rid, 75.0, 0.0),
        (later["id"], round(100 * 16 / 17, 2), 1.0),
    ]
    totals = (await client.get(f"{SCORES}/trend", headers=world.headers("supervisor"))).json()["points"]
    assert [p["score"]["denominator"] for p in totals] == [3, 1]


async def test_bad_selections_are_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("supervisor")
    for params, status, code in (
        ({}, 422, "validation_error"),
        ({"round": 1, "period_from": "2026-12-01"}, 422, "validation_error"),
        ({"round": 99999}, 404, "not_found"),
        ({"round": 1, "group": "unit"}, 422, "unsupported_filter"),
        ({"period_from": "2026-12-01", "period_to": "2026-09-01"}, 422, "invalid_period"),  # a newcomer's
        ({"round": 1, "group_by": "nothing"}, 422, "validation_error"),
    ):
        r = await client.get(SCORES, params=params, headers=h)
        assert (r.status_code, r.json()["code"]) == (status, code), (params, r.text)
    assert (
        await client.get(SCORES, params={"round": 1}, headers=world.headers("worker2"))
    ).status_code == 403


_COUNTER = itertools.count()
OUTCOMES = st.sampled_from(["compliant", "noncompliant", "not_applicable"])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    visits=st.lists(
        st.tuples(st.sampled_from([0, 1]), st.lists(OUTCOMES, min_size=15, max_size=15)),
        min_size=1,
        max_size=5,
    )
)
async def test_group_figures_equal_a_recomputation(client, world, session, visits) -> None:  # type: ignore[no-untyped-def]
    """Random answers written as submission writes them (the visit's parts, one result per item): the SQL
    figures per unit equal the mean, pooled and counted figures computed here."""
    n = next(_COUNTER)
    if not (await session.execute(select(Item.id).limit(1))).first():
        await import_weighted(client, world)
    units = [world.units[JIAOJING], world.units[SHANGWU]]
    ids = [
        await point(
            client,
            world,
            f"H{n}-{i}",
            "NMSC",
            (IN_ZHONGJIE[0] + i * 0.0001, IN_ZHONGJIE[1]),
            [JIAOJING, SHANGWU][u],
        )
        for i, (u, _) in enumerate(visits)
    ]
    round_ = await make_round(
        client, world, points=ids, inspector_id=world.users["supervisor"][0], pass_mark=85
    )
    items = (
        await session.execute(
            text(
                "SELECT i.id, i.code, i.weight, i.answer_kind, i.threshold FROM campaign_items i "
                "JOIN campaign_point_types t ON t.id = i.point_type_id WHERE t.code = 'NMSC' AND NOT i.retired "
                "ORDER BY i.code"
            )
        )
    ).all()
    expected: dict[int, list[Any]] = {}
    by_point = {v["point"]["id"]: v["id"] for v in round_["visits"]}
    for point_id, (u, outcomes) in zip(ids, visits, strict=True):
        given_answers = [
            Answer(kind, thr, w, o, None) for (_, _, w, kind, thr), o in zip(items, outcomes, strict=False)
        ]
        parts = figures(given_answers)
        await session.execute(
            text(
                "UPDATE campaign_visits SET status = 'submitted', score_num = :sn, score_den = :sd, "
                "rate_num = :rn, rate_den = :rd, submitted_at = CURRENT_TIMESTAMP WHERE id = :id"
            ),
            {
                "sn": parts.score_num,
                "sd": parts.score_den,
                "rn": parts.rate_num,
                "rd": parts.rate_den,
                "id": by_point[point_id],
            },
        )
        for (item_id, code, weight, kind, threshold), outcome in zip(items, outcomes, strict=False):
            session.add(
                Result(
                    visit_id=by_point[point_id],
                    round_id=round_["id"],
                    item_id=item_id,
                    item_code=code,
                    item_text=code,
                    answer_kind=kind,
                    threshold=threshold,
                    weight=weight,
                    result=outcome,
                    amount=None,
                    photos=[],
                )
            )
        expected.setdefault(units[u], []).append((parts, outcomes.count("noncompliant")))
    await session.commit()
    found = {
        g["subject"]["id"]: g
        for g in (await _scores(client, world, round=round_["id"], group_by="unit"))["groups"]
    }
    for unit_id, rows in expected.items():
        scored = [(p, fails) for p, fails in rows if p.score_den > 0]
        if not scored:
            assert unit_id not in found or found[unit_id]["points"] == 0
            continue
        group = found[unit_id]
        sum_scores = sum(100 * p.score_num / p.score_den for p, _ in scored)
        assert group["points"] == len(scored)
        assert abs(group["score"]["numerator"] - sum_scores) < 1e-6
        assert group["score"]["value"] == round(sum_scores / len(scored), 2)
        assert group["compliance"]["numerator"] == sum(p.rate_num for p, _ in scored)
        assert group["compliance"]["denominator"] == sum(p.rate_den for p, _ in scored)
        assert group["passed"]["numerator"] == sum(1 for p, _ in scored if p.passed(85))
        assert group["rectified"]["denominator"] == sum(fails for _, fails in scored)
