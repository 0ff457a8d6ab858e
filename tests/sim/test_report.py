"""The simulation report: the table and the plots."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from replenish.sim.report import TraceData, compare_svg, table, trace_svg

LEARNED = {"policy": "learned", "runouts": 0, "runout_household_days": 0, "drops": 120,
           "sms_per_drop": 1.9, "mean_level_at_drop": 0.24, "km": 310.5}
REACTIVE = {"policy": "reactive", "runouts": 40, "runout_household_days": 55, "drops": 90,
            "sms_per_drop": 0.0, "mean_level_at_drop": 0.0, "km": 402.0}


def test_the_table_puts_the_policies_side_by_side_with_a_dash_for_what_was_not_measured():
    text = table([LEARNED, REACTIVE])
    lines = text.splitlines()
    assert lines[0].split() == ["learned", "reactive"]
    runouts = next(line for line in lines if line.startswith("run-outs (times"))
    assert runouts.split()[-2:] == ["0", "40"]
    assert next(line for line in lines if line.startswith("courier km")).split()[-2:] == [
        "310.5", "402.0"]
    assert next(line for line in lines if line.startswith("courier hours")).split()[-2:] == [
        "-", "-"]


def test_a_trace_plot_is_an_svg_with_the_true_level_the_band_and_the_drops():
    days = [date(2027, 1, 1) + timedelta(days=i) for i in range(40)]
    level = [max(20 - 0.5 * i, 0) for i in range(40)]
    data = TraceData("learned: household 1 <&>", 22.6, days, level,
                     expected=[v + 1 for v in level], low=[v for v in level],
                     high=[v + 2 for v in level], drops=[(days[30], 10.0)])
    svg = ET.fromstring(trace_svg(data))
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}polyline")) == 2 and len(svg.findall(f"{ns}polygon")) == 1
    assert [c.find(f"{ns}title").text for c in svg.findall(f"{ns}circle")] == [
        "2027-01-31: 10 kg"]
    assert svg.get("aria-label") == "learned: household 1 <&>"


def test_the_comparison_plot_has_one_bar_per_policy_and_measure():
    svg = ET.fromstring(compare_svg([LEARNED, REACTIVE]))
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 8
