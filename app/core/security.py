"""Password hashing (argon2 via pwdlib), access tokens (JWT, RFC 7519) and API key material."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import jwt
from pwdlib import PasswordHash

_password_hash = PasswordHash.recommended()  # argon2id with pwdlib's current parameters
# Compared against when the username is unknown, so a login takes as long either way.
_DUMMY_HASH = _password_hash.hash("not-a-real-password")

API_KEY_PREFIX = "gik"


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True if ``password`` matches; always spends one argon2 verification (no user enumeration by timing)."""
    if password_hash is None:
        _password_hash.verify(password, _DUMMY_HASH)
        return False
    try:
        return _password_hash.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, never a 500
        return False


def create_access_token(*, subject: str, role: str, secret: str, algorithm: str, minutes: int,
                        now: dt.datetime | None = None) -> tuple[str, int]:
    """A signed JWT for ``subject`` valid ``minutes``; returns ``(token, expires_in_seconds)``."""
    issued = now or dt.datetime.now(dt.UTC)
    claims = {"sub": subject, "role": role, "iat": issued, "exp": issued + dt.timedelta(minutes=minutes),
              "typ": "access"}
    return jwt.encode(claims, secret, algorithm=algorithm), minutes * 60


def decode_access_token(token: str, *, secret: str, algorithm: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is malformed, forged, expired or not an access token."""
    try:
        claims = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == "access" else None


def new_api_key() -> tuple[str, str, str]:
    """A fresh API key: ``(full_key, lookup_prefix, sha256_hex)``.

    Keys carry 256 bits of randomness, so a plain SHA-256 is a safe stored form (a slow KDF only
    matters for guessable secrets) and keeps per-request checks cheap. The prefix finds the row.
    """
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_api_key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 8:
        return None
    return parts[1]


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
