"""A case's version as HTTP sees it: the ``ETag`` of every representation and the ``If-Match`` check
(RFC 9110 sections 8.8.3 and 13.1.1; docs/api.md "Conventions")."""

from __future__ import annotations

from typing import Protocol

from app.core.errors import AppError
from app.core.i18n import Text


class Versioned(Protocol):
    id: int
    version: int


class VersionConflict(AppError):
    status, code, title = 412, "version_conflict", "The case changed since you read it"
    title_zh = "案件在您读取后已被修改"


def etag(case: Versioned) -> str:
    """The strong entity tag of a case at its version, e.g. ``"case-5-v11"`` (quotes included)."""
    return f'"case-{case.id}-v{case.version}"'


def check_if_match(case: Versioned, if_match: str | None) -> None:
    """412 ``version_conflict`` (naming the current ETag) when ``If-Match`` names another version.

    Absent or ``*`` matches; weak tags (``W/"..."``) are compared by their opaque part; several tags may be
    given, comma-separated.
    """
    if if_match is None or if_match.strip() == "*":
        return
    current = etag(case)
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if current not in tags:
        raise VersionConflict(
            Text(
                f"案件已更新到第 {case.version} 版（ETag {current}），请重新读取后再操作",
                f"The case is at version {case.version} (ETag {current}); read it again and retry",
            ),
            headers={"ETag": current},
            version=case.version,
            current_etag=current,
        )
