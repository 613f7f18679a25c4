"""A mock round of the civilised-city field assessment on the running demo service (docs/campaign.md).

Run the service with the demo data (``grid-inspector serve --demo``), then, with the test extras installed:
    .venv/bin/python scripts/campaign_walkthrough.py [--url http://127.0.0.1:8000]
The campaign office samples a market and a bus stop in 中街街道 for a mock round (模拟测评) and opens it; the
grid worker who patrols the street lists the visits on a phone and submits them with real photos (the same
request twice: the retry gets the first answer); the failures become cases dispatched to the responsible
units (the market's parking to the traffic police and its stalls to the city bureau by the items' duties, the
bus stop's queue to the street's unit by ordinary routing); the traffic police fix theirs, the worker's
re-inspection sends it back once, then passes it. Exits 0 when everything went as described.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "tests/data/photos/ianare_exif-samples"
PARKING_PHOTO = PHOTOS / "jpg/hdr/iphone_hdr_NO.jpg"
STALLS_PHOTO = PHOTOS / "jpg/mobile/HMD_Nokia_8.3_5G.jpg"
QUEUE_PHOTO = PHOTOS / "heic/IMG_5195.HEIC"
AFTER_PHOTO = PHOTOS / "jpg/orientation/landscape_6.jpg"
PASSWORDS = {
    "supervisor": "demo-supervisor-2026",
    "worker2": "demo-worker2-2026",
    "jiaojing": "demo-jiaojing-2026",
    "dispatcher": "demo-dispatcher-2026",
}
# What each point's failures are: item -> (the answer, the photo), the rest of the checklist complies.
FAILURES: dict[str, dict[str, tuple[dict[str, Any], Path]]] = {
    "NMSC": {
        "NM-12": ({"result": "noncompliant", "amount": 2, "note": "东门口两辆电动车违停"}, PARKING_PHOTO),
        "NM-13": ({"result": "noncompliant", "amount": 1, "note": "门外一处占道卖菜"}, STALLS_PHOTO),
    },
    "GJXL": {"GJ-09": ({"result": "noncompliant", "note": "早高峰候车无序、拥挤"}, QUEUE_PHOTO)},
}


def results_for(checklist: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[str, Path]]]:
    failing = FAILURES[checklist["code"]]
    results, photos = [], []
    for item in checklist["items"]:
        if item["code"] in failing:
            answer, photo = failing[item["code"]]
            results.append({"item": item["code"], **answer, "photos": [photo.name]})
            photos.append((photo.name, photo))
        elif item["answer_kind"] == "count_min":
            results.append({"item": item["code"], "result": "compliant", "amount": item["threshold"] + 1})
        elif item["answer_kind"] == "problem_count":
            results.append({"item": item["code"], "result": "compliant", "amount": 0})
        else:
            results.append({"item": item["code"], "result": "compliant"})
    return results, photos


def check(r: httpx.Response, what: str) -> Any:
    if r.status_code >= 400:
        print(f"{what}: {r.status_code} {r.text[:500]}", file=sys.stderr)
        r.raise_for_status()
    return r.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    client = httpx.Client(base_url=args.url, timeout=60)
    h = {
        u: {
            "Authorization": "Bearer "
            + check(client.post("/api/v1/auth/token", data={"username": u, "password": p}), u)["access_token"]
        }
        for u, p in PASSWORDS.items()
    }
    street = check(
        client.get("/api/v1/grids", params={"code": "620802002"}, headers=h["supervisor"]), "street"
    )["items"][0]
    round_ = check(
        client.post(
            "/api/v1/campaign/rounds",
            headers=h["supervisor"],
            json={
                "kind": "mock",
                "title": f"模拟测评(走查 {uuid.uuid4().hex[:6]})",
                "period_from": "2026-12-07",
                "period_to": "2026-12-18",
                "grid_id": street["id"],
                "sample": {"NMSC": 1, "GJXL": 1},
                "seed": 2026,
                "pass_mark": 85,
            },
        ),
        "round",
    )
    print(f"round {round_['id']} ({round_['title']}), seed {round_['seed']}, sampled in {street['name']}:")
    for v in round_["visits"]:
        print(
            f"  visit {v['id']}: {v['point']['code']} {v['point']['name']} -> {(v['inspector'] or {}).get('username')}"
        )
    check(
        client.post(
            f"/api/v1/campaign/rounds/{round_['id']}/actions",
            json={"action": "open"},
            headers=h["supervisor"],
        ),
        "open",
    )

    phone = check(
        client.get(
            "/api/v1/campaign/visits", params={"mine": "true", "round": round_["id"]}, headers=h["worker2"]
        ),
        "list",
    )
    opened: dict[str, dict[str, Any]] = {}
    for visit in phone["items"]:
        results, photos = results_for(visit["checklist"])
        files = [("visit", (None, json.dumps({"results": results}, ensure_ascii=False), "application/json"))]
        files += [("photos", (name, path.read_bytes(), "image/jpeg")) for name, path in photos]
        key = {"Idempotency-Key": f"walkthrough-{visit['id']}"}
        answer = check(
            client.post(
                f"/api/v1/campaign/visits/{visit['id']}/submit", files=files, headers={**h["worker2"], **key}
            ),
            "submit",
        )
        retry = client.post(
            f"/api/v1/campaign/visits/{visit['id']}/submit", files=files, headers={**h["worker2"], **key}
        )
        replayed = retry.headers.get("idempotent-replayed") == "true" and retry.json() == answer
        score, rate = answer["score"], answer["compliance"]
        print(
            f"\n{visit['point']['name']}: 得分率 {score['value']} ({score['numerator']:g}/{score['denominator']:g}), "
            f"符合率 {rate['value']} ({rate['numerator']:g}/{rate['denominator']:g}), 达标 {answer['passed']}; "
            f"retry {'replayed' if replayed else 'NOT replayed'}"
        )
        for c in answer["cases"]:
            case = check(client.get(f"/api/v1/reports/{c['id']}", headers=h["dispatcher"]), "case")
            print(
                f"  {c['item']} -> {case['tracking_code']} {case['status']} to {(case['unit'] or {}).get('name')}{' (repeat)' if c['repeat'] else ''}"
            )
            print(f"     why: {case['routing']['explanation']}")
            print(f"     photo flags: {[p['flags'] for p in case['photos']]}")
            opened[c["item"]] = case
        if not replayed:
            return 1

    parking = opened["NM-12"]
    ok = (
        parking["unit"]["name"] == "平凉市公安局交通警察支队崆峒大队"
        and parking["routing"]["rule"] == "duty_item"
    )

    def act(user: str, action: str, photo: Path | None = None, **fields: object) -> dict[str, Any]:
        files = [
            (
                "action",
                (None, json.dumps({"action": action, **fields}, ensure_ascii=False), "application/json"),
            )
        ]
        if photo is not None:
            files.append(("photos", (photo.name, photo.read_bytes(), "image/jpeg")))
        out = check(
            client.post(f"/api/v1/reports/{parking['id']}/actions", files=files, headers=h[user]), action
        )
        print(f"  {user:10} {action:8} -> {out['status']}")
        return out

    print(f"\nrectifying {parking['tracking_code']} (NM-12), re-inspected by the round's inspector:")
    act("jiaojing", "accept")
    act("jiaojing", "resolve", AFTER_PHOTO, note="已劝离违停车辆")
    act("worker2", "rework", AFTER_PHOTO, reason="复查：仍有车辆停在门口")
    act("jiaojing", "resolve", AFTER_PHOTO, note="已设置隔离桩")
    final = act("worker2", "verify", AFTER_PHOTO, note="复查通过，销号")
    history = check(client.get(f"/api/v1/reports/{parking['id']}/events", headers=h["worker2"]), "history")[
        "items"
    ]
    print("history:", " -> ".join(e["action"] for e in history))
    ok = (
        ok
        and final["status"] == "closed"
        and [e["action"] for e in history][-3:] == ["rework", "resolve", "verify"]
    )
    print(
        "\nwalk-through",
        "complete: the failure was fixed and signed off" if ok else "DID NOT follow the expected path",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
