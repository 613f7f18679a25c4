"""The round's printable report (GET /api/v1/campaign/rounds/{id}/report): the figures, boards, failing items
and trend the API answers, as one HTML page with no script; opened in headless Chromium, it shows the boards
and the chart (a screenshot's pixels prove it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.support.campaign_scores import JIAOJING, SHANGWU, publish, scored_round

RULE = {"black_below": 90, "red_top": 1, "black_bottom": 1, "min_points": 1}
RED_BOARD = (198, 40, 40)  # #c62828, the red board's border
SCORE_LINE = (31, 95, 168)  # #1f5fa8, the chart's 得分率 series
COMPLIANCE_LINE = (46, 139, 87)  # #2e8b57, its 符合率 series


def _report_url(round_id: int) -> str:
    return f"/api/v1/campaign/rounds/{round_id}/report"


async def test_the_report_shows_the_rounds_figures_boards_and_items(client, world) -> None:  # type: ignore[no-untyped-def]
    made = await scored_round(client, world, board=RULE)
    url = _report_url(made["round"])
    r = await client.get(url, headers=world.headers("dispatcher"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]  # the page runs nothing
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    page = r.text
    assert "本批次尚未发布" in page and "红榜 red board" not in page  # live figures, no boards yet
    # The hand-computed round (tests/support/campaign_scores.py): S-M1 75, S-M2 94.12, S-G1 100 -> mean 89.71
    assert "89.7%" in page and "35 / 38" in page  # 符合率 pools 12/14 + 14/15 + 9/9
    assert "NM-03" in page and "农贸市场" in page  # the item that lost most weight, by the point type's name
    assert "<script" not in page

    await publish(client, world, made["round"])
    page = (await client.get(url, headers=world.headers("supervisor"))).text
    assert "本批次尚未发布" not in page and "已发布 published" in page
    red, black = page.index("红榜 red board"), page.index("黑榜 black board")
    assert SHANGWU in page[red:black]  # 94.12 tops the units
    assert JIAOJING in page[black:]  # 87.5 is below 90
    assert "<svg" in page and "polyline" not in page  # a single round: dots, no line yet


async def test_who_may_read_the_report(client, world) -> None:  # type: ignore[no-untyped-def]
    made = await scored_round(client, world)
    for role, status in (("worker2", 403), ("jiaojing", 403), ("admin", 200)):
        r = await client.get(_report_url(made["round"]), headers=world.headers(role))
        assert r.status_code == status, (role, r.text)
    r = await client.get(_report_url(999_999), headers=world.headers("supervisor"))
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def _count(image: Image.Image, colour: tuple[int, int, int], slack: int = 12) -> int:
    return sum(
        1
        for px in image.get_flattened_data()
        if all(abs(int(a) - b) <= slack for a, b in zip(px[:3], colour, strict=True))
    )


async def test_the_report_renders_in_a_real_browser(client, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    made = await scored_round(client, world, board=RULE)
    await publish(client, world, made["round"])
    page = tmp_path / "report.html"
    page.write_text((await client.get(_report_url(made["round"]), headers=world.headers("admin"))).text)
    shot = Path(os.environ.get("GRID_REPORT_SCREENSHOT") or tmp_path / "report.png")
    subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=900,1800",
            page.as_uri(),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (900, 1800)
    white = _count(image, (255, 255, 255), slack=3)
    assert white < 0.95 * image.width * image.height  # something is drawn, not a blank page
    assert _count(image, RED_BOARD) > 200  # the red board's frame
    assert _count(image, SCORE_LINE) > 20 and _count(image, COMPLIANCE_LINE) > 20  # the chart's dots
