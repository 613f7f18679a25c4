"""The trend chart of the printable round report: an inline SVG drawn on the server, so the page needs no
script and prints the same everywhere.

Pure: values in, markup out (escaped by the template's autoescaping: labels go through ``markupsafe``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 680, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 36, 28, 44  # margins, px
SERIES = (  # (attribute, label, colour, dash)
    ("score", "得分率 score", "#1f5fa8", ""),
    ("compliance", "符合率 compliance", "#2e8b57", "6 4"),
)


# Characters XML 1.0 forbids (C0 controls but tab, newline, return; lone surrogates; U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _label(text: str) -> Markup:
    return escape(_NOT_XML.sub("", text))


@dataclass(frozen=True)
class TrendPoint:
    """One round on the chart: ``label`` under the axis (e.g. ``2026-11``); ``score`` and ``compliance`` in
    percent (0-100) or None when nothing was scored; ``current`` marks the round the report is about."""

    label: str
    score: float | None
    compliance: float | None
    current: bool = False


def _floor(values: list[float]) -> int:
    """The bottom of the y axis: a multiple of 10 under the lowest value, at most 80 (so small differences
    near the top show), never below 0."""
    low = min(values, default=100.0)
    return max(0, min(80, int(math.floor((low - 5) / 10) * 10)))


def trend_svg(points: list[TrendPoint]) -> Markup:
    """An SVG line chart (``WIDTH`` x ``HEIGHT`` px, viewBox so it scales) of score and compliance over
    ``points`` in order; a note instead when there is nothing to draw."""
    values = [v for p in points for v in (p.score, p.compliance) if v is not None]
    if not values:
        return Markup('<p class="empty">暂无已发布批次的数据 · no published round to chart yet</p>')
    y0 = _floor(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points) - 1) if len(points) > 1 else 0.0

    def x(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (100 - v) / (100 - y0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label="得分率与符合率趋势 score and compliance trend" class="trend">'
    ]
    for tick in range(y0, 101, 10):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" class="axis" text-anchor="end">{tick}</text>'
        )
    every = max(1, math.ceil(len(points) / 12))  # at most a dozen labels under the axis
    for i, p in enumerate(points):
        if p.current:
            parts.append(
                f'<rect x="{x(i) - 14:.1f}" y="{TOP}" width="28" height="{plot_h}" class="current"/>'
            )
        if i % every == 0 or p.current:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" class="axis" text-anchor="middle">'
                f"{_label(p.label)}</text>"
            )
    for n, (attr, _, colour, dash) in enumerate(SERIES):
        run: list[str] = []
        for i, p in enumerate(points):
            v = getattr(p, attr)
            if v is None:
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"/>')
            if p.current or len(points) <= 6:
                # The higher of a round's two values is labelled above its dot, the lower below, so close
                # values stay legible.
                other = getattr(p, SERIES[1 - n][0])
                dy = -8 if other is None or v > other or (v == other and n == 0) else 16
                # The ends are anchored inwards, so a label never sits on the axis's tick labels.
                anchor = (
                    "start" if i == 0 and len(points) > 1 else "end" if i == len(points) - 1 else "middle"
                )
                parts.append(
                    f'<text x="{x(i):.1f}" y="{y(v) + dy:.1f}" class="value" text-anchor="{anchor}" '
                    f'fill="{colour}">{v:.1f}</text>'
                )
        if len(run) > 1:
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"{dashing}/>'
            )
    for n, (_, label, colour, dash) in enumerate(SERIES):
        lx = LEFT + n * 170
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{lx}" x2="{lx + 24}" y1="12" y2="12" stroke="{colour}" stroke-width="2"{dashing}/>'
            f'<text x="{lx + 30}" y="16" class="legend">{_label(label)}</text>'
        )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="16" class="legend" text-anchor="end">%（y 轴 y axis）</text></svg>'
    )
    return Markup("".join(parts))
