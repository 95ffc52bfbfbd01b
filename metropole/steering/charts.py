"""The dashboard's charts, built with the core's inline-SVG charts (metropole.core.charts)."""

from django.utils.translation import gettext as _

from metropole.core.charts import bar_chart, line_chart

from .models import ValueKind


def dashboard_charts(board, *, public=False) -> dict:
    top = [row for row in board.nodes if row.depth == 0]
    charts = {
        "status": bar_chart(
            _("Actions by status"), [(str(label), n) for _value, label, n in board.status_counts]
        ),
        "progress": bar_chart(
            _("Progress by branch (weighted)"),
            [
                (str(row.node), None if row.progress is None else round(row.progress, 1))
                for row in top
            ],
            unit="%",
            max_value=100,
        ),
    }
    years = board.budget["years"]
    if years and (not public or board.plan.publish_budget):
        charts["budget"] = line_chart(
            _("Budget by year (€)"),
            [str(y["year"]) for y in years],
            [
                (_("Planned"), [float(y["planned"]) for y in years]),
                (_("Actual"), [float(y["actual"]) if y["actual"] else None for y in years]),
            ],
            unit="€",
        )
    measured = [row for row in board.indicators if row.actual is not None and row.expected]
    if measured:
        charts["indicators"] = bar_chart(
            _("Indicators: latest value as a share of the expected value"),
            [
                (row.indicator.name, round(float(row.actual * 100 / row.expected), 1))
                for row in measured[:30]
            ],
            unit="%",
        )
    return charts


def indicator_chart(indicator):
    values = list(indicator.values.order_by("date"))
    dates = sorted({v.date for v in values})
    by_kind = {
        kind: {v.date: float(v.value) for v in values if v.kind == kind}
        for kind in ValueKind.values
    }
    series = [
        (str(label), [by_kind[kind].get(d) for d in dates])
        for kind, label in ValueKind.choices
        if by_kind[kind]
    ]
    return line_chart(
        indicator.name,
        [d.isoformat() for d in dates],
        series or [(_("Actual"), [])],
        unit=indicator.unit,
    )
