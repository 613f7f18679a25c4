"""Language of labels: ``Accept-Language`` (RFC 9110 section 12.5.4) chooses zh-CN or en."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"


def pick_language(header: str | None) -> Lang:
    """``zh`` or ``en`` by the caller's preference order and q-values; zh-CN when nothing matches."""
    if not header:
        return DEFAULT_LANG
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and q > 0:
            candidate = (q, -position, primary)
            if best is None or candidate > best:
                best = candidate  # type: ignore[assignment]
    return best[2] if best else DEFAULT_LANG


def _language(accept_language: Annotated[str | None, Header()] = None) -> Lang:
    return pick_language(accept_language)


LangDep = Annotated[Lang, Depends(_language)]
CONTENT_LANGUAGE = {"zh": "zh-CN", "en": "en"}
