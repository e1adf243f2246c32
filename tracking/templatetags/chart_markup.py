"""The markup of a chart's points and of the daily table, built in Python.

A year of days is several hundred points drawn twice (wide and narrow) and as many table
rows; each was a template loop with a dozen variable lookups. The markup is the same;
every label and text is escaped exactly as the template escaped it.
"""

from __future__ import annotations

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tracking.charts import Chart, Series

register = template.Library()


def _n(value) -> str:
    # What {{ value }} prints inside {% localize off %}: str() of the number.
    return "" if value is None else str(value)


@register.filter
def markers(series: Series) -> SafeString:
    """The markers of a series that is not focusable: each reads its <title> on hover."""
    radius = _n(series.style.marker_radius)
    return mark_safe(
        "".join(
            f'<circle cx="{_n(p.x)}" cy="{_n(p.y)}" r="{radius}"><title>{escape(p.label)}</title>'
            "</circle>"
            for p in series.points
        )
    )


@register.filter
def focus_points(series: Series, chart: Chart) -> SafeString:
    """Focusable points: the drawn dot, the larger invisible target and the readout."""
    radius, hit, tip_height = (
        _n(series.style.marker_radius),
        _n(chart.hit_radius),
        _n(chart.tip_height),
    )
    parts = []
    for p in series.points:
        x, y, tip = _n(p.x), _n(p.y), p.tip
        tip_x, tip_y, width, text = (
            (_n(tip.x), _n(tip.y), _n(tip.width), escape(tip.text)) if tip else ("",) * 4
        )
        parts.append(
            f'<g class="chart-point"><circle class="chart-dot" cx="{x}" cy="{y}" r="{radius}" '
            f'aria-hidden="true"/><circle class="chart-focusable" cx="{x}" cy="{y}" r="{hit}" '
            f'fill="transparent" stroke="none" tabindex="0" role="img" '
            f'aria-label="{escape(p.label)}"/><g class="chart-tip" aria-hidden="true" '
            f'transform="translate({tip_x} {tip_y})"><rect width="{width}" '
            f'height="{tip_height}" rx="4" fill="#1b2629" stroke="none"/><text x="6" y="14" '
            f'font-size="11" fill="#ffffff" stroke="none">{text}</text></g></g>'
        )
    return mark_safe("".join(parts))


@register.filter
def day_rows(days, rolling_label: str) -> SafeString:
    """The daily table's rows, newest first."""
    labels = ("Mean before", "Mean after", escape(f"{rolling_label} mean before"), "Morning before")
    rows = []
    for row in reversed(days):
        cells = "".join(
            f'<td data-label="{label}">{escape(cell)}</td>'
            for label, cell in zip(labels, row.cells, strict=True)
        )
        rows.append(
            f'<tr><th scope="row">{date_format(row.day, "D j M Y")}</th>'
            f'<td data-label="Sessions">{row.sessions}</td>{cells}</tr>'
        )
    return mark_safe("\n        ".join(rows))
