"""The closed loop on the running demo service, as the people in it would do it.

Run the service (README's first command), then, with the test extras installed:
    .venv/bin/python scripts/demo_walkthrough.py [--url http://127.0.0.1:8000]
A grid worker files a photo report in 崆峒区; it is dispatched to the traffic police; they return it
("not ours"); the dispatcher re-dispatches to the urban management bureau, which accepts, asks for an
extension (approved) and resolves with an after-photo; the worker's on-site check fails (rework); the
unit resolves again; the check passes and the case closes. The history is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BEFORE = ROOT / "tests/data/photos/ianare_exif-samples/jpg/hdr/iphone_hdr_NO.jpg"
AFTER = ROOT / "tests/data/photos/ianare_exif-samples/jpg/orientation/landscape_6.jpg"
PASSWORDS = {
    "worker2": "demo-worker2-2026",
    "dispatcher": "demo-dispatcher-2026",
    "jiaojing": "demo-jiaojing-2026",
    "chengguan": "demo-chengguan-2026",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    client = httpx.Client(base_url=args.url, timeout=30)
    tokens = {
        u: client.post("/api/v1/auth/token", data={"username": u, "password": p}).json()["access_token"]
        for u, p in PASSWORDS.items()
    }
    h = {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    units = {u["name"]: u["id"] for u in client.get("/api/v1/units", headers=h["dispatcher"]).json()["items"]}

    report = {"category_code": "09009", "description": "机动车占用人行道", "lat": 35.5428, "lon": 106.6652}
    r = client.post(
        "/api/v1/reports",
        headers=h["worker2"],
        files=[
            ("report", (None, json.dumps(report, ensure_ascii=False), "application/json")),
            ("photos", (BEFORE.name, BEFORE.read_bytes(), "image/jpeg")),
        ],
    )
    r.raise_for_status()
    case = r.json()
    print(f"filed {case['tracking_code']}: {case['status']} to {case['unit']['name']}, due {case['due_at']}")
    print(f"  why: {case['routing']['explanation']}")
    print(f"  photo flags: {case['photos'][0]['flags']}")

    def act(user: str, action: str, photo: Path | None = None, **fields: object) -> dict:
        body = json.dumps({"action": action, **fields}, ensure_ascii=False)
        url = f"/api/v1/reports/{case['id']}/actions"
        if photo:
            r = client.post(
                url,
                headers=h[user],
                files=[
                    ("action", (None, body, "application/json")),
                    ("photos", (photo.name, photo.read_bytes(), "image/jpeg")),
                ],
            )
        else:
            r = client.post(
                url, headers={**h[user], "Content-Type": "application/json"}, content=body.encode()
            )
        if r.status_code != 200:
            print(f"{user} {action}: {r.status_code} {r.text}", file=sys.stderr)
            r.raise_for_status()
        out = r.json()
        print(f"{user:10} {action:18} -> {out['status']:12} due {out['due_at']}  light {out['light']}")
        return out

    act("jiaojing", "return", reason="该路段停车由城管负责")
    act("dispatcher", "dispatch", unit_id=units["崆峒区城市管理综合执法局"], note="改派城管")
    act("chengguan", "accept")
    act("chengguan", "request_extension", reason="需联系车主", hours=4)
    act("dispatcher", "decide_extension", approve=True)
    act("chengguan", "resolve", photo=AFTER, note="车辆已移走")
    act("worker2", "rework", reason="车辆又停回来了", photo=AFTER)
    act("chengguan", "resolve", photo=AFTER, note="已加装隔离桩")
    act("worker2", "verify", note="核查通过", photo=AFTER)

    history = client.get(f"/api/v1/reports/{case['id']}/events", headers=h["worker2"]).json()["items"]
    print("\nhistory:")
    for e in history:
        who = e["actor"]["username"] or e["actor"]["kind"]
        print(
            f"  {e['created_at'][:19]}  {who:10} {e['action']:18} {e['from_status'] or '':12} -> "
            f"{e['to_status'] or '':12} {e['reason'] or e['note'] or ''}"[:160]
        )
    expected = [
        "report",
        "register",
        "dispatch",
        "return",
        "dispatch",
        "accept",
        "request_extension",
        "decide_extension",
        "resolve",
        "rework",
        "resolve",
        "verify",
    ]
    ok = [e["action"] for e in history] == expected and history[-1]["to_status"] == "closed"
    print("\nwalk-through", "complete: the case is closed" if ok else "DID NOT follow the expected path")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
