"""The two notice events on a work-chat bot: ``campaign.notice`` when a unit's rectification notice is issued,
``campaign.notice_signed_off`` when it is signed off; both its unit's only (docs/notifications.md)."""

from __future__ import annotations

from app.notifications import worker
from tests.api.test_campaign_notices import (
    CHENGGUAN,
    FAIL,
    _act,
    _market,
    _publish,
    _resolve,
    _round_with_failures,
)
from tests.support.receivers import Receiver


async def _deliver(app, settings) -> int:  # type: ignore[no-untyped-def]
    async with worker.http_client(settings) as http:
        return await worker.deliver_once(app.state.db, settings, http, "test-worker")


async def test_a_units_bot_hears_its_notice_and_its_sign_off(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    settings.notify.notify_allow_networks = ["127.0.0.0/8"]
    settings.notify.notify_retry_s = [0, 0, 0]
    market = await _market(client, world)
    async with Receiver([(200, {"errcode": 0, "errmsg": "ok"}, {})]) as dingtalk:
        settings.notify.notify_dingtalk_url = dingtalk.url
        r = await client.post(
            "/api/v1/notifications/endpoints",
            json={
                "kind": "dingtalk",
                "unit_id": world.units[CHENGGUAN],
                "token": "tok-n",
                "secret": "SECn",
                "events": ["campaign.notice", "campaign.notice_signed_off"],
            },
            headers=world.headers("admin"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["hears"] == ["campaign.notice", "campaign.notice_signed_off", "endpoint.test"]
        round_id, cases = await _round_with_failures(client, world, market["id"], NM_13=FAIL)
        await _publish(client, world, round_id)
        assert await _deliver(app, settings) == 1
        issued = dingtalk.received[-1].json()["markdown"]
        assert issued["title"] == "创文整改通知"
        for text in (
            "模拟测评",
            CHENGGUAN,
            "已整改 0 / 共 1 项",
            "整改时限",
            "待整改",
            "/api/v1/campaign/notices/",
        ):
            assert text in issued["text"], text

        await _resolve(client, world, cases["NM-13"], "chengguan")
        await _act(client, world, cases["NM-13"], "supervisor", "verify")
        assert await _deliver(app, settings) == 1
        signed = dingtalk.received[-1].json()["markdown"]
        assert signed["title"] == "创文整改通知已销号"
        assert "已整改 1 / 共 1 项" in signed["text"] and "已销号" in signed["text"]


async def test_the_command_centre_does_not_hear_notices(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.notify.notify_allow_networks = ["127.0.0.0/8"]
    r = await client.post(
        "/api/v1/notifications/endpoints",
        json={"kind": "wecom", "token": "key-centre", "events": ["campaign.notice_signed_off"]},
        headers=world.headers("admin"),
    )
    assert r.status_code == 422 and "campaign.notice_signed_off" in r.text
