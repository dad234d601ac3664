"""Charts for the dashboards: one spec shape for Chart.js in the browser and its data table.

`chart(...)` returns what `templates/analytics/_chart.html` renders: a <canvas> drawn by
`static/js/charts.js` (Chart.js from the npm package, see package.json) and, beside it, the
same numbers as a table for screen readers and for anyone who prefers numbers. A page
that shows charts includes `analytics/_chart_scripts.html` once.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics import formatting


def chart(
    chart_id: str,
    title: str,
    labels: list[str],
    series: dict[str, list | None],
    *,
    kind: str = "line",
    stacked: bool = False,
    label_heading: str | None = None,
) -> dict:
    """A chart spec. `series` maps a label to its values (None for a series that is not
    available: left out of the drawing and named in the table's caption). The title, the
    series' names (the legend) and `label_heading` are words people read: the caller passes
    them translated; the chart's id and the spec's keys stay as they are. The spec carries
    the page's language (`locale`): Chart.js writes the axis ticks and tooltips with its
    separators, as the table beside it does (`analytics.formatting.number`)."""
    drawn = {name: values for name, values in series.items() if values is not None}
    missing = [name for name, values in series.items() if values is None]
    # The table's body is built here, escaped, in one pass: a month of days is a few hundred
    # cells, which the template language (or format_html per cell) renders many times slower.
    rows = [[label, *(_text(values[n]) for values in drawn.values())] for n, label in enumerate(labels)]
    body = mark_safe(  # noqa: S308 (every cell is escaped just above)
        "".join(
            f'<tr><th scope="row">{escape(str(row[0]))}</th>'
            + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
            + "</tr>"
            for row in rows
        )
    )
    return {
        "id": chart_id,
        "spec_id": f"{chart_id}-spec",
        "title": title,
        "config": {
            "type": kind,
            "labels": labels,
            "datasets": [{"label": name, "data": values} for name, values in drawn.items()],
            "stacked": stacked,
            "locale": get_language() or "en",
        },
        "label_heading": _("Day") if label_heading is None else label_heading,
        "columns": list(drawn),
        "body": body,
        "missing": missing,
    }


def _text(value) -> str:
    if value is None:
        return _(formatting.NOT_AVAILABLE)
    return formatting.number(value) if isinstance(value, (int, float, Decimal)) else str(value)
