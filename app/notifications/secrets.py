"""Endpoint secrets at rest: encrypted, so a database dump alone lets nobody sign a webhook or post into a
unit's work-chat group.

Fernet (AES-128-CBC with HMAC-SHA256, from the maintained ``cryptography`` package) with a key from the
environment: ``GRID_NOTIFY_SECRETS_KEY``, or one derived from ``GRID_SECRET_KEY`` with HKDF-SHA256 (RFC 5869)
so a deployment needs no second secret. Changing the key makes stored secrets unreadable: endpoints then
answer 409 ``secret_unreadable`` until they are rotated or re-entered.
"""

from __future__ import annotations

import base64
import functools
import secrets as random

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.config import Settings
from app.core.errors import Conflict


class SecretUnreadable(Conflict):
    code, title = "secret_unreadable", "The endpoint's secret cannot be read with this service's key"
    title_zh = "无法用本服务的密钥读取该推送地址的密钥"


@functools.lru_cache(maxsize=8)
def _fernet(material: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"grid-inspector", info=b"notify-secrets").derive(
        material.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _box(settings: Settings) -> Fernet:
    return _fernet(settings.notify.notify_secrets_key or settings.auth.secret_key)


def seal(settings: Settings, plain: str) -> str:
    """``plain`` encrypted and authenticated, as text for a column."""
    return _box(settings).encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(settings: Settings, sealed: str) -> str:
    """The plain text of :func:`seal`; 409 ``secret_unreadable`` when the key changed or the text was altered."""
    try:
        return _box(settings).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable("rotate the endpoint's secret or enter its target again") from exc


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(random.token_bytes(32)).decode("ascii")
