"""The report's trend chart (app.campaign.chart): well-formed SVG whatever the values, every value drawn
inside the picture, labels escaped."""

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from app.campaign.chart import HEIGHT, WIDTH, TrendPoint, trend_svg

SVG = "{http://www.w3.org/2000/svg}"
values = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))
points = st.lists(
    st.builds(TrendPoint, label=st.text(max_size=12), score=values, compliance=values, current=st.booleans()),
    max_size=30,
)


@given(points)
def test_the_chart_is_well_formed_and_draws_every_value_inside_the_picture(trend: list[TrendPoint]) -> None:
    markup = str(trend_svg(trend))
    drawn = [v for p in trend for v in (p.score, p.compliance) if v is not None]
    if not drawn:
        assert "no published round" in markup and "<svg" not in markup
        return
    root = ET.fromstring(markup)  # raises on broken markup, e.g. an unescaped label
    circles = root.findall(f"{SVG}circle")
    assert len(circles) == len(drawn)
    for c in circles:
        assert 0 <= float(c.get("cx", -1)) <= WIDTH and 0 <= float(c.get("cy", -1)) <= HEIGHT
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == sum(
        1 for attr in ("score", "compliance") if sum(getattr(p, attr) is not None for p in trend) > 1
    )


def test_a_label_cannot_inject_markup() -> None:
    markup = str(trend_svg([TrendPoint("<script>x</script>", 90.0, 80.0, current=True)]))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
