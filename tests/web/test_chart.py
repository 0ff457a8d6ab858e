"""The tank chart is plain SVG built from plain data: no database, no clock."""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from replenish.web.chart import (
    ChartDrop,
    ChartForecast,
    ChartReading,
    Labels,
    at_noon,
    tank_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 24, 4, tzinfo=UTC)
FORECAST = ChartForecast(at=NOW, level_now=12.0, rate=0.5, runout_p10=date(2026, 12, 10),
                         runout_p50=date(2026, 12, 18), runout_p90=date(2026, 12, 30),
                         order_by=date(2026, 12, 8))
READINGS = [ChartReading(at=NOW - timedelta(days=d), level=lvl)
            for d, lvl in ((100, 20.0), (60, 8.0), (20, 22.0))]
DROPS = [ChartDrop(at=NOW - timedelta(days=40), quantity=15.0, level_before=1.5)]


def draw(**changes):
    args = {"readings": READINGS, "drops": DROPS, "forecast": FORECAST, "capacity": 30.0,
            "unit": "kg", "now": NOW, "width": 480, "height": 260,
            "labels": Labels(summary="runs out around 12/18")} | changes
    return ET.fromstring(tank_chart(**args))


def x_of(svg, day):
    """Where a date falls: the p10 corner of the band is at noon of the p10 date, so the
    scale follows from two of its points."""
    points = [tuple(map(float, p.split(","))) for p in
              svg.find(f".//{SVG}polygon[@class='band']").get("points").split()]
    (x0, _), (x10, _), _ = points
    t0, t10 = NOW, at_noon(FORECAST.runout_p10, UTC)
    per_s = (x10 - x0) / (t10 - t0).total_seconds()
    return x0 + (at_noon(day, UTC) - t0).total_seconds() * per_s


def test_the_chart_is_svg_with_a_viewbox_and_a_summary_for_screen_readers():
    svg = draw()
    assert svg.tag == f"{SVG}svg"
    assert svg.get("viewBox") == "0 0 480 260"
    assert svg.get("role") == "img" and svg.get("aria-label") == "runs out around 12/18"


def test_each_reading_is_one_dot():
    assert len(draw().findall(f".//{SVG}circle")) == len(READINGS)


def test_the_band_runs_from_the_level_now_to_empty_between_p10_and_p90():
    svg = draw()
    points = [tuple(map(float, p.split(","))) for p in
              svg.find(f".//{SVG}polygon[@class='band']").get("points").split()]
    (x0, y0), (x10, y10), (x90, y90) = points
    assert x0 < x10 < x90 and y10 == y90 > y0
    median = svg.find(f".//{SVG}line[@class='median']")
    assert x10 < float(median.get("x2")) < x90 and float(median.get("y2")) == y10
    assert float(median.get("x2")) == pytest.approx(x_of(svg, FORECAST.runout_p50), abs=0.2)


def test_the_order_by_marker_stands_on_its_date():
    svg = draw()
    marker = svg.find(f".//{SVG}line[@class='order-by']")
    assert float(marker.get("x1")) == pytest.approx(x_of(svg, FORECAST.order_by), abs=0.2)
    label = svg.find(f".//{SVG}text[@class='order-by']")
    assert label.text == "order by 12/08"


def test_a_drop_is_a_step_up_by_its_quantity():
    svg = draw()
    step = svg.find(f".//{SVG}path[@class='drop']").get("d")  # "Mx,y0Vy1"
    y_before, y_after = float(step.split(",")[1].split("V")[0]), float(step.split("V")[1])
    per_kg = (y_before - y_after) / 15.0
    assert per_kg > 0
    bottom = float(svg.find(f".//{SVG}polygon[@class='band']").get("points")
                   .split()[1].split(",")[1])
    assert bottom - y_before == pytest.approx(1.5 * per_kg, abs=0.2)


def test_text_is_escaped():
    svg = draw(unit="<kg>", labels=Labels(summary='a "quoted" <b>', order_by="by & then"))
    assert svg.get("aria-label") == 'a "quoted" <b>'
    assert svg.find(f".//{SVG}b") is None
    assert svg.find(f".//{SVG}text[@class='order-by']").text == "by & then 12/08"
    assert any(t.text == "<kg>" for t in svg.iter(f"{SVG}text"))


def test_an_empty_history_without_a_forecast_still_draws_the_axes():
    svg = draw(readings=[], drops=[], forecast=None)
    assert svg.findall(f".//{SVG}circle") == []
    assert svg.find(f".//{SVG}polygon") is None
    assert len(svg.findall(f".//{SVG}text")) > 3  # ticks: dates and levels


def test_a_far_run_out_is_cut_at_the_edge_rather_than_squashing_the_history():
    far = ChartForecast(at=NOW, level_now=30.0, rate=0.01, runout_p10=date(2027, 6, 1),
                        runout_p50=date(2028, 1, 1), runout_p90=date(2029, 1, 1))
    svg = draw(forecast=far)
    circles = [float(c.get("cx")) for c in svg.findall(f".//{SVG}circle")]
    assert circles[-1] - circles[0] > 100  # eighty days of readings stay wide apart
