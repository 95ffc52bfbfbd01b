"""Server-drawn charts: the SVG matches the figures, and the table alternative says the same."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from metropole.core.charts import bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart):
    return ET.fromstring(str(chart.svg))


def test_bar_lengths_are_proportional_to_values_and_labels_are_escaped():
    chart = bar_chart("Requests", [("Lille", 120), ("<b>Roubaix</b>", 60), ("Unknown", None)])
    svg = parse(chart)  # well-formed XML despite the markup in a label
    widths = [float(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert len(widths) == 2
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert labels == ["Lille", "<b>Roubaix</b>", "Unknown"]
    assert "<b>" not in str(chart.svg)


def test_negative_values_draw_left_of_the_axis():
    svg = parse(bar_chart("Balance", [("A", -50), ("B", 50)]))
    axis_x = float(next(svg.iter(f"{SVG}line")).get("x1"))
    left, right = list(svg.iter(f"{SVG}rect"))
    assert float(left.get("x")) + float(left.get("width")) == pytest.approx(axis_x, abs=0.2)
    assert float(right.get("x")) == pytest.approx(axis_x, abs=0.2)


def test_line_chart_breaks_at_missing_values_and_rejects_misaligned_series():
    chart = line_chart("Waste", ["2021", "2022", "2023", "2024"], [("Actual", [3, None, 2, 1])])
    polylines = list(parse(chart).iter(f"{SVG}polyline"))
    assert [len(p.get("points").split()) for p in polylines] == [1, 2]
    with pytest.raises(ValueError, match="3 values for 4 labels"):
        line_chart("Waste", ["a", "b", "c", "d"], [("Actual", [1, 2, 3])])


def test_higher_values_are_drawn_higher():
    chart = line_chart("Up", ["a", "b"], [("s", [10, 20])])
    (points,) = [p.get("points") for p in parse(chart).iter(f"{SVG}polyline")]
    (_, y1), (_, y2) = (map(float, pt.split(",")) for pt in points.split())
    assert y2 < y1


def test_template_gives_the_figures_as_a_table_in_french():
    chart = line_chart(
        "Déchets", ["2024", "2025"], [("Réel", [1234.5, 2000]), ("Cible", [1000, None])], unit="t"
    )
    with translation.override("fr"):
        html = render_to_string("core/_chart.html", {"chart": chart})
    assert "Voir les chiffres sous forme de tableau" in html
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert cells == ["1\xa0234,5\u202ft", "1\xa0000\u202ft", "2\xa0000\u202ft", "–"]
    assert html.count("<li>") == 2  # a legend entry per series


def test_a_chart_without_figures_says_so():
    with translation.override("en"):
        html = render_to_string("core/_chart.html", {"chart": bar_chart("Empty", [("A", None)])})
    assert "No figures yet." in html and "<svg" not in html.split("</figcaption>")[1]


def test_a_long_bar_label_goes_on_two_lines_with_the_whole_label_as_tooltip():
    """One line cut at 30 characters made a plan's branches read alike."""
    branches = [
        "A1 Une métropole résolument performante et résiliente",
        "A2 Une métropole résolument citoyenne et créative pour impulser des changements",
    ]
    svg = parse(bar_chart("Progress", [(b, 50) for b in branches] + [("Court", 10)]))
    labels = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    lines = [[span.text for span in label.iter(f"{SVG}tspan")] for label in labels]
    assert lines[0] == ["A1 Une métropole résolument", "performante et résiliente"]
    assert lines[1] == ["A2 Une métropole résolument", "citoyenne et créative pour im…"]
    assert [label.find(f"{SVG}title").text for label in labels[:2]] == branches
    assert labels[2].text == "Court" and not lines[2]
