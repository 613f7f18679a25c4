"""Password hashing (argon2 via pwdlib), access tokens (JWT, RFC 7519) and API key material."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
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


def create_access_token(
    *,
    subject: str,
    role: str,
    secret: str,
    algorithm: str,
    minutes: int,
    now: dt.datetime | None = None,
    generation: int = 0,
) -> tuple[str, int]:
    """A signed JWT for ``subject`` valid ``minutes``; returns ``(token, expires_in_seconds)``.

    ``generation`` (claim ``gen``) is the user's token generation when the token was issued; the token
    is honoured only while the user's generation is still that number (app.auth.permissions), so
    raising it revokes every token issued before, whatever their ``iat``.
    """
    issued = now or dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject,
        "role": role,
        "iat": issued,
        "exp": issued + dt.timedelta(minutes=minutes),
        "typ": "access",
        "gen": generation,
    }
    return jwt.encode(claims, secret, algorithm=algorithm), minutes * 60


# A phone sends the same token with every request for its lifetime: its signature is checked once per
# process and the claims kept (keyed by the whole token, so a forged one never matches), while expiry is
# checked at every use. Bounded, so a flood of distinct tokens costs memory no more than this.
_VERIFIED: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
_VERIFIED_MAX = 4096


def decode_access_token(token: str, *, secret: str, algorithm: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is malformed, forged, expired, not an access token, or
    carries no token generation (``gen``, a whole number >= 0: tokens from before revocation existed)."""
    key = (token, secret, algorithm)
    claims = _VERIFIED.get(key)
    if claims is not None:
        if claims["exp"] > time.time():
            _VERIFIED.move_to_end(key)
            return claims
        del _VERIFIED[key]
        return None
    claims = _decode(token, secret=secret, algorithm=algorithm)
    if claims is not None:
        _VERIFIED[key] = claims
        if len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return claims


def _decode(token: str, *, secret: str, algorithm: str) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[algorithm], options={"require": ["sub", "exp", "iat", "gen"]}
        )
    except jwt.PyJWTError:
        return None
    generation = claims.get("gen")
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
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
