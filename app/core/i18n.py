"""Language of labels: ``Accept-Language`` (RFC 9110 section 12.5.4) chooses zh-CN or en."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Header

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"


def pick_language(header: str | None) -> Lang:
    """``zh`` or ``en`` by the caller's preference order and q-values; zh-CN when nothing matches."""
    if not header:
        return DEFAULT_LANG
    best: tuple[float, int, Lang] | None = None
    languages: dict[str, Lang] = {"zh": "zh", "en": "en"}
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
        if primary in languages and q > 0:
            candidate = (q, -position, languages[primary])
            if best is None or candidate > best:
                best = candidate
    return best[2] if best else DEFAULT_LANG


async def _language(  # async: a plain def would run in the thread pool (app.core.deps)
    accept_language: Annotated[
        str | None,
        Header(
            description="zh-CN (the default) or en, with q-values (RFC 9110): the language of labels, "
            "names and error titles and details; `Content-Language` says which was used",
        ),
    ] = None,
) -> Lang:
    return pick_language(accept_language)


LangDep = Annotated[Lang, Depends(_language)]
CONTENT_LANGUAGE = {"zh": "zh-CN", "en": "en"}


@dataclass(frozen=True)
class Text:
    """Words for people in both languages of the service; ``str()`` is the English (logs, tracebacks)."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en

    def in_(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


def say(text: str | Text, lang: Lang) -> str:
    """``text`` in ``lang`` when it has both languages; a plain string as it is."""
    return text.in_(lang) if isinstance(text, Text) else text
