"""Telling units (issue 16): signed webhooks and work-chat bots, delivered from an outbox by the worker, against
real HTTP receivers on 127.0.0.1 (allowed through GRID_NOTIFY_ALLOW_NETWORKS)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.notifications import worker
from tests.support.receivers import Receiver
from tests.support.reports import CENTRE

# The address travels in the payload (as the place): Chinese, an emoji, quotes and a backslash.
PARKING = {
    "category_code": "09009",
    "description": "机动车占用人行道",
    "address": '中山街 🚗 "口" \\ 北段',
    **CENTRE,
}
JIAOJING = "平凉市公安局交通警察支队崆峒大队"


@pytest.fixture
def notify(settings):  # type: ignore[no-untyped-def]
    settings.notify.notify_allow_networks = ["127.0.0.0/8"]
    settings.notify.notify_retry_s = [0, 0, 0, 0, 0]
    return settings


async def add(client, world, **body) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/notifications/endpoints", json=body, headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    return r.json()


async def deliver(app, settings, rounds: int = 1) -> int:  # type: ignore[no-untyped-def]
    sent = 0
    async with worker.http_client(settings) as http:
        for _ in range(rounds):
            sent += await worker.deliver_once(app.state.db, settings, http, "test-worker")
    return sent


async def dispatch(client, world) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))
    assert r.status_code == 201 and r.json()["status"] == "dispatched"
    return r.json()


async def test_a_dispatch_reaches_the_units_webhook_signed_over_the_raw_bytes(
    client, world, app, notify
) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(200, {}, {})]) as hook:
        endpoint = await add(
            client, world, kind="webhook", unit_id=world.units[JIAOJING], url=hook.url + "/grid"
        )
        assert endpoint["secret"].startswith("whsec_") and endpoint["target"].startswith(hook.url)
        case = await dispatch(client, world)
        assert await deliver(app, notify) == 1
        [got] = hook.received
        payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)  # raises when it does not verify
        assert payload["type"] == "case.dispatched" and payload["data"]["case"]["id"] == case["id"]
        assert payload["data"]["unit"]["name"] == JIAOJING and payload["data"]["light"] == "green"
        assert payload["data"]["case"]["place"] == PARKING["address"]
        assert (
            "contact" not in str(payload)
            and "photos" not in str(payload)
            and "机动车占用" not in str(payload)
        )
        with pytest.raises(WebhookVerificationError):
            Webhook(endpoint["secret"]).verify(got.body + b" ", got.headers)


async def test_two_failures_then_success_carry_one_webhook_id(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(500, {}, {}), (503, {}, {"retry-after": "0"}), (204, b"", {})]) as hook:
        await add(client, world, kind="webhook", unit_id=world.units[JIAOJING], url=hook.url)
        case = await dispatch(client, world)
        await deliver(app, notify, rounds=4)
        assert len(hook.received) == 3
        assert len({r.headers["webhook-id"] for r in hook.received}) == 1
        r = await client.get(
            f"/api/v1/notifications/deliveries?case={case['id']}", headers=world.headers("admin")
        )
        [delivery] = r.json()["items"]
        assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
        assert [a["status_code"] for a in delivery["history"]] == [500, 503, 204]


async def test_a_410_disables_the_endpoint_and_tells_the_command_centre(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(410, {}, {})]) as hook, Receiver([(200, {}, {})]) as centre:
        gone = await add(client, world, kind="webhook", unit_id=world.units[JIAOJING], url=hook.url)
        await add(client, world, kind="webhook", url=centre.url, events=["endpoint.disabled"])
        await dispatch(client, world)
        await deliver(app, notify, rounds=3)
        assert len(hook.received) == 1  # never retried
        shown = (
            await client.get(f"/api/v1/notifications/endpoints/{gone['id']}", headers=world.headers("admin"))
        ).json()
        assert shown["active"] is False and "410" in shown["disabled_reason"]
        assert [r.json()["type"] for r in centre.received] == ["endpoint.disabled"]


async def test_dingtalk_gets_a_signed_markdown_message(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(200, {"errcode": 0, "errmsg": "ok"}, {})]) as dingtalk:
        notify.notify.notify_dingtalk_url = dingtalk.url
        await add(
            client, world, kind="dingtalk", unit_id=world.units[JIAOJING], token="tok-1", secret="SECxyz"
        )
        case = await dispatch(client, world)
        await deliver(app, notify)
        [got] = dingtalk.received
        q = got.query
        expected = base64.b64encode(
            hmac.new(b"SECxyz", f"{q['timestamp']}\nSECxyz".encode(), hashlib.sha256).digest()
        ).decode()
        assert (
            got.target.startswith("/robot/send?access_token=tok-1") and q["sign"] == expected
        )  # decoded once, as DingTalk does
        message = got.json()["markdown"]
        assert (
            message["title"] == "新派遣案件"
            and case["tracking_code"] in message["text"]
            and "处置时限" in message["text"]
        )


async def test_a_bot_answering_an_error_code_is_a_failure(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(200, {"errcode": 40001, "errmsg": "invalid credential"}, {})]) as wecom:
        notify.notify.notify_wecom_url = wecom.url
        notify.notify.notify_retry_s = [0, 3600]
        await add(client, world, kind="wecom", unit_id=world.units[JIAOJING], token="key-123")
        case = await dispatch(client, world)
        await deliver(app, notify)
        r = await client.get(
            f"/api/v1/notifications/deliveries?case={case['id']}", headers=world.headers("admin")
        )
        [delivery] = r.json()["items"]
        assert delivery["status"] == "pending" and "40001" in delivery["last_error"]


async def test_a_flood_to_one_wecom_group_is_merged_and_loses_no_case(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver() as wecom:
        notify.notify.notify_wecom_url = wecom.url
        await add(client, world, kind="wecom", unit_id=world.units[JIAOJING], token="key-flood")
        codes = [(await dispatch(client, world))["tracking_code"] for _ in range(100)]
        await deliver(app, notify, rounds=30)
        assert 1 <= len(wecom.received) <= 20  # the platform's limit is 20 a minute
        text = "".join(r.json()["markdown"]["content"] for r in wecom.received)
        assert all(code in text for code in codes)
        failed = await client.get(
            "/api/v1/notifications/deliveries?status=failed", headers=world.headers("admin")
        )
        pending = await client.get(
            "/api/v1/notifications/deliveries?status=pending", headers=world.headers("admin")
        )
        assert failed.json()["items"] == [] and pending.json()["items"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://0x7f000001/x",
        "http://2130706433/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://[::ffff:127.0.0.1]/x",
    ],
)
async def test_private_and_loopback_targets_are_refused(client, world, url: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/notifications/endpoints",
        json={"kind": "webhook", "url": url},
        headers=world.headers("admin"),
    )
    assert (r.status_code, r.json()["code"]) == (422, "target_not_allowed"), r.text


async def test_a_unit_reads_its_own_endpoints_only(client, world, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver() as hook:
        mine = await add(client, world, kind="webhook", unit_id=world.units[JIAOJING], url=hook.url)
        theirs = await add(
            client, world, kind="webhook", unit_id=world.units["崆峒区城市管理综合执法局"], url=hook.url
        )
    listed = (await client.get("/api/v1/notifications/endpoints", headers=world.headers("jiaojing"))).json()[
        "items"
    ]
    assert [e["id"] for e in listed] == [mine["id"]] and "secret" not in listed[0]
    other = await client.get(
        f"/api/v1/notifications/endpoints/{theirs['id']}", headers=world.headers("jiaojing")
    )
    assert other.status_code == 404
    refused = await client.post(
        "/api/v1/notifications/endpoints",
        json={"kind": "webhook", "url": "https://x.example/"},
        headers=world.headers("jiaojing"),
    )
    assert refused.status_code == 403


async def test_rotation_signs_with_both_secrets_for_a_day(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver() as hook:
        endpoint = await add(client, world, kind="webhook", unit_id=world.units[JIAOJING], url=hook.url)
        r = await client.post(
            f"/api/v1/notifications/endpoints/{endpoint['id']}/rotate-secret", headers=world.headers("admin")
        )
        new = r.json()["secret"]
        await dispatch(client, world)
        await deliver(app, notify)
        [got] = hook.received
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        Webhook(new).verify(got.body, got.headers)
        Webhook(endpoint["secret"]).verify(got.body, got.headers)


async def test_the_test_route_sends_now_and_answers_the_outcome(client, world, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(200, {}, {})]) as hook:
        endpoint = await add(client, world, kind="webhook", url=hook.url)
        r = await client.post(
            f"/api/v1/notifications/endpoints/{endpoint['id']}/test", headers=world.headers("admin")
        )
        assert r.status_code == 200, r.text
        assert r.json()["delivered"] is True and r.json()["delivery"]["status"] == "delivered"
        assert hook.received[0].json()["type"] == "endpoint.test"
        resent = await client.post(
            f"/api/v1/notifications/deliveries/{r.json()['delivery']['id']}/resend",
            headers=world.headers("admin"),
        )
        assert (
            resent.json()["status"] == "pending"
            and resent.json()["message_id"] == r.json()["delivery"]["message_id"]
        )


async def test_feishu_gets_a_signed_card(client, world, app, notify) -> None:  # type: ignore[no-untyped-def]
    async with Receiver([(200, {"code": 0, "msg": "success"}, {})]) as feishu:
        notify.notify.notify_feishu_url = feishu.url
        await add(
            client, world, kind="feishu", unit_id=world.units[JIAOJING], token="hook-9", secret="fs-secret"
        )
        case = await dispatch(client, world)
        await deliver(app, notify)
        [got] = feishu.received
        body = got.json()
        expected = base64.b64encode(
            hmac.new(f"{body['timestamp']}\nfs-secret".encode(), b"", hashlib.sha256).digest()
        ).decode()
        assert got.target == "/open-apis/bot/v2/hook/hook-9" and body["sign"] == expected
        assert case["tracking_code"] in body["card"]["elements"][0]["content"]
