"""The printable round report (docs/campaign.md "The round's report"): what the page shows, and the page.

The view is plain values already formatted for people (percentages with one decimal, local times);
:func:`render` fills the Jinja2 template ``templates/report.html.j2`` with autoescaping on, so a point or unit
name can never inject markup. The page carries no script: the trend chart is inline SVG (app.campaign.chart).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

# The page's Content-Security-Policy: nothing but its own inline styles and inline SVG; nothing may frame it.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    "; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Figure:
    """One tile: ``shown`` e.g. ``"92.4%"`` or ``"—"``; ``parts`` e.g. ``"1,204 / 1,303"``."""

    label_zh: str
    label_en: str
    shown: str
    parts: str


@dataclass(frozen=True)
class Entry:
    name: str
    score: str
    reason: str = ""


@dataclass(frozen=True)
class BoardView:
    kind_label: str
    rule_text: str
    red: list[Entry]
    black: list[Entry]
    unranked: list[str]


@dataclass(frozen=True)
class ItemRow:
    point_type: str
    code: str
    text: str
    failures: str  # "12 / 80"
    rate: str
    weight_lost: str


@dataclass(frozen=True)
class Row:
    rank: str  # the board's rank; "—" when not ranked; "" before publishing
    name: str
    points: int
    score: str
    compliance: str
    passed: str
    rectified: str
    on_time: str
    board: str = ""  # "red", "black" or ""
    note: str = ""  # e.g. the board's deduction, or why it is not ranked


@dataclass(frozen=True)
class Table:
    title_zh: str
    title_en: str
    subject_zh: str
    subject_en: str
    rows: list[Row]


@dataclass(frozen=True)
class Definition:
    label: str
    formula: str


@dataclass(frozen=True)
class ReportView:
    round_id: int
    title: str
    kind_label: str
    period: str
    scope: str
    status_label: str
    published_at: str | None
    frozen: bool
    visited: int
    planned: int
    generated_at: str
    figures: list[Figure]
    chart: Markup
    boards: list[BoardView] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("app.campaign", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt field is an error in the tests, not a blank on paper
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(view: ReportView) -> str:
    """The whole HTML page (UTF-8 text) for ``view``."""
    return _environment().get_template("report.html.j2").render(r=view)


def percent(value: float | None, scale: float = 1.0) -> str:
    """``value`` (a ratio when ``scale`` is 1, a percentage when 100) as ``"92.4%"``; ``"—"`` for None."""
    if value is None:
        return "—"
    return f"{value * 100 / scale:.1f}%"


def parts(numerator: float, denominator: float) -> str:
    """``"1,204 / 1,303"``; whole numbers without decimals, others with one."""

    def shown(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"

    return f"{shown(numerator)} / {shown(denominator)}"
