"""SVG geometry for the progress charts: every coordinate is computed here, and the
markup of each point (``point_markup``), which a long range repeats hundreds of times.

Pure Python, no Django. A chart is a fixed ``viewBox`` that scales to the page; the
y axis is always the 0-10 pain scale so charts of different ranges read alike.

Each chart is laid out twice: ``WIDE`` for a desktop or a printed page, and ``NARROW``
for a phone (``Chart.narrow``), which CSS swaps in below a set width. Squeezing the
wide one into 320 px would shrink its text to 5 px, and letting it scroll hid the
newest weeks off to the right, so the phone gets its own drawing: fewer date labels,
larger text and tap targets, and never more than the newest six weeks.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from tracking.series import DayRow

PAIN_MAX = 10
TIP_FONT_WIDTH = 6.4  # average glyph width at the tooltip's 11px font, generous
TIP_HEIGHT = 20


@dataclass(frozen=True)
class Layout:
    """One way of drawing a chart: its viewBox, margins, labels and tap targets.

    Sizes are in viewBox units; the SVG scales to its box, so a unit is about 1.3 px in
    a desktop card and about 0.9 px on a 390 px phone.
    """

    name: str
    width: int
    height: int  # the pain chart
    small_height: int  # the morning and PEG-3 charts
    margin_left: int
    margin_right: int
    margin_top: int
    margin_bottom: int
    max_x_labels: int
    font_size: int
    # Radius of the invisible circle that takes taps and focus around each point:
    # WCAG 2.5.8 asks for 24 px targets, so about 10 units wide and 14 units narrow.
    hit_radius: float
    max_days: int | None  # keep only the newest days (a phone shows six weeks at most)


WIDE = Layout("wide", 720, 300, 200, 40, 28, 14, 36, 7, 12, 10, None)
NARROW = Layout("narrow", 340, 270, 200, 30, 14, 14, 36, 4, 14, 14, 42)

# Kept for callers that drew with the single layout.
WIDTH, HEIGHT, SMALL_HEIGHT = WIDE.width, WIDE.height, WIDE.small_height
MAX_X_LABELS = WIDE.max_x_labels


@dataclass(frozen=True)
class LineStyle:
    """Colour and line style together: the dash tells lines apart in grey print and for
    readers who do not see the colours."""

    name: str
    stroke: str
    dash: str  # stroke-dasharray; "" for solid
    width: float
    marker: str  # "filled", "hollow", or "" for a line without markers
    marker_radius: float
    description: str  # "solid line", said in the legend and the summary


BEFORE = LineStyle("Pain before (daily mean)", "#1d5c63", "", 2.5, "filled", 4, "solid line")
AFTER = LineStyle("Pain after (daily mean)", "#b04a00", "7 4", 2.5, "hollow", 4, "dashed line")
ROLLING = LineStyle("Pain before, 7-day mean", "#333333", "1 5", 3, "filled", 2.5, "dotted line")
MORNING = LineStyle("Morning pain before", "#5b2a86", "", 2.5, "filled", 4, "solid line")


@dataclass(frozen=True)
class Tip:
    """A small readout drawn beside a focused or hovered point (CSS shows it).

    ``x``/``y`` place its top-left corner; the text sits at a fixed offset inside.
    """

    x: float
    y: float
    width: float
    text: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    focusable: bool
    tip: Tip | None = None


@dataclass(frozen=True)
class Series:
    key: str
    style: LineStyle
    segments: list[str]  # polyline "x,y x,y" strings, split where a day has no value
    # Every point drawn without a ``PieceMemo``; with one, only those not taken from it.
    points: list[Point]
    focusable: bool = False
    markup: str = ""  # every point's markup (``point_markup``), oldest first
    count: int = 0  # how many points the series draws

    @property
    def has_points(self) -> bool:
        return self.count > 0


@dataclass
class PieceMemo:
    """What each point of the days before today draws, kept from one request to the next.

    A piece (a point's "x,y" for the line and its markup) is a pure function of its key:
    the chart, the layout, how many days the chart spans, the day's index and every value
    of that day's row that its label and readout read. So a piece found here is the piece
    this request would draw. Only days before ``today`` are kept: today's row changes with
    every session logged. ``tracking.progress_views.piece_memo`` loads and stores it, under
    the history version.
    """

    today: date
    pieces: dict = field(default_factory=dict)
    added: bool = False

    def get(self, key):
        return self.pieces.get(key)

    def put(self, key, piece, day: date) -> None:
        if day < self.today:
            self.pieces[key] = piece
            self.added = True


def row_key(row: DayRow) -> tuple:
    """Everything of a day's row that a chart point or a table row shows."""
    return (row.day.toordinal(), row.sessions, row.before, row.after, row.rolling, row.morning)


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    summary: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    series: list[Series]
    y_label: str = "Pain (0-10)"
    legend: list[LineStyle] = field(default_factory=list)
    layout: Layout = WIDE
    empty_text: str = "No sessions in this period."
    note: str = ""  # said under a narrow chart that leaves older days out
    narrow: Chart | None = None  # the phone drawing of the same chart

    @property
    def font_size(self) -> int:
        return self.layout.font_size

    @property
    def hit_radius(self) -> float:
        return self.layout.hit_radius

    @property
    def dom_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def tip_height(self) -> int:
        return TIP_HEIGHT

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def has_data(self) -> bool:
        return any(series.has_points for series in self.series)

    @property
    def x_axis_label_y(self) -> float:
        return self.bottom + 6 + self.layout.font_size

    @property
    def x_tick_end(self) -> float:
        return self.bottom + 5

    @property
    def y_label_x(self) -> float:
        return self.left - 6

    @property
    def center_x(self) -> float:
        return round((self.left + self.right) / 2, 1)

    @property
    def center_y(self) -> float:
        return round((self.top + self.bottom) / 2, 1)


# Every point's label and readout names its day, hundreds of times per chart: formatted
# once per day (strftime is the costly part), in English whatever the locale.
@functools.lru_cache(maxsize=4096)
def short_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


@functools.lru_cache(maxsize=4096)
def long_date(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _num(value: float) -> str:
    return f"{value:.1f}"


def _value(value: float) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


class _Frame:
    """Maps days and pain scores to coordinates inside the plot area."""

    def __init__(self, days: Sequence[date], height: int, layout: Layout = WIDE):
        self.days = list(days)
        self.layout = layout
        self.left = layout.margin_left
        self.right = layout.width - layout.margin_right
        self.top = layout.margin_top
        self.bottom = height - layout.margin_bottom
        self.step = (self.right - self.left) / max(1, len(self.days) - 1)

    def x(self, index: int) -> float:
        if len(self.days) == 1:
            return round((self.left + self.right) / 2, 1)
        return round(self.left + index * self.step, 1)

    def y(self, value: float) -> float:
        return round(self.bottom - (value / PAIN_MAX) * (self.bottom - self.top), 1)

    def y_ticks(self) -> list[Tick]:
        return [Tick(self.y(v), str(v)) for v in range(0, PAIN_MAX + 1, 2)]

    def x_ticks(self) -> list[Tick]:
        """Dated ticks counted back from the last day, so today always has a label."""
        count = len(self.days)
        step = max(1, math.ceil(count / self.layout.max_x_labels))
        if count > 14:
            step = 7 * math.ceil(step / 7)  # whole weeks read better on longer ranges
        indexes = range(count - 1, -1, -step)
        return [Tick(self.x(i), short_date(self.days[i])) for i in sorted(indexes)]

    def tip(self, x: float, y: float, text: str) -> Tip:
        width = round(len(text) * TIP_FONT_WIDTH + 12, 1)
        left = min(max(x - width / 2, self.left), self.right - width)
        above = y - TIP_HEIGHT - 8
        top = above if above >= 0 else y + 8
        return Tip(x=round(left, 1), y=round(top, 1), width=width, text=text)


def _escape(text) -> str:
    # What {{ text }} prints with autoescaping (lib.text.escape, without its Django import).
    return html.escape(str(text))


def plain_number(value) -> str:
    # What {{ value }} prints inside {% localize off %}: str() of the number.
    return "" if value is None else str(value)


_n = plain_number


def point_markup(point: Point, style: LineStyle, layout: Layout) -> str:
    """A point as drawn: a focusable one is the dot, the larger invisible target and the
    readout; any other is a marker with its <title> (none for a line without markers).

    The target's and the readout's colours and type size are the same for every point:
    they are in the stylesheet (.chart-focusable, .chart-tip), not repeated on each of
    the hundreds of points a long range draws."""
    radius = _n(style.marker_radius)
    x, y = _n(point.x), _n(point.y)
    label = _escape(point.label)
    if not point.focusable:
        if not style.marker:
            return ""
        return f'<circle cx="{x}" cy="{y}" r="{radius}"><title>{label}</title></circle>'
    tip = point.tip
    tip_x, tip_y, width, text = (
        (_n(tip.x), _n(tip.y), _n(tip.width), _escape(tip.text)) if tip else ("",) * 4
    )
    return (
        f'<g class="chart-point"><circle class="chart-dot" cx="{x}" cy="{y}" r="{radius}" '
        f'aria-hidden="true"/><circle class="chart-focusable" cx="{x}" cy="{y}" '
        f'r="{_n(layout.hit_radius)}" tabindex="0" role="img" '
        f'aria-label="{label}"/><g class="chart-tip" aria-hidden="true" '
        f'transform="translate({tip_x} {tip_y})"><rect width="{width}" '
        f'height="{_n(TIP_HEIGHT)}" rx="4"/><text x="6" y="14">{text}</text></g></g>'
    )


def _series(
    key: str,
    style: LineStyle,
    frame: _Frame,
    values: Sequence[float | int | None],
    label: Callable[[int], str],
    tip: Callable[[int], str],
    focusable: bool,
    *,
    rows: Sequence[DayRow] | None = None,
    memo: PieceMemo | None = None,
    chart: str = "",
) -> Series:
    """One line and its points. With a ``memo`` (and the ``rows`` the values come from,
    one per day), each day before today is drawn from it when it is there, and kept in it
    when it is not (``PieceMemo``): ``label`` and ``tip`` read nothing but that day's row."""
    segments: list[str] = []
    current: list[str] = []
    points = []
    markup = []
    count = 0
    frame_key = (chart, key, frame.layout.name, frame.top, frame.bottom, len(frame.days))
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(" ".join(current))
                current = []
            continue
        count += 1
        piece = memo_key = None
        if memo is not None and rows is not None:
            memo_key = (*frame_key, i, row_key(rows[i]))
            piece = memo.get(memo_key)
        if piece is None:
            x, y = frame.x(i), frame.y(value)
            # Only focusable points get a drawn readout; the others show their <title> on hover.
            readout = frame.tip(x, y, tip(i)) if focusable else None
            point = Point(x, y, label(i), focusable, readout)
            points.append(point)
            piece = (f"{_num(x)},{_num(y)}", point_markup(point, style, frame.layout))
            if memo_key is not None:
                memo.put(memo_key, piece, rows[i].day)
        current.append(piece[0])
        markup.append(piece[1])
    if current:
        segments.append(" ".join(current))
    # A lone day draws as its marker only; a one-point polyline would be invisible anyway.
    return Series(
        key,
        style,
        [s for s in segments if " " in s],
        points,
        focusable,
        markup="".join(markup),
        count=count,
    )


def _first_last(values: Sequence[float | int | None]) -> tuple[float | None, float | None]:
    present = [v for v in values if v is not None]
    return (present[0], present[-1]) if present else (None, None)


def _chart(frame: _Frame, *, key, title, summary, height, series, legend, **extra) -> Chart:
    """A Chart laid out on ``frame``: the plot area and ticks come from the frame."""
    return Chart(
        key=key,
        title=title,
        summary=summary,
        width=frame.layout.width,
        height=height,
        left=frame.left,
        right=frame.right,
        top=frame.top,
        bottom=frame.bottom,
        y_ticks=frame.y_ticks(),
        x_ticks=frame.x_ticks(),
        series=series,
        legend=legend,
        layout=frame.layout,
        **extra,
    )


def _newest(items: Sequence, layout: Layout) -> tuple[list, str]:
    """The newest days a layout keeps, and a note when older ones were left out."""
    items = list(items)
    if layout.max_days is None or len(items) <= layout.max_days:
        return items, ""
    weeks = layout.max_days // 7
    return items[-layout.max_days :], (
        f"On a narrow screen this chart shows the last {weeks} weeks; "
        "the table below has every day."
    )


def _with_narrow(
    build: Callable[..., Chart], items: Sequence, key: str, memo: PieceMemo | None
) -> Chart:
    """The wide chart, carrying its phone drawing (the newest days only) in ``narrow``."""
    kept, note = _newest(items, NARROW)
    narrow = build(kept, key=f"{key}-narrow", layout=NARROW, memo=memo)
    wide = build(items, key=key, layout=WIDE, memo=memo)
    return replace(wide, narrow=replace(narrow, note=note))


def pain_chart(
    rows: Sequence[DayRow], *, key: str = "pain", memo: PieceMemo | None = None
) -> Chart:
    """Daily mean pain before and after, and the 7-day rolling mean of pain before."""
    return _with_narrow(_pain_chart, rows, key, memo)


def _pain_chart(
    rows: Sequence[DayRow], *, key: str, layout: Layout, memo: PieceMemo | None = None
) -> Chart:
    frame = _Frame([r.day for r in rows], layout.height, layout)
    before = [r.before for r in rows]
    after = [r.after for r in rows]
    rolling = [r.rolling for r in rows]

    def day_label(i: int) -> str:
        r = rows[i]
        parts = [f"{long_date(r.day)}: pain before {_value(r.before)}"]
        if r.after is not None:
            parts.append(f"after {_value(r.after)}")
        if r.rolling is not None:
            parts.append(f"7-day mean {_value(r.rolling)}")
        sessions = f"{r.sessions} session{'' if r.sessions == 1 else 's'}"
        return ", ".join(parts) + f" ({sessions})"

    series = [
        _series(
            "rolling",
            ROLLING,
            frame,
            rolling,
            lambda i: f"{long_date(rows[i].day)}: 7-day mean of pain before {_value(rolling[i])}",
            lambda i: f"{short_date(rows[i].day)}: 7-day mean {_value(rolling[i])}",
            focusable=False,
            rows=rows,
            memo=memo,
            chart="pain",
        ),
        _series(
            "after",
            AFTER,
            frame,
            after,
            lambda i: f"{long_date(rows[i].day)}: pain after {_value(after[i])}",
            lambda i: f"{short_date(rows[i].day)}: after {_value(after[i])}",
            focusable=False,
            rows=rows,
            memo=memo,
            chart="pain",
        ),
        _series(
            "before",
            BEFORE,
            frame,
            before,
            day_label,
            lambda i: (
                f"{short_date(rows[i].day)}: before {_value(before[i])}"
                + (f", after {_value(after[i])}" if after[i] is not None else "")
            ),
            focusable=True,
            rows=rows,
            memo=memo,
            chart="pain",
        ),
    ]
    days_with = sum(1 for r in rows if r.sessions)
    span = f"from {long_date(rows[0].day)} to {long_date(rows[-1].day)}"
    if not days_with:
        summary = f"Pain chart {span}: no sessions in this period."
    else:
        b0, b1 = _first_last(before)
        a0, a1 = _first_last(after)
        summary = (
            f"Pain chart on a 0 to 10 scale {span}, {days_with} "
            f"day{'' if days_with == 1 else 's'} with sessions. "
            f"Daily mean pain before ({BEFORE.description}) went from {_value(b0)} to "
            f"{_value(b1)}; pain after ({AFTER.description}) from {_value(a0)} to "
            f"{_value(a1)}."
        )
        last_rolling = _first_last(rolling)[1]
        if last_rolling is not None:
            summary += f" Latest 7-day mean of pain before ({ROLLING.description}): " + (
                f"{_value(last_rolling)}."
            )
    return _chart(
        frame,
        key=key,
        title="Pain before and after sessions",
        summary=summary,
        height=layout.height,
        series=series,
        legend=[BEFORE, AFTER, ROLLING],
        empty_text=(
            "No sessions in this period. Log a session on today's page, with your pain "
            "before and after, and it appears here."
        ),
    )


def morning_chart(
    rows: Sequence[DayRow], *, key: str = "morning", memo: PieceMemo | None = None
) -> Chart:
    """Pain before the first session of each day (or the morning-in-bed routine)."""
    return _with_narrow(_morning_chart, rows, key, memo)


def _morning_chart(
    rows: Sequence[DayRow], *, key: str, layout: Layout, memo: PieceMemo | None = None
) -> Chart:
    frame = _Frame([r.day for r in rows], layout.small_height, layout)
    morning = [r.morning for r in rows]
    series = [
        _series(
            "morning",
            MORNING,
            frame,
            morning,
            lambda i: f"{long_date(rows[i].day)}: morning pain before {morning[i]}",
            lambda i: f"{short_date(rows[i].day)}: morning {morning[i]}",
            focusable=True,
            rows=rows,
            memo=memo,
            chart="morning",
        )
    ]
    days_with = sum(1 for v in morning if v is not None)
    span = f"from {long_date(rows[0].day)} to {long_date(rows[-1].day)}"
    if not days_with:
        summary = f"Morning pain chart {span}: no morning scores in this period."
    else:
        first, last = _first_last(morning)
        summary = (
            f"Morning pain before on a 0 to 10 scale {span}, {days_with} "
            f"day{'' if days_with == 1 else 's'} with a score: from {first} to {last}."
        )
    return _chart(
        frame,
        key=key,
        title="Morning pain before",
        summary=summary,
        height=layout.small_height,
        series=series,
        legend=[MORNING],
        empty_text=(
            "No morning scores in this period. The first session of a day, or the "
            "morning-in-bed routine, gives one."
        ),
    )


PEG = LineStyle("PEG-3 score (weekly)", "#1d5c63", "", 2.5, "filled", 4, "solid line")


def peg_chart(weeks: Sequence, *, key: str = "peg") -> Chart:
    """The weekly PEG-3 scores (``tracking.peg.PegWeek``, oldest first), one point a week.

    The axis runs over every programme week from the first answer to the latest; a
    week without answers leaves a gap, as a day without sessions does.
    """
    wide = _peg_chart(weeks, key=key, layout=WIDE)
    narrow = _peg_chart(weeks, key=f"{key}-narrow", layout=NARROW)
    return replace(wide, narrow=narrow)


def _peg_chart(weeks: Sequence, *, key: str, layout: Layout) -> Chart:
    span = list(range(weeks[0].week, weeks[-1].week + 1)) if weeks else []
    by_week = {w.week: w for w in weeks}
    first_days = [weeks[0].first_day + timedelta(weeks=n - weeks[0].week) for n in span]
    frame = _Frame(first_days, layout.small_height, layout)
    scores = [float(by_week[n].score) if n in by_week else None for n in span]

    def label(i: int) -> str:
        w = by_week[span[i]]
        return (
            f"Week {w.week}, from {long_date(w.first_day)}: PEG-3 score {w.score} "
            f"(pain {w.pain}, enjoyment of life {w.enjoyment}, general activity {w.activity})"
        )

    series = _series(
        "peg", PEG, frame, scores, label, lambda i: f"Week {span[i]}: {scores[i]:.1f}", True
    )
    step = max(1, math.ceil(len(span) / layout.max_x_labels))
    x_ticks = [Tick(frame.x(i), f"Week {span[i]}") for i in sorted(range(len(span) - 1, -1, -step))]
    if weeks:
        summary = (
            f"PEG-3 scores on a 0 to 10 scale, {len(weeks)} week{'' if len(weeks) == 1 else 's'} "
            f"answered: {weeks[0].score} in week {weeks[0].week}, {weeks[-1].score} in week "
            f"{weeks[-1].week}."
        )
    else:
        summary = "PEG-3 scores: no weekly answers yet."
    return Chart(
        key=key,
        title="PEG-3 score by week",
        summary=summary,
        width=layout.width,
        height=layout.small_height,
        left=frame.left,
        right=frame.right,
        top=frame.top,
        bottom=frame.bottom,
        y_ticks=frame.y_ticks(),
        x_ticks=x_ticks,
        series=[series],
        y_label="PEG-3 (0-10)",
        legend=[PEG],
        layout=layout,
        empty_text="No weekly answers yet.",
    )
