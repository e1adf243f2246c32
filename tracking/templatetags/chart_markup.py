"""The markup of a chart's points, of the daily table and of the weekly table's rows,
built in Python.

A year of days is several hundred points drawn twice (wide and narrow) and as many table
rows; each was a template loop with a dozen variable lookups. The markup is the same;
every label and text is escaped exactly as the template escaped it.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

from lib.text import escape
from tracking.charts import Chart, PieceMemo, long_date, row_key, short_date
from tracking.charts import plain_number as _n
from tracking.presentation import DASH

register = template.Library()


@register.filter
def day_rows(days, rolling_label: str, memo: PieceMemo | None = None) -> SafeString:
    """The daily table's rows, newest first; with a ``memo``, the rows of the days before
    today come from it when they are there (a row is a pure function of ``row_key`` and
    the label), and are kept in it when they are not."""
    labels = ("Mean before", "Mean after", escape(f"{rolling_label} mean before"), "Morning before")
    rows = []
    for row in reversed(days):
        key = ("table-row", rolling_label, row_key(row)) if memo is not None else None
        markup = memo.get(key) if key is not None else None
        if markup is None:
            cells = "".join(
                f'<td data-label="{label}">{escape(cell)}</td>'
                for label, cell in zip(labels, row.cells, strict=True)
            )
            markup = (
                f'<tr><th scope="row">{long_date(row.day)}</th>'
                f'<td data-label="Sessions">{row.sessions}</td>{cells}</tr>'
            )
            if key is not None:
                memo.put(key, markup, row.day)
        rows.append(markup)
    return mark_safe("\n        ".join(rows))


def _checkin_cell(label: str, answer: str, asked: bool) -> str:
    if answer:
        shown = escape(capfirst(answer))
    elif not asked:
        shown = '<span class="muted">not asked</span>'
    else:
        shown = DASH
    return f'<td data-label="{label}">{shown}</td>'


@register.filter
def week_rows(trends, peg=None) -> SafeString:
    """The weekly table's rows, oldest first; a PEG-3 column when ``peg`` is given."""
    days_per_week = escape(trends.words.days_per_week)
    rows = []
    for w in trends.weeks:
        so_far = f", day {w.days_elapsed} of {days_per_week} so far" if w.in_progress else ""
        worst = DASH if w.worst is None else str(w.worst)
        peg_cell = ""
        if peg:
            p = peg.by_week.get(w.week)
            shown = (
                f'<strong>{escape(p.score)}</strong> <span class="small muted">'
                f"({escape(p.pain)}, {escape(p.enjoyment)}, {escape(p.activity)})</span>"
                if p
                else DASH
            )
            peg_cell = f'<td class="peg-cell" data-label="PEG-3">{shown}</td>'
        rows.append(
            f"<tr{' class="week-current"' if w.in_progress else ''}>"
            f'<th scope="row">Week {w.week} <span class="small muted week-dates">'
            f"{short_date(w.first_day)} – {short_date(w.last_day)}{so_far}"
            "</span></th>"
            f'<td data-label="Mean before">{escape(w.before_text)}</td>'
            f'<td data-label="Mean after">{escape(w.after_text)}</td>'
            f'<td data-label="Worst">{worst}</td>'
            f'<td data-label="Sessions done / prescribed">{w.done} / '
            f"{escape(w.prescribed_label)}</td>"
            f"{_checkin_cell('Daily movement', w.movement, w.checkin_asked)}"
            f"{_checkin_cell('Sleep', w.sleep, w.checkin_asked)}{peg_cell}</tr>"
        )
    return mark_safe("\n  ".join(rows))


def _fill(style) -> str:
    return "#ffffff" if style.marker == "hollow" else style.stroke


def _legend(chart: Chart) -> str:
    items = []
    for style in chart.legend:
        dash = f' stroke-dasharray="{escape(style.dash)}"' if style.dash else ""
        marker = (
            f'<circle cx="20" cy="6" r="{_n(style.marker_radius)}" stroke="{escape(style.stroke)}"'
            f' stroke-width="1.5" fill="{escape(_fill(style))}"/>'
            if style.marker
            else ""
        )
        items.append(
            '<li><svg class="chart-swatch" viewBox="0 0 40 12" width="40" height="12" '
            'aria-hidden="true" focusable="false"><line x1="2" y1="6" x2="38" y2="6" '
            f'stroke="{escape(style.stroke)}" stroke-width="{_n(style.width)}" '
            f'stroke-linecap="round"{dash}/>{marker}</svg> {escape(style.name)} '
            f'<span class="muted small">({escape(style.description)})</span></li>'
        )
    return "".join(items)


def _plot(chart: Chart) -> str:
    left, right, top, bottom = _n(chart.left), _n(chart.right), _n(chart.top), _n(chart.bottom)
    dom_id = escape(chart.dom_id)
    grid = "".join(
        f'<line x1="{left}" y1="{_n(t.pos)}" x2="{right}" y2="{_n(t.pos)}"/>' for t in chart.y_ticks
    )
    y_labels = "".join(
        f'<text x="{_n(chart.y_label_x)}" y="{_n(t.pos)}" dy="0.33em">{escape(t.label)}</text>'
        for t in chart.y_ticks
    )
    tick_end = _n(chart.x_tick_end)
    x_ticks = "".join(
        f'<line x1="{_n(t.pos)}" y1="{bottom}" x2="{_n(t.pos)}" y2="{tick_end}"/>'
        for t in chart.x_ticks
    )
    label_y = _n(chart.x_axis_label_y)
    last = len(chart.x_ticks) - 1
    x_labels = "".join(
        f'<text x="{_n(t.pos)}" y="{label_y}"{' text-anchor="end"' if i == last else ""}>'
        f"{escape(t.label)}</text>"
        for i, t in enumerate(chart.x_ticks)
    )
    lines, plain, focusable = [], [], []
    for series in chart.series:
        style = series.style
        dash = f' stroke-dasharray="{escape(style.dash)}"' if style.dash else ""
        polylines = "".join(
            f'<polyline class="chart-line" points="{escape(segment)}"/>'
            for segment in series.segments
        )
        lines.append(
            f'<g class="chart-line-{escape(series.key)}" fill="none" '
            f'stroke="{escape(style.stroke)}" stroke-width="{_n(style.width)}" '
            f'stroke-linecap="round" stroke-linejoin="round"{dash}>{polylines}</g>'
        )
        group = (
            f'<g class="chart-markers" stroke="{escape(style.stroke)}" stroke-width="1.5" '
            f'fill="{escape(_fill(style))}">'
        )
        if series.focusable:
            focusable.append(f"{group}{series.markup}</g>")
        elif style.marker:
            plain.append(f"{group}{series.markup}</g>")
    font = _n(chart.font_size)
    return (
        '<div class="chart-scroll">'
        f'<svg class="chart-svg" viewBox="{escape(chart.view_box)}" '
        'preserveAspectRatio="xMidYMid meet" role="group" '
        f'aria-labelledby="{dom_id}-title" font-family="system-ui, sans-serif">'
        f'<title id="{dom_id}-title">{escape(chart.title)}</title>'
        f'<g role="img" aria-label="{escape(chart.summary)}">'
        f'<g stroke="#c9d1cf" stroke-width="1">{grid}</g>'
        f'<g class="chart-axis-text chart-y-labels" font-size="{font}" fill="#3b4649" '
        f'text-anchor="end">{y_labels}</g>'
        '<g stroke="#3b4649" stroke-width="1.5">'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>'
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>{x_ticks}</g>'
        f'<g class="chart-axis-text chart-x-labels" font-size="{font}" fill="#3b4649" '
        f'text-anchor="middle">{x_labels}</g>'
        f"{''.join(lines)}{''.join(plain)}</g>{''.join(focusable)}</svg></div>"
        + (f'<p class="small muted chart-note">{escape(chart.note)}</p>' if chart.note else "")
    )


def _figure(chart: Chart) -> str:
    body = (
        _plot(chart) if chart.has_data else f'<p class="chart-empty">{escape(chart.empty_text)}</p>'
    )
    return (
        f'<figure class="chart chart-{escape(chart.layout.name)}" id="{escape(chart.dom_id)}">'
        f'<figcaption class="chart-caption"><span class="visually-hidden">'
        f"{escape(chart.title)}. </span>"
        f'<ul class="chart-legend">{_legend(chart)}</ul></figcaption>{body}</figure>'
    )


@register.filter
def figure(chart: Chart) -> SafeString:
    """The whole chart, drawn twice: the wide layout and, in ``chart.narrow``, the phone
    layout that CSS swaps in on a narrow screen (only one is ever displayed)."""
    html = _figure(chart)
    if chart.narrow:
        html += "\n" + _figure(chart.narrow)
    return mark_safe(html)
