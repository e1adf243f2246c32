"""Today's sums, which the rules read beside the days before today (tracking.plan.
today_totals): a column at a time, they must be exactly what summing the rows one by one
gives (``_add_day``, as the days before today are summed)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from stretches.progression import DOUBLE_LEG, FIGURE_FOUR, LYING_KNEE_TO_CHEST, MORNING, SINGLE_LEG
from tests.properties import examples
from tracking.plan import _add_day, today_totals

TODAY = date(2026, 12, 7)
# Stretch ids as the catalogue might number them; two ids never share a slug.
EXERCISES = {
    pk: SimpleNamespace(pk=pk, slug=slug)
    for pk, slug in ((1, SINGLE_LEG), (2, DOUBLE_LEG), (3, FIGURE_FOUR), (7, MORNING))
}
pain = st.integers(min_value=0, max_value=10)
rows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2**62),  # microseconds since the epoch
        st.integers(min_value=1, max_value=10**9),  # id
        st.sampled_from(sorted(EXERCISES)),
        pain,
        pain,
    ),
    max_size=120,
).map(tuple)


def one_by_one(raw):
    """Today summed a row at a time, as _compute_plan summed it before."""
    sums, per_exercise = {}, {}
    for _, _, exercise_id, before, after in raw:
        slug = EXERCISES[exercise_id].slug
        lying = 1 if slug in LYING_KNEE_TO_CHEST else 0
        _add_day(sums, TODAY, 1, lying, before, after, before, max(before, after))
        per_exercise[slug] = per_exercise.get(slug, 0) + 1
    return sums, per_exercise


@settings(max_examples=examples(400), deadline=None)
@given(rows)
def test_today_totals_are_the_rows_summed_one_by_one(raw):
    assert today_totals(raw, EXERCISES, TODAY) == one_by_one(raw)


def test_a_day_without_sessions_has_no_sums():
    """No row for today at all (not a row of zeros): the rules count days with sessions."""
    assert today_totals((), EXERCISES, TODAY) == ({}, {})


def test_the_worst_score_may_be_before_or_after_and_lying_counts_only_lying_stretches():
    raw = (
        (3, 3, 7, 2, 1),  # the morning stretch: not lying knee-to-chest
        (2, 2, 1, 6, 4),  # the worst: a before
        (1, 1, 2, 3, 8),  # the worst: an after
    )
    sums, per_exercise = today_totals(raw, EXERCISES, TODAY)
    # sessions, lying, before total, after total, highest before, worst
    assert sums == {TODAY: [3, 2, 11, 13, 6, 8]}
    assert per_exercise == {MORNING: 1, SINGLE_LEG: 1, DOUBLE_LEG: 1}
