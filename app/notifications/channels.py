"""What goes over the wire to each kind of endpoint, and what counts as delivered. Pure functions.

- **webhook**: the Standard Webhooks scheme (standardwebhooks.com, signing with the maintained
  ``standardwebhooks`` package): headers ``webhook-id`` (the event's, stable across retries),
  ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
  "id.timestamp.body">``, one per secret, space-separated, while a rotated secret is still honoured); the body
  is ``{"type", "timestamp", "data"}``. Only a 2xx answer is delivery.
- **wecom** (企业微信 group robot): ``POST {base}/cgi-bin/webhook/send?key=KEY`` with a ``markdown`` message.
- **dingtalk** (钉钉 custom robot, 加签): ``POST {base}/robot/send?access_token=T&timestamp=MS&sign=S`` where
  ``S`` is base64(HMAC-SHA256(secret, "MS\\nsecret")), URL-encoded, and a ``markdown`` message.
- **feishu** (飞书 custom bot, signature check): ``POST {base}/open-apis/bot/v2/hook/TOKEN`` with ``timestamp``
  (seconds) and ``sign`` = base64(HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing) in the body, and an
  interactive card holding the Markdown.
A bot's 200 is delivery only when its ``errcode`` (WeCom, DingTalk) or ``code`` (Feishu) is 0.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from standardwebhooks import Webhook

from app.notifications.kinds import TITLES_ZH

LIGHT_ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯（已超期）", "paused": "暂停计时"}


@dataclass(frozen=True)
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def webhook_body(event_type: str, occurred_at: str, data: dict[str, Any]) -> bytes:
    return _json({"type": event_type, "timestamp": occurred_at, "data": data})


def webhook(url: str, secrets: Sequence[str], message_id: str, now: dt.datetime, body: bytes) -> Outgoing:
    """A signed webhook delivery: one ``v1`` signature per secret (the current one first)."""
    signatures = " ".join(Webhook(s).sign(message_id, now, body) for s in secrets)
    return Outgoing(
        url=url,
        body=body,
        headers={
            "content-type": "application/json; charset=utf-8",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures,
        },
    )


def wecom(base: str, key: str, markdown: str) -> Outgoing:
    return Outgoing(
        url=f"{base.rstrip('/')}/cgi-bin/webhook/send?key={quote(key, safe='')}",
        body=_json({"msgtype": "markdown", "markdown": {"content": markdown}}),
        headers={"content-type": "application/json; charset=utf-8"},
    )


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk(
    base: str, token: str, secret: str | None, title: str, markdown: str, now: dt.datetime
) -> Outgoing:
    url = f"{base.rstrip('/')}/robot/send?access_token={quote(token, safe='')}"
    if secret:
        ms = int(now.timestamp() * 1000)
        url += f"&timestamp={ms}&sign={quote_plus(dingtalk_sign(secret, ms))}"
    return Outgoing(
        url=url,
        body=_json({"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}),
        headers={"content-type": "application/json; charset=utf-8"},
    )


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu(
    base: str, token: str, secret: str | None, title: str, markdown: str, now: dt.datetime
) -> Outgoing:
    body: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": markdown}],
        },
    }
    if secret:
        seconds = int(now.timestamp())
        body = {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **body}
    return Outgoing(
        url=f"{base.rstrip('/')}/open-apis/bot/v2/hook/{quote(token, safe='')}",
        body=_json(body),
        headers={"content-type": "application/json; charset=utf-8"},
    )


def accepted(kind: str, status: int, body: bytes) -> str | None:
    """None when the answer is a delivery; else why not (kept on the attempt)."""
    if not 200 <= status < 300:
        return f"HTTP {status}"
    if kind == "webhook":
        return None
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "the bot answered something that is not JSON"
    if not isinstance(answer, dict):
        return "the bot answered something that is not a JSON object"
    code = (
        answer.get("errcode")
        if kind in ("wecom", "dingtalk")
        else answer.get("code", answer.get("StatusCode"))
    )
    if code == 0:
        return None
    message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    return f"the bot refused it: code {code} {str(message)[:200]}".strip()


NOTICE_STATUS_ZH = {"open": "待整改", "signed_off": "已销号"}


def _notice_line(notice: dict[str, Any]) -> str:
    progress = notice.get("progress") or {}
    round_ = notice.get("round") or {}
    return f"{round_.get('title', '')} · 已整改 {progress.get('closed', 0)}/{progress.get('total', 0)}"


def _line(data: dict[str, Any]) -> str:
    case = data.get("case") or {}
    unit = data.get("unit") or {}
    if data.get("notice"):
        parts = [_notice_line(data["notice"])]
        if unit.get("name"):
            parts.append(f"责任单位 {unit['name']}")
        return " · ".join(parts)
    parts = [f"{case.get('tracking_code', '')}（{case.get('category_name', '')}）"]
    if case.get("place"):
        parts.append(str(case["place"]))
    if unit.get("name"):
        parts.append(f"责任单位 {unit['name']}")
    return " · ".join(parts)


def markdown(event_type: str, data: dict[str, Any], local_due: str | None) -> tuple[str, str]:
    """``(title, Markdown in Chinese)`` for one event: the case, the place, the category, the deadline, the
    light and a link; for a rectification notice, its round, unit, progress, deadline and status."""
    title = TITLES_ZH.get(event_type, event_type)
    case = data.get("case") or {}
    lines = [f"### {title}"]
    if case:
        lines.append(f"- 案件：{case.get('tracking_code', '')}（{case.get('category_name', '')}）")
        if case.get("place"):
            lines.append(f"- 位置：{case['place']}")
        if (data.get("unit") or {}).get("name"):
            lines.append(f"- 责任单位：{data['unit']['name']}")
        if local_due:
            lines.append(f"- 处置时限：{local_due}")
        status = case.get("status_label") or case.get("status") or ""
        light = LIGHT_ZH.get(str(data.get("light") or ""), "")
        lines.append(f"- 状态：{status}{' · ' + light if light else ''}")
    notice = data.get("notice") or {}
    if notice:
        progress = notice.get("progress") or {}
        lines.append(f"- 测评批次：{(notice.get('round') or {}).get('title', '')}")
        if (data.get("unit") or {}).get("name"):
            lines.append(f"- 责任单位：{data['unit']['name']}")
        lines.append(f"- 整改进度：已整改 {progress.get('closed', 0)} / 共 {progress.get('total', 0)} 项")
        if local_due:
            lines.append(f"- 整改时限：{local_due}")
        lines.append(f"- 状态：{NOTICE_STATUS_ZH.get(str(notice.get('status')), notice.get('status'))}")
    if data.get("note"):
        lines.append(f"- 说明：{data['note']}")
    if data.get("link"):
        lines.append(f"- [查看详情]({data['link']})")
    return title, "\n".join(lines)


def digest(items: Sequence[tuple[str, dict[str, Any]]]) -> tuple[str, str]:
    """One message for a burst of events to one bot (so a group's rate limit is never hit): a line each."""
    title = f"推送汇总：{len(items)} 条待办"
    lines = [f"### {title}"]
    for event_type, data in items:
        link = f" [查看]({data['link']})" if data.get("link") else ""
        lines.append(f"- **{TITLES_ZH.get(event_type, event_type)}** {_line(data)}{link}")
    return title, "\n".join(lines)
