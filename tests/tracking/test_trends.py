"""Pain trends, the verdict and the chart geometry (SPEC 2.2), without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stretches.progression import Phase
from tracking import charts
from tracking.comparison import RULES, ComparisonOutcome, compare, judge
from tracking.exports import csv_safe
from tracking.presentation import fmt, relief_sentence
from tracking.series import (
    DayStats,
    Range,
    Totals,
    day_rows,
    parse_range,
    rolling_before,
    weekly_rows,
)
from tracking.signs import SignStatus, checkin_sign, morning_sign
from tracking.trends import build_trends

START = date(2026, 3, 2)  # a Monday: programme week 1 is 2-8 March
TODAY = START + timedelta(days=27)  # the last day of week 4

PROPERTY = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def day_of(day: date, befores: list[int], afters: list[int] | None = None) -> DayStats:
    afters = afters if afters is not None else [max(0, b - 1) for b in befores]
    return DayStats(
        day=day,
        sessions=len(befores),
        before_total=sum(befores),
        after_total=sum(afters),
        before_max=max(befores),
        worst=max(befores + afters),
    )


def history(baseline: list[int], recent: list[int], *, afters=None) -> dict[date, DayStats]:
    """Week 1 with the ``baseline`` scores spread over its 7 days, the last 7 days with ``recent``.

    Scores are dealt day by day, so a list of 10 gives some days two sessions.
    """
    stats = {}
    for first, scores in ((START, baseline), (TODAY - timedelta(days=6), recent)):
        per_day: dict[int, list[int]] = {}
        for index, score in enumerate(scores):
            per_day.setdefault(index % 7, []).append(score)
        for offset, befores in per_day.items():
            day = first + timedelta(days=offset)
            stats[day] = day_of(day, befores, None if afters is None else [afters] * len(befores))
    return stats


def outcome(baseline: list[int], recent: list[int]) -> ComparisonOutcome:
    return compare(history(baseline, recent), start=START, today=TODAY).outcome


# --- The verdict, branch by branch -------------------------------------------------


def test_down_2_points_and_33_percent_is_meaningful():
    assert outcome([6] * 7, [4] * 7) is ComparisonOutcome.MEANINGFUL


def test_down_20_percent_is_no_meaningful_change_even_with_2_points():
    assert outcome([10] * 7, [8] * 7) is ComparisonOutcome.NO_CHANGE


def test_down_exactly_30_percent_and_3_points_is_meaningful():
    assert outcome([10] * 7, [7] * 7) is ComparisonOutcome.MEANINGFUL


def test_down_30_percent_but_under_2_points_is_no_meaningful_change():
    # 5.0 -> 3.5: 30 % but only 1.5 points.
    assert outcome([5] * 7, [4, 3] * 7) is ComparisonOutcome.NO_CHANGE


def test_down_exactly_2_points_with_decimal_means_is_meaningful():
    # 5.6 -> 3.6: floats make this 1.9999999999999996; exact means keep it 2 (36 %).
    baseline = [6] * 6 + [5] * 4
    recent = [4] * 6 + [3] * 4
    assert sum(baseline) / 10 - sum(recent) / 10 < 2  # the trap is real
    assert outcome(baseline, recent) is ComparisonOutcome.MEANINGFUL


def test_down_just_under_2_points_is_no_meaningful_change():
    # 6.0 -> 4.1: down 1.9 points (31 %).
    assert outcome([6] * 10, [4] * 9 + [5]) is ComparisonOutcome.NO_CHANGE


def test_down_exactly_50_percent_is_substantial():
    assert outcome([4] * 7, [2] * 7) is ComparisonOutcome.SUBSTANTIAL


def test_down_50_percent_but_only_1_point_is_no_meaningful_change():
    # 2 -> 1 halves the pain but is under the 2-point bar: substantial needs meaningful too.
    assert outcome([2] * 7, [1] * 7) is ComparisonOutcome.NO_CHANGE


def test_down_50_percent_and_2_points_is_substantial():
    assert outcome([4] * 7, [2] * 7) is ComparisonOutcome.SUBSTANTIAL


def test_down_49_percent_is_meaningful_not_substantial():
    # 10.0 -> 5.1
    assert outcome([10] * 10, [5] * 9 + [6]) is ComparisonOutcome.MEANINGFUL


def test_all_zero_in_the_last_7_days_is_pain_free_before_substantial():
    assert outcome([6] * 7, [0] * 7) is ComparisonOutcome.PAIN_FREE


def test_mean_near_zero_with_one_score_above_zero_is_not_pain_free():
    assert outcome([6] * 7, [0] * 6 + [1]) is ComparisonOutcome.SUBSTANTIAL


def test_up_by_2_points_is_getting_worse():
    assert outcome([3] * 7, [5] * 7) is ComparisonOutcome.WORSE


def test_up_by_less_than_2_points_is_no_meaningful_change():
    assert outcome([3] * 7, [4, 5] * 7) is ComparisonOutcome.NO_CHANGE


def test_zero_baseline_staying_at_zero_is_pain_free():
    assert outcome([0] * 7, [0] * 7) is ComparisonOutcome.PAIN_FREE


def test_baseline_under_2_is_too_small_to_judge_even_when_pain_rises():
    assert outcome([0] * 7, [2] * 7) is ComparisonOutcome.TOO_SMALL
    assert outcome([1] * 7, [0, 1] * 7) is ComparisonOutcome.TOO_SMALL
    assert (
        "too small to judge"
        in compare(history([1] * 7, [5] * 7), start=START, today=TODAY).explanation
    )


def test_baseline_of_exactly_2_is_judged():
    assert outcome([2] * 7, [4] * 7) is ComparisonOutcome.WORSE


def test_no_change_reads_no_change():
    result = compare(history([5] * 7, [5] * 7), start=START, today=TODAY)
    assert result.outcome is ComparisonOutcome.NO_CHANGE
    assert result.numbers == "baseline 5.0, last 7 days 5.0: no change"


def test_numbers_show_baseline_recent_points_and_percent():
    # 6.2 -> 3.9: down 2.3 points, 37.1 % (2.3 / 6.2 = 0.37096...).
    result = compare(history([6, 6, 6, 6, 7] * 2, [4] * 9 + [3]), start=START, today=TODAY)
    assert result.numbers == "baseline 6.2, last 7 days 3.9: down 2.3 points, 37.1 %"
    assert result.outcome is ComparisonOutcome.MEANINGFUL


def test_every_figure_is_rounded_half_up_to_one_decimal():
    # 6.0 -> 4.05 is down 1.95 (32.5 %): one rounding, half away from zero, for every figure;
    # the verdict itself is decided on the exact values, so it is not meaningful.
    result = compare(history([6] * 20, [4] * 19 + [5]), start=START, today=TODAY)
    assert result.numbers == "baseline 6.0, last 7 days 4.1: down 2.0 points, 32.5 %"
    assert result.outcome is ComparisonOutcome.NO_CHANGE


@PROPERTY
@given(numerator=st.integers(-1000, 1000), denominator=st.integers(1, 60))
def test_one_format_rounds_half_up_to_one_decimal(numerator, denominator):
    exact = Fraction(numerator, denominator)
    shown = Fraction(fmt(exact))
    assert abs(shown - exact) <= Fraction(1, 20)
    if abs(shown - exact) == Fraction(1, 20):  # a tie goes away from zero
        assert abs(shown) > abs(exact)


def test_rise_reads_up():
    result = compare(history([3] * 7, [5] * 7), start=START, today=TODAY)
    assert result.numbers == "baseline 3.0, last 7 days 5.0: up 2.0 points, 66.7 %"


def test_in_session_relief_never_changes_the_verdict():
    big_relief = history([6] * 7, [4] * 7, afters=0)
    no_relief = history([6] * 7, [4] * 7, afters=9)
    assert (
        compare(big_relief, start=START, today=TODAY).outcome
        is compare(no_relief, start=START, today=TODAY).outcome
        is ComparisonOutcome.MEANINGFUL
    )


def test_verdict_waits_for_7_days_and_says_how_many_more():
    stats = {START + timedelta(days=k): day_of(START + timedelta(days=k), [5]) for k in range(5)}
    result = compare(stats, start=START, today=START + timedelta(days=13))
    assert result.outcome is ComparisonOutcome.WAITING
    assert result.days_logged == 5
    assert result.days_needed == 2
    assert "2 more days" in result.explanation


def test_verdict_counts_days_not_sessions():
    day = START + timedelta(days=6)
    stats = {day: day_of(day, [5] * 20)}
    result = compare(stats, start=START, today=START + timedelta(days=13))
    assert result.outcome is ComparisonOutcome.WAITING
    assert result.days_needed == 6


def test_verdict_waits_when_the_last_7_days_have_no_sessions():
    stats = history([6] * 7, [])
    result = compare(stats, start=START, today=TODAY)
    assert result.outcome is ComparisonOutcome.WAITING
    assert result.days_needed == 0
    assert "no sessions in the last 7 days" in result.explanation


def test_baseline_is_the_first_week_with_sessions_when_week_1_has_none():
    stats = {}
    for k in range(7, 14):  # week 2 only
        stats[START + timedelta(days=k)] = day_of(START + timedelta(days=k), [8])
    for k in range(21, 28):
        stats[START + timedelta(days=k)] = day_of(START + timedelta(days=k), [4])
    result = compare(stats, start=START, today=TODAY)
    assert result.baseline_week == 2
    assert result.baseline == 8
    assert result.outcome is ComparisonOutcome.SUBSTANTIAL


def test_days_before_the_start_date_count_in_week_1():
    stats = history([6] * 7, [3] * 7)
    before = START - timedelta(days=2)
    stats[before] = day_of(before, [10] * 7)
    result = compare(stats, start=START, today=TODAY)
    assert result.baseline == Fraction(6 * 7 + 70, 14)


@PROPERTY
@given(
    baseline=st.lists(st.integers(0, 10), min_size=7, max_size=21),
    recent=st.lists(st.integers(0, 10), min_size=7, max_size=21),
)
def test_verdict_follows_the_stated_precedence(baseline, recent):
    b, r = Fraction(sum(baseline), len(baseline)), Fraction(sum(recent), len(recent))
    meaningful = b - r >= 2 and (b - r) / b >= Fraction(3, 10) if b else False
    if all(score == 0 for score in recent):
        expected = ComparisonOutcome.PAIN_FREE
    elif b < 2:
        expected = ComparisonOutcome.TOO_SMALL
    elif meaningful and (b - r) / b >= Fraction(1, 2):
        expected = ComparisonOutcome.SUBSTANTIAL
    elif meaningful:
        expected = ComparisonOutcome.MEANINGFUL
    elif r - b >= 2:
        expected = ComparisonOutcome.WORSE
    else:
        expected = ComparisonOutcome.NO_CHANGE
    assert outcome(baseline, recent) is expected


# --- Series -------------------------------------------------------------------------


def test_unknown_range_falls_back_to_6_weeks():
    assert parse_range("4w") is Range.FOUR_WEEKS
    assert parse_range("all") is Range.ALL
    assert parse_range("52w") is Range.SIX_WEEKS
    assert parse_range(None) is Range.SIX_WEEKS
    assert parse_range("") is Range.SIX_WEEKS


def test_days_without_sessions_are_gaps_not_zeros():
    stats = {START: day_of(START, [4, 6]), START + timedelta(days=2): day_of(START, [2])}
    rows = day_rows(stats, {}, [START + timedelta(days=k) for k in range(3)])
    assert [r.before for r in rows] == [5.0, None, 2.0]
    assert rows[1].sessions == 0
    assert rows[1].after is None


def test_rolling_mean_weights_sessions_over_7_days_and_skips_empty_windows():
    d = [START + timedelta(days=k) for k in range(20)]
    stats = {d[0]: day_of(d[0], [8, 8, 8]), d[3]: day_of(d[3], [4])}
    rolling = rolling_before(stats, d)
    assert rolling[d[0]] == 8
    assert rolling[d[3]] == Fraction(28, 4)
    assert rolling[d[6]] == Fraction(28, 4)
    assert rolling[d[7]] == 4  # day 0 has left the window
    assert rolling[d[10]] is None  # nothing in the window: a gap


def test_last_rolling_value_equals_the_verdicts_last_7_days():
    stats = history([6] * 7, [5, 4, 3, 4, 2, 3, 4, 5, 1])
    rows = day_rows(stats, {}, [TODAY])
    result = compare(stats, start=START, today=TODAY)
    assert rows[0].rolling == pytest.approx(float(result.recent), abs=0.05)


# --- Weeks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "label"),
    [(Phase.STANDARD, "14"), (Phase.ACUTE, "21"), (Phase.MAINTENANCE, "3-4")],
)
def test_weekly_rows_use_the_current_phase_prescription(phase, label):
    stats = history([6] * 7, [4] * 7)
    rows = weekly_rows(stats, start=START, today=TODAY, first_day=START, phase=phase, checkins={})
    assert [r.week for r in rows] == [1, 2, 3, 4]
    assert {r.prescribed_label for r in rows} == {label}


def test_weekly_rows_hold_means_worst_sessions_and_checkins():
    stats = {
        START: day_of(START, [6, 4], [3, 8]),
        START + timedelta(days=1): day_of(START + timedelta(days=1), [5], [2]),
    }
    rows = weekly_rows(
        stats,
        start=START,
        today=START + timedelta(days=9),
        first_day=START,
        phase=Phase.STANDARD,
        checkins={2: ("better", "worse")},
    )
    week1, week2 = rows
    assert (week1.before, week1.after, week1.worst, week1.done) == (5.0, 4.3, 8, 3)
    assert not week1.in_progress
    assert week2.done == 0 and week2.before is None
    assert week2.in_progress and week2.days_elapsed == 3
    assert (week2.movement, week2.sleep) == ("better", "worse")


def test_adherence_counts_the_fewest_prescribed_over_elapsed_days():
    stats = history([6] * 14, [4] * 7)
    result = build_trends(
        stats=stats.values(),
        morning={},
        checkins={},
        programme_start=START,
        today=START + timedelta(days=9),
        phase=Phase.STANDARD,
        range_=Range.ALL,
    )
    # Week 1 in full (14) and 3 days of week 2 (6).
    assert result.adherence.expected == 20
    assert result.adherence.done == 14
    assert result.adherence.percent == 70


# --- Signs of progress --------------------------------------------------------------


def test_morning_scores_lower_by_a_point_are_a_sign_seen():
    morning = {START + timedelta(days=k): 6 for k in range(7)}
    morning |= {TODAY - timedelta(days=k): 4 for k in range(7)}
    sign = morning_sign(morning, start=START, today=TODAY, week=1)
    assert sign.status is SignStatus.SEEN
    assert sign.detail == "Mean morning score: baseline week 6.0, last 7 days 4.0: lower."


def test_morning_sign_needs_both_weeks():
    sign = morning_sign({START: 5}, start=START, today=TODAY, week=1)
    assert sign.status is SignStatus.UNKNOWN


def test_checkin_sign_seen_when_latest_answer_is_better():
    assert checkin_sign("sleep", "Better sleep", {2: "same", 3: "better"}).status is (
        SignStatus.SEEN
    )
    worse = checkin_sign("sleep", "Better sleep", {2: "better", 3: "worse"})
    assert worse.status is SignStatus.NOT_YET
    assert "1 better, 0 same, 1 worse" in worse.detail
    assert checkin_sign("sleep", "Better sleep", {}).status is SignStatus.UNKNOWN


def test_fewer_sessions_with_no_more_pain_is_less_need_for_stretching():
    stats = history([6] * 14, [4] * 7)
    result = build_trends(
        stats=stats.values(),
        morning={},
        checkins={},
        programme_start=START,
        today=TODAY,
        phase=Phase.STANDARD,
        range_=Range.SIX_WEEKS,
    )
    stretching = next(s for s in result.signs if s.key == "stretching")
    assert stretching.status is SignStatus.SEEN
    assert "7 sessions in the last 7 days, 14 in your baseline week" in stretching.detail


def test_maintenance_phase_is_less_need_for_stretching():
    result = build_trends(
        stats=history([6] * 14, [4] * 7).values(),
        morning={},
        checkins={},
        programme_start=START,
        today=TODAY,
        phase=Phase.MAINTENANCE,
        range_=Range.SIX_WEEKS,
    )
    stretching = next(s for s in result.signs if s.key == "stretching")
    assert stretching.status is SignStatus.SEEN
    assert "3-4" in stretching.detail


def test_relief_sentence_is_plain_and_signed():
    relief = Totals(sessions=2, before_total=10, after_total=7).relief
    assert relief_sentence(relief, "in May") == (
        "In May, pain was on average 1.5 points lower after a session than before it."
    )
    rise = Totals(sessions=1, before_total=3, after_total=5).relief
    assert "higher" in relief_sentence(rise, "today")
    assert (
        relief_sentence(Totals().relief, "in the last 7 days") == "No sessions in the last 7 days."
    )


def test_range_of_all_starts_at_the_earliest_record():
    stats = history([6] * 7, [4] * 7)
    early = START - timedelta(days=3)
    stats[early] = day_of(early, [7])
    result = build_trends(
        stats=stats.values(),
        morning={},
        checkins={},
        programme_start=START,
        today=TODAY,
        phase=Phase.STANDARD,
        range_=Range.ALL,
    )
    assert result.first_day == early
    assert len(result.days) == (TODAY - early).days + 1


def test_without_a_start_date_weeks_count_from_the_first_session():
    stats = history([6] * 7, [4] * 7)
    result = build_trends(
        stats=stats.values(),
        morning={},
        checkins={},
        programme_start=None,
        today=TODAY,
        phase=Phase.STANDARD,
        range_=Range.FOUR_WEEKS,
    )
    assert result.start == START
    assert result.start_is_first_session
    assert result.verdict.outcome is ComparisonOutcome.MEANINGFUL


# --- Chart geometry -----------------------------------------------------------------


def rows_for(befores: list[int | None]) -> list:
    stats = {
        START + timedelta(days=k): day_of(START + timedelta(days=k), [b])
        for k, b in enumerate(befores)
        if b is not None
    }
    days = [START + timedelta(days=k) for k in range(len(befores))]
    return day_rows(stats, {d: s.before_max for d, s in stats.items()}, days)


def test_chart_splits_lines_at_missing_days():
    chart = charts.pain_chart(rows_for([5, 4, None, 3, 2, None, None, 6]))
    before = next(s for s in chart.series if s.key == "before")
    assert len(before.segments) == 2  # 5-4 and 3-2; the lone 6 is a marker only
    assert len(before.points) == 5
    assert all(p.focusable for p in before.points)


def test_chart_maps_pain_0_to_the_bottom_and_10_to_the_top():
    chart = charts.pain_chart(rows_for([0, 10]))
    before = next(s for s in chart.series if s.key == "before")
    assert before.points[0].y == chart.bottom
    assert before.points[1].y == chart.top
    assert before.points[0].x == chart.left
    assert before.points[1].x == chart.right
    assert [t.label for t in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]


def test_chart_labels_points_with_date_and_value():
    chart = charts.pain_chart(rows_for([5]))
    point = next(s for s in chart.series if s.key == "before").points[0]
    assert point.label.startswith("Mon 2 Mar 2026: pain before 5.0")
    assert point.tip.text == "2 Mar: before 5.0, after 4.0"
    assert chart.left <= point.tip.x and point.tip.x + point.tip.width <= chart.right


def test_chart_lines_differ_by_dash_as_well_as_colour():
    styles = [charts.BEFORE, charts.AFTER, charts.ROLLING]
    assert len({s.dash for s in styles}) == 3
    assert len({s.stroke for s in styles}) == 3


def test_chart_has_a_dated_x_axis_ending_today_and_a_summary():
    rows = rows_for([5] * 42)
    chart = charts.pain_chart(rows)
    assert chart.x_ticks[-1].label == "12 Apr"
    assert len(chart.x_ticks) <= charts.MAX_X_LABELS
    assert "from Mon 2 Mar 2026 to Sun 12 Apr 2026" in chart.summary
    assert "42 days with sessions" in chart.summary


def test_empty_chart_says_so():
    chart = charts.pain_chart(rows_for([None, None]))
    assert not chart.has_data
    assert "no sessions in this period" in chart.summary


def test_morning_chart_draws_the_morning_series():
    chart = charts.morning_chart(rows_for([6, None, 4]))
    assert [p.label for p in chart.series[0].points] == [
        "Mon 2 Mar 2026: morning pain before 6",
        "Wed 4 Mar 2026: morning pain before 4",
    ]


# --- CSV cells ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_would_run_as_formulas_are_escaped(text):
    assert csv_safe(text) == "'" + text


def test_csv_cells_keep_plain_text_and_numbers():
    assert csv_safe("felt fine") == "felt fine"
    assert csv_safe(7) == 7
    assert csv_safe(None) == ""


# --- The comparison's rules as properties (SPEC 2.2) ---------------------------------

means = st.fractions(min_value=0, max_value=10, max_denominator=60)
improving = (ComparisonOutcome.SUBSTANTIAL, ComparisonOutcome.MEANINGFUL)


@PROPERTY
@given(baseline=means, recent=means, recent_max=st.integers(0, 10))
def test_substantial_implies_meaningful_and_meaningful_implies_2_points_and_30_percent(
    baseline, recent, recent_max
):
    result = judge(baseline, recent, max(recent_max, 1 if recent else 0))
    drop = baseline - recent
    if result is ComparisonOutcome.SUBSTANTIAL:
        assert judge(baseline, recent, 1, replace(RULES, substantial_fraction=Fraction(2))) is (
            ComparisonOutcome.MEANINGFUL
        )
        assert drop >= baseline / 2
    if result in improving:
        assert drop >= RULES.meaningful_points
        assert drop >= baseline * Fraction(30, 100)


@PROPERTY
@given(baseline=means, recent=means, recent_max=st.integers(1, 10))
def test_a_baseline_under_2_is_never_judged_better_or_worse(baseline, recent, recent_max):
    if baseline < RULES.smallest_baseline:
        assert judge(baseline, recent, recent_max) is ComparisonOutcome.TOO_SMALL


@PROPERTY
@given(
    scores=st.dictionaries(st.integers(-3, 40), st.lists(st.integers(0, 10), min_size=1)),
    today_index=st.integers(0, 40),
)
def test_nothing_is_judged_while_the_last_7_days_overlap_the_baseline_week(scores, today_index):
    stats = {
        START + timedelta(days=k): day_of(START + timedelta(days=k), befores)
        for k, befores in scores.items()
    }
    today = START + timedelta(days=today_index)
    result = compare(stats, start=START, today=today)
    if today_index < RULES.first_programme_day - 1:  # day 14 counts the start as day 1
        assert result.outcome is ComparisonOutcome.NOT_YET
        assert result.shown_from is not None and result.shown_from > today
    if result.outcome not in (ComparisonOutcome.NOT_YET, ComparisonOutcome.WAITING):
        baseline_last = START + timedelta(days=7 * result.baseline_week - 1)
        assert today - timedelta(days=RULES.recent_days - 1) > baseline_last


def test_day_14_is_the_first_day_with_a_comparison():
    day_13 = START + timedelta(days=12)
    day_14 = START + timedelta(days=13)
    stats = history([6] * 7, []) | {
        day_14 - timedelta(days=k): day_of(day_14 - timedelta(days=k), [4]) for k in range(7)
    }
    assert compare(stats, start=START, today=day_13).outcome is ComparisonOutcome.NOT_YET
    assert compare(stats, start=START, today=day_14).outcome is ComparisonOutcome.MEANINGFUL
    assert RULES.first_programme_day == 14


def compare_by_scanning(stats, *, start, today, rules=RULES):
    """``compare`` as first written, scanning every day for each window: the oracle for
    the version that looks each window's days up."""
    from tracking import presentation
    from tracking.comparison import Comparison, baseline_week, shown_from
    from tracking.series import week_bounds

    stats = {day: s for day, s in stats.items() if day <= today}
    days_logged = len(stats)
    week = baseline_week(stats, start) or rules.baseline_week
    first_shown = shown_from(start, week, rules)
    if today < first_shown:
        return Comparison(
            ComparisonOutcome.NOT_YET,
            baseline_week=week if stats else None,
            days_logged=days_logged,
            shown_from=first_shown,
            explanation=presentation.not_yet_sentence(
                first_shown, (first_shown - start).days + 1, rules.recent_days
            ),
        )
    if days_logged < rules.days_needed:
        return Comparison(
            ComparisonOutcome.WAITING,
            days_logged=days_logged,
            days_needed=rules.days_needed - days_logged,
            explanation=presentation.waiting_sentence(days_logged, rules.days_needed),
        )
    first, last = week_bounds(start, week)
    if week == rules.baseline_week:
        first = min(stats)
    baseline = Totals.of(s for day, s in stats.items() if first <= day <= last)
    recent_first = today - timedelta(days=rules.recent_days - 1)
    recent = Totals.of(s for day, s in stats.items() if day >= recent_first)
    common = {"baseline": baseline.before_mean, "baseline_week": week, "days_logged": days_logged}
    if not recent.sessions:
        return Comparison(
            ComparisonOutcome.WAITING,
            **common,
            explanation=(
                f"There are no sessions in the last {presentation.count(rules.recent_days, 'day')}"
                " to compare with your baseline week. Log a session and the comparison comes back."
            ),
        )
    outcome = judge(baseline.before_mean, recent.before_mean, recent.before_max, rules)
    return Comparison(
        outcome, **common, recent=recent.before_mean,
        explanation=presentation.explanation(outcome.value, rules),
    )  # fmt: skip


@PROPERTY
@given(
    # Day by day from three weeks before the start (sessions logged before it count in
    # week 1), each day's scores before sessions (none: a day without).
    days=st.lists(st.lists(st.integers(0, 10), max_size=3), min_size=30, max_size=100),
    today_index=st.integers(-5, 75),
)
def test_the_comparison_looks_its_windows_up_as_scanning_every_day_would(days, today_index):
    first = START - timedelta(days=21)
    stats = {
        first + timedelta(days=k): day_of(first + timedelta(days=k), befores)
        for k, befores in enumerate(days)
        if befores
    }
    today = START + timedelta(days=today_index)
    result = compare(stats, start=START, today=today)
    assert result == compare_by_scanning(stats, start=START, today=today)
    if stats:  # the days' first and last given, as the plan gives them: the same answer
        span = (min(stats), max(stats))
        assert compare(stats, start=START, today=today, span=span) == result
    event(result.outcome.value)


def test_counts_word_the_number_they_are_given():
    from tracking.presentation import count

    assert count(1, "session") == "1 session"
    assert count(True, "session") == "True session"  # worded apart: 1 == True as a key
    assert count(2, "rep") == "2 reps"
