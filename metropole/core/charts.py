"""Charts as inline SVG, drawn on the server: shared by every module's dashboards.

Why on the server: the strict CSP forbids inline scripts, pages must work without
JavaScript, and WeasyPrint puts the same SVG into PDF reports. Every chart comes with its
data as a table (`core/_chart.html`), which is what screen readers and keyboard users get.

    chart = bar_chart(_("Requests by commune"), [("Lille", 120), ("Roubaix", 45)], unit="req.")
    chart = line_chart(_("Waste collected"), ["2024", "2025"], [("Actual", [3.1, 2.9]),
                                                                   ("Target", [3.0, 2.8])])
    {% include "core/_chart.html" with chart=chart %}

Colours are presentation attributes (allowed by the CSP, unlike `style=`) that the
stylesheet may override through the `chart-*` classes. Series differ by dash pattern and
marker as well as colour, so they stay distinguishable in grey or for colour-blind readers.
"""

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Okabe-Ito-derived palette, each >= 3:1 against white (WCAG 1.4.11 for graphics).
PALETTE = ("#1f3a93", "#a8430b", "#1e7b34", "#8a2a8f", "#0b6e79", "#6b5200")
DASHES = ("", "6 4", "2 3", "10 3 2 3", "4 2", "1 2")
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass
class Chart:
    """What a template needs: the SVG, and the same figures as a table."""

    title: str
    kind: str  # "bar" or "line"
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = ""
    svg: SafeString = field(default=mark_safe(""))
    chart_id: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(v is not None for s in self.series for v in s.values)

    @property
    def legend(self) -> list[dict]:
        """Entries of a multi-series chart's legend: name, colour and dash pattern."""
        return [
            {"name": s.name, "colour": PALETTE[k % len(PALETTE)], "dash": DASHES[k % len(DASHES)]}
            for k, s in enumerate(self.series)
        ]

    @property
    def table_rows(self) -> list[tuple[str, list[str]]]:
        """(category, [formatted value per series]) — the accessible alternative."""
        return [
            (category, [format_value(s.values[i], self.unit) for s in self.series])
            for i, category in enumerate(self.categories)
        ]


def format_value(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    decimals = 0 if float(value).is_integer() else 1 if abs(value) >= 10 else 2
    text = number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    return f"{text}\u202f{unit}" if unit else text


def bar_chart(
    title: str, items: Iterable[tuple[str, float | None]], *, unit: str = "", max_value=None
) -> Chart:
    """Horizontal bars, one per labelled item: long French labels stay readable."""
    items = list(items)
    chart = Chart(
        title=str(title),
        kind="bar",
        categories=tuple(str(label) for label, _ in items),
        series=(Series(str(title), tuple(value for _, value in items)),),
        unit=unit,
        chart_id=f"chart-{next(_ids)}",
    )
    chart.svg = _bar_svg(chart, max_value)
    return chart


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Iterable[tuple[str, Sequence[float | None]]],
    *,
    unit: str = "",
) -> Chart:
    """One line per series over shared x labels (dates, years); gaps where a value is None."""
    x_labels = tuple(str(x) for x in x_labels)
    series = tuple(Series(str(name), tuple(values)) for name, values in series)
    for s in series:
        if len(s.values) != len(x_labels):
            raise ValueError(
                f"Series {s.name!r} has {len(s.values)} values for {len(x_labels)} labels."
            )
    chart = Chart(
        title=str(title),
        kind="line",
        categories=x_labels,
        series=series,
        unit=unit,
        chart_id=f"chart-{next(_ids)}",
    )
    chart.svg = _line_svg(chart)
    return chart


# --- drawing -----------------------------------------------------------------------------

BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, WIDTH = 22, 10, 220, 640


def _svg_open(chart: Chart, width: int, height: int) -> str:
    return (
        f'<svg class="chart-svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{chart.chart_id}-title" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="13">'
        f'<title id="{chart.chart_id}-title">{escape(chart.title)}</title>'
    )


def _truncate(label: str, length: int = 30) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


LABEL_CHARS = 30  # a bar label's line, in the LABEL_WIDTH before the bars


def _bar_label(label: str, x: float, y: int) -> str:
    """A bar's label, right-aligned before the bar at `y`: one line, or two cut at a word
    when it is long (one line cut short made the branches of a plan, "A1 Une métropole
    résolument performante…", "A2 Une métropole résolument citoyenne…", read alike), the
    rest shortened with "…"; the whole label is the tooltip."""
    if len(label) <= LABEL_CHARS:
        return (
            f'<text class="chart-label" x="{x}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'text-anchor="end" fill="#1a1a1a">{escape(label)}</text>'
        )
    first, *rest = textwrap.wrap(label, LABEL_CHARS) or [label]  # a long word is cut to fit
    second = _truncate(" ".join(rest), LABEL_CHARS)
    return (
        f'<text class="chart-label" x="{x}" y="{y + 9}" text-anchor="end" fill="#1a1a1a">'
        f"<title>{escape(label)}</title>"
        f'<tspan x="{x}">{escape(first)}</tspan>'
        f'<tspan x="{x}" dy="14">{escape(second)}</tspan></text>'
    )


def _bar_svg(chart: Chart, max_value=None) -> SafeString:
    values = chart.series[0].values
    present = [v for v in values if v is not None]
    top = max_value if max_value is not None else max([0, *present])
    bottom = min([0, *present])
    span = (top - bottom) or 1
    plot = WIDTH - LABEL_WIDTH - 90  # room for the value after the bar
    height = max(1, len(values)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    zero_x = LABEL_WIDTH + (-bottom / span) * plot
    parts = [_svg_open(chart, WIDTH, height)]
    for i, (label, value) in enumerate(zip(chart.categories, values, strict=True)):
        y = BAR_GAP + i * (BAR_HEIGHT + BAR_GAP)
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(_bar_label(label, LABEL_WIDTH - 8, y))
        if value is None:
            parts.append(
                f'<text class="chart-value" x="{zero_x + 6:.1f}" y="{text_y:.1f}" '
                f'fill="#4f5660">–</text>'
            )
            continue
        x0 = zero_x + (min(value, 0) / span) * plot
        w = abs(value) / span * plot
        parts.append(
            f'<rect class="chart-bar" x="{x0:.1f}" y="{y}" width="{w:.1f}" '
            f'height="{BAR_HEIGHT}" fill="{PALETTE[0]}"/>'
            f'<text class="chart-value" x="{max(x0 + w, zero_x) + 6:.1f}" y="{text_y:.1f}" '
            f'fill="#1a1a1a">{escape(format_value(value, chart.unit))}</text>'
        )
    parts.append(
        f'<line class="chart-axis" x1="{zero_x:.1f}" y1="0" x2="{zero_x:.1f}" '
        f'y2="{height}" stroke="#6b7280"/></svg>'
    )
    return mark_safe("".join(parts))


LINE_HEIGHT, MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 280, 70, 40, 16


def _nice_ticks(low: float, high: float, n: int = 5) -> list[float]:
    if high == low:
        high = low + 1
    raw = (high - low) / n
    magnitude = 10 ** len(str(int(abs(raw)))) / 10 if raw >= 1 else 1
    while magnitude > raw:
        magnitude /= 10
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = (low // step) * step
    ticks, tick = [], start
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def _line_svg(chart: Chart) -> SafeString:
    present = [v for s in chart.series for v in s.values if v is not None]
    ticks = _nice_ticks(min([0, *present]), max([0, *present]))
    low, high = ticks[0], ticks[-1]
    plot_w = WIDTH - MARGIN_LEFT - 20
    plot_h = LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    n = len(chart.categories)

    def x_at(i: int) -> float:
        return MARGIN_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return MARGIN_TOP + plot_h * (1 - (v - low) / ((high - low) or 1))

    parts = [_svg_open(chart, WIDTH, LINE_HEIGHT)]
    for tick in ticks:
        y = y_at(tick)
        parts.append(
            f'<line class="chart-grid" x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - 20}" '
            f'y2="{y:.1f}" stroke="#d5dae1"/>'
            f'<text class="chart-label" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="#4f5660">{escape(format_value(tick))}</text>'
        )
    label_every = max(1, n // 8)  # at most ~8 x labels, whatever the series length
    for i, label in enumerate(chart.categories):
        if i % label_every == 0 or i == n - 1:
            parts.append(
                f'<text class="chart-label" x="{x_at(i):.1f}" y="{LINE_HEIGHT - 14}" '
                f'text-anchor="middle" fill="#4f5660">{escape(_truncate(label, 12))}</text>'
            )
    for k, s in enumerate(chart.series):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _runs(s.values):  # a None breaks the line instead of inventing a value
            points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in run)
            parts.append(
                f'<polyline class="chart-line chart-series-{k}" points="{points}" fill="none" '
                f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            )
            if n <= 40:
                parts.extend(
                    f'<circle class="chart-point chart-series-{k}" cx="{x_at(i):.1f}" '
                    f'cy="{y_at(v):.1f}" r="3.5" fill="{colour}"/>'
                    for i, v in run
                )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    runs, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, v))
    if current:
        runs.append(current)
    return runs
