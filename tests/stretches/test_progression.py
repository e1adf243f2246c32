"""The week-by-week programme and its safety rules (SPEC 1.2-1.3), without a database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stretches.progression import (
    DOUBLE_LEG,
    FIGURE_FOUR,
    MORNING,
    SINGLE_LEG,
    STANDING_HUG,
    ExerciseRule,
    Frequency,
    Phase,
    SessionFact,
    Stage,
    calendar_stage,
    prescription_for,
)

# A Monday, so the weekday of any programme day is easy to read off.
START = date(2025, 3, 3)
SLUGS = (SINGLE_LEG, DOUBLE_LEG, FIGURE_FOUR, STANDING_HUG, MORNING)

# No example database: these tests must not leave a .hypothesis/ folder in the repo.
PROPERTY = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def day(index: int) -> date:
    return START + timedelta(days=index)


def make_session(
    index: int,
    *,
    exercise: str = SINGLE_LEG,
    pain_before: int = 3,
    pain_after: int = 2,
    stop_signal: bool = False,
) -> SessionFact:
    return SessionFact(day(index), exercise, pain_before, pain_after, stop_signal)


def make_daily_sessions(first: int, last: int, **kwargs) -> list[SessionFact]:
    """One session a day on programme days ``first`` to ``last`` inclusive."""
    return [make_session(i, **kwargs) for i in range(first, last + 1)]


def plan_on(index: int, history=(), phase: Phase = Phase.STANDARD, **kwargs):
    return prescription_for(start=START, today=day(index), phase=phase, history=history, **kwargs)


def item(prescription, slug: str):
    matches = [i for i in prescription.items if i.slug == slug]
    assert len(matches) <= 1
    return matches[0] if matches else None


# --- 1.2 Stage by calendar week ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day_index", "stage"),
    [
        (0, Stage.FOUNDATION),
        (6, Stage.FOUNDATION),
        (7, Stage.FOUNDATION),
        (13, Stage.FOUNDATION),
        (14, Stage.BUILD),
        (27, Stage.BUILD),
        (28, Stage.FULL),
        (400, Stage.FULL),
    ],
)
def test_calendar_stage_follows_the_programme_weeks(day_index, stage):
    assert calendar_stage(day_index) == stage


def test_day_1_is_week_1_of_foundation_with_a_15_s_target():
    p = plan_on(0)
    assert (p.week, p.day_number) == (1, 1)
    assert p.stage == p.calendar_stage == Stage.FOUNDATION
    assert (p.hold_min, p.hold_max, p.hold_target) == (15, 20, 15)
    assert (p.reps_min, p.reps_max) == (2, 3)
    assert p.main.slug == SINGLE_LEG


def test_week_2_of_foundation_targets_the_upper_end_of_20_s():
    p = plan_on(7, make_daily_sessions(0, 7))
    assert p.week == 2
    assert p.stage == Stage.FOUNDATION
    assert (p.hold_min, p.hold_max, p.hold_target) == (15, 20, 20)


def test_last_day_of_week_2_is_still_foundation():
    p = plan_on(13, make_daily_sessions(0, 13))
    assert p.week == 2
    assert p.stage == Stage.FOUNDATION


def test_week_3_moves_to_build_holds_when_last_week_was_clean():
    # Morning-routine sessions: clean, but they do not unlock the 30 s double-leg stretch.
    p = plan_on(14, make_daily_sessions(0, 14, exercise=MORNING))
    assert p.week == 3
    assert p.stage == p.calendar_stage == Stage.BUILD
    assert (p.hold_min, p.hold_max, p.hold_target) == (30, 45, 30)
    assert not p.held_back
    assert p.held_back_reason == ""


def test_week_4_of_build_targets_the_upper_end_of_45_s():
    p = plan_on(21, make_daily_sessions(0, 21, exercise=FIGURE_FOUR))
    assert p.week == 4
    assert p.stage == Stage.BUILD
    assert (p.hold_min, p.hold_max, p.hold_target) == (30, 45, 45)


def test_week_5_moves_to_full_holds_starting_at_45_s():
    p = plan_on(28)
    assert p.week == 5
    assert p.stage == Stage.FULL
    assert (p.hold_min, p.hold_max, p.hold_target) == (45, 60, 45)


def test_week_6_of_full_targets_the_upper_end_of_60_s():
    p = plan_on(35)
    assert p.stage == Stage.FULL
    assert p.hold_target == 60


def test_a_year_in_the_programme_stays_at_full_holds_of_at_most_60_s():
    p = plan_on(365)
    assert p.stage == Stage.FULL
    assert (p.hold_min, p.hold_max, p.hold_target) == (45, 60, 60)


def test_sessions_dated_before_the_programme_start_are_ignored():
    before_start = [
        SessionFact(START - timedelta(days=k), SINGLE_LEG, 2, 8, True) for k in range(1, 8)
    ]
    assert plan_on(14, before_start).stage == Stage.BUILD


# --- 1.2 Phases --------------------------------------------------------------------------


def test_standard_phase_prescribes_two_sessions_a_day():
    p = plan_on(20)
    assert p.sessions_per_day == 2
    assert p.sessions_per_week is None
    assert p.main.frequency is Frequency.PER_DAY
    assert (p.main.times, p.main.times_max) == (2, 2)


def test_acute_flare_prescribes_three_sessions_a_day_within_the_stage_hold_range():
    acute = plan_on(20, phase=Phase.ACUTE)
    standard = plan_on(20, phase=Phase.STANDARD)
    assert acute.sessions_per_day == 3
    assert (acute.main.times, acute.main.times_max) == (3, 3)
    assert acute.stage == standard.stage == Stage.BUILD
    assert (acute.hold_min, acute.hold_max, acute.hold_target) == (
        standard.hold_min,
        standard.hold_max,
        standard.hold_target,
    )


def test_maintenance_prescribes_three_to_four_sessions_a_week():
    p = plan_on(50, phase=Phase.MAINTENANCE)
    assert p.sessions_per_day is None
    assert p.sessions_per_week == (3, 4)
    assert p.main.frequency is Frequency.PER_WEEK
    assert (p.main.times, p.main.times_max) == (3, 4)


def test_maintenance_keeps_the_full_stage_holds_once_reached():
    p = plan_on(50, phase=Phase.MAINTENANCE)
    assert p.stage == Stage.FULL
    assert (p.hold_min, p.hold_max) == (45, 60)


# --- 1.3 Double-leg unlock ---------------------------------------------------------------


def test_double_leg_unlocks_on_day_15_after_daily_clean_single_leg_sessions():
    p = plan_on(14, make_daily_sessions(0, 14))
    assert p.unlock.unlocked
    assert p.unlock.days_since_start == 14
    assert p.main.slug == DOUBLE_LEG
    assert p.main.sides == ("both",)
    assert not p.main.per_leg


def test_double_leg_stays_locked_on_day_14_even_with_daily_sessions():
    p = plan_on(13, make_daily_sessions(0, 13))
    assert not p.unlock.unlocked
    assert p.main.slug == SINGLE_LEG
    assert p.main.sides == ("left", "right")


def test_double_leg_unlocks_with_single_leg_sessions_on_10_of_the_last_14_days():
    p = plan_on(14, make_daily_sessions(5, 14))
    assert p.unlock.days_logged == 10
    assert p.unlock.unlocked


def test_double_leg_stays_locked_with_single_leg_sessions_on_only_9_of_the_last_14_days():
    p = plan_on(14, make_daily_sessions(6, 14))
    assert p.unlock.days_logged == 9
    assert not p.unlock.unlocked
    assert p.main.slug == SINGLE_LEG


def test_two_sessions_on_one_day_count_as_one_logged_day_toward_unlock():
    history = make_daily_sessions(6, 14) + make_daily_sessions(6, 14)
    p = plan_on(14, history)
    assert p.unlock.days_logged == 9
    assert not p.unlock.unlocked


def test_single_leg_sessions_older_than_14_days_do_not_count_toward_unlock():
    history = make_daily_sessions(0, 16) + make_daily_sessions(22, 30)
    p = plan_on(30, history)
    assert p.unlock.days_logged == 9
    assert not p.unlock.unlocked


def test_other_exercises_do_not_count_toward_the_double_leg_unlock():
    history = [
        make_session(i, exercise=slug)
        for i in range(0, 15)
        for slug in (FIGURE_FOUR, STANDING_HUG, MORNING)
    ]
    p = plan_on(14, history)
    assert p.unlock.days_logged == 0
    assert not p.unlock.unlocked


def test_a_stop_signal_in_the_last_14_days_keeps_double_leg_locked():
    history = make_daily_sessions(0, 14)
    history[3] = make_session(3, stop_signal=True)
    p = plan_on(14, history)
    assert not p.unlock.unlocked
    assert "stop signal" in p.unlock.blocker
    assert p.main.slug == SINGLE_LEG


def test_a_stop_signal_older_than_14_days_no_longer_blocks_the_unlock():
    history = make_daily_sessions(0, 18)
    history[3] = make_session(3, stop_signal=True)
    p = plan_on(18, history)
    assert p.unlock.unlocked


def test_any_pain_rise_in_the_last_7_days_keeps_double_leg_locked():
    history = make_daily_sessions(0, 14)
    history[8] = make_session(8, pain_before=3, pain_after=4)
    p = plan_on(14, history)
    assert not p.unlock.unlocked
    assert "pain" in p.unlock.blocker
    assert p.main.slug == SINGLE_LEG


def test_a_pain_rise_older_than_7_days_does_not_block_the_unlock():
    history = make_daily_sessions(0, 14)
    history[7] = make_session(7, pain_before=3, pain_after=4)
    assert plan_on(14, history).unlock.unlocked


def test_pain_after_equal_to_pain_before_does_not_block_the_unlock():
    history = make_daily_sessions(0, 14, pain_before=4, pain_after=4)
    assert plan_on(14, history).unlock.unlocked


def test_double_leg_stays_locked_during_an_acute_flare():
    p = plan_on(20, make_daily_sessions(0, 20), phase=Phase.ACUTE)
    assert not p.unlock.unlocked
    assert "acute" in p.unlock.blocker
    assert p.main.slug == SINGLE_LEG


def test_double_leg_hold_is_capped_at_30_s_in_the_full_stage():
    p = plan_on(40, make_daily_sessions(0, 40))
    assert p.stage == Stage.FULL
    assert p.main.slug == DOUBLE_LEG
    assert p.main.hold_max == p.hold_max == 30
    assert p.main.hold_target == p.hold_target == 30
    assert p.main.hold_min <= 30


def test_double_leg_hold_stays_at_30_s_even_when_its_rule_allows_90():
    rules = {DOUBLE_LEG: ExerciseRule(DOUBLE_LEG, 60, 90, 3)}
    p = plan_on(40, make_daily_sessions(0, 40), rules=rules)
    assert p.main.slug == DOUBLE_LEG
    assert max(p.main.hold_min, p.main.hold_max, p.main.hold_target) <= 30


def test_single_leg_and_other_holds_stay_at_most_60_s_even_when_rules_allow_more():
    rules = {slug: ExerciseRule(slug, 90, 200, 3) for slug in SLUGS}
    p = plan_on(40, rules=rules, desk_work=True, sciatica_side="right")
    assert p.main.slug == SINGLE_LEG
    for plan_item in p.items:
        assert max(plan_item.hold_min, plan_item.hold_max, plan_item.hold_target) <= 60


# --- 1.3 Hold back ------------------------------------------------------------------------


def test_held_at_30_45_s_names_the_pain_rise_and_the_weekday_of_the_session():
    history = make_daily_sessions(0, 28)
    # Day 22 of a programme that began on a Monday is a Tuesday.
    history[22] = make_session(22, pain_before=2, pain_after=5)
    p = plan_on(28, history)
    assert p.calendar_stage == Stage.FULL
    assert p.stage == Stage.BUILD
    assert p.held_back
    assert (p.hold_min, p.hold_max) == (30, 45)
    assert "rose by 3" in p.held_back_reason
    assert "Tuesday" in p.held_back_reason
    assert p.held_back_reason == (
        "Held at 30-45 s because your pain rose by 3 after Tuesday's session."
    )


def test_week_3_stays_at_foundation_holds_after_a_pain_rise_of_2_in_the_last_week():
    history = make_daily_sessions(0, 14)
    history[10] = make_session(10, pain_before=3, pain_after=5)
    p = plan_on(14, history)
    assert p.stage == Stage.FOUNDATION
    assert p.calendar_stage == Stage.BUILD
    assert (p.hold_min, p.hold_max) == (15, 20)
    assert p.held_back_reason.startswith("Held at 15-20 s because your pain rose by 2 after ")
    assert day(10).strftime("%A") in p.held_back_reason


def test_a_pain_rise_of_1_does_not_hold_the_stage_back():
    history = make_daily_sessions(0, 14)
    history[10] = make_session(10, pain_before=3, pain_after=4)
    p = plan_on(14, history)
    assert p.stage == Stage.BUILD
    assert not p.held_back


def test_a_stop_signal_in_the_last_week_holds_the_stage_back():
    history = make_daily_sessions(0, 28)
    history[25] = make_session(25, pain_before=3, pain_after=1, stop_signal=True)
    p = plan_on(28, history)
    assert p.stage == Stage.BUILD
    assert p.held_back
    assert p.held_back_reason == (
        "Held at 30-45 s because you reported a stop signal after Friday's session."
    )


def test_a_setback_yesterday_is_named_as_yesterdays_session():
    history = make_daily_sessions(0, 28)
    history[27] = make_session(27, stop_signal=True)
    assert "yesterday's session" in plan_on(28, history).held_back_reason


def test_a_setback_today_is_named_as_todays_session():
    history = make_daily_sessions(0, 28)
    history[28] = make_session(28, pain_before=1, pain_after=7)
    assert "rose by 6 after today's session" in plan_on(28, history).held_back_reason


def test_the_stage_steps_up_once_the_setback_is_more_than_7_days_old():
    history = make_daily_sessions(0, 29, exercise=FIGURE_FOUR)
    history[22] = make_session(22, exercise=FIGURE_FOUR, pain_before=2, pain_after=5)
    p = plan_on(29, history)
    assert p.stage == Stage.FULL
    assert not p.held_back
    # A stage reached late still starts at the lower end of its range.
    assert p.hold_target == 45


def test_a_held_back_user_climbs_one_stage_at_a_time():
    history = make_daily_sessions(0, 21, pain_before=3, pain_after=5)
    on_day_27 = plan_on(27, history)
    on_day_28 = plan_on(28, history)
    on_day_35 = plan_on(35, history)
    assert on_day_27.stage == Stage.FOUNDATION
    assert on_day_28.stage == Stage.BUILD
    assert on_day_28.calendar_stage == Stage.FULL
    assert on_day_28.hold_target == 30
    assert "one stage at a time" in on_day_28.held_back_reason
    assert on_day_35.stage == Stage.FULL


# --- 1.2 Maintenance suggestion -----------------------------------------------------------


def test_maintenance_is_suggested_after_7_days_in_a_row_of_pain_before_0_or_1():
    history = [make_session(i, pain_before=i % 2, pain_after=0) for i in range(10, 17)]
    assert plan_on(16, history).suggest_maintenance


def test_maintenance_is_not_suggested_when_one_of_the_7_days_had_pain_before_2():
    history = [make_session(i, pain_before=0, pain_after=0) for i in range(10, 17)]
    history.append(make_session(13, pain_before=2, pain_after=0))
    assert not plan_on(16, history).suggest_maintenance


def test_maintenance_is_not_suggested_after_only_6_days_of_low_pain():
    history = [make_session(i, pain_before=0, pain_after=0) for i in range(11, 17)]
    assert not plan_on(16, history).suggest_maintenance


def test_maintenance_is_not_suggested_when_a_day_in_the_7_has_no_session():
    history = [make_session(i, pain_before=0, pain_after=0) for i in range(8, 17) if i != 12]
    assert not plan_on(16, history).suggest_maintenance


def test_maintenance_is_not_suggested_to_a_user_already_in_maintenance():
    history = [make_session(i, pain_before=0, pain_after=0) for i in range(10, 17)]
    assert not plan_on(16, history, phase=Phase.MAINTENANCE).suggest_maintenance


# --- Plan items ----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", list(Phase))
def test_the_morning_routine_is_always_in_the_plan(phase):
    for index in (0, 20, 100):
        morning = item(plan_on(index, phase=phase), MORNING)
        assert morning is not None
        assert morning.frequency is Frequency.ON_WAKING
        assert morning.reps == 3
        assert morning.sides == ("left", "right")


@pytest.mark.parametrize("side", ["left", "right"])
def test_figure_four_is_added_on_the_sciatica_side(side):
    figure_four = item(plan_on(20, sciatica_side=side), FIGURE_FOUR)
    assert figure_four is not None
    assert figure_four.sides == (side,)
    assert (figure_four.hold_min, figure_four.hold_max) == (20, 30)
    assert figure_four.reps == 3


def test_figure_four_is_left_out_without_sciatica():
    assert item(plan_on(20), FIGURE_FOUR) is None
    assert item(plan_on(20, sciatica_side="both"), FIGURE_FOUR) is None


def test_standing_knee_hug_is_added_for_desk_workers_at_work_breaks():
    hug = item(plan_on(20, desk_work=True), STANDING_HUG)
    assert hug is not None
    assert hug.frequency is Frequency.WORK_BREAKS
    assert hug.hold_target == 30
    assert hug.sides == ("left", "right")


def test_standing_knee_hug_is_left_out_for_people_who_do_not_work_at_a_desk():
    assert item(plan_on(20, desk_work=False), STANDING_HUG) is None


# --- Properties ------------------------------------------------------------------------------

PHASES = st.sampled_from(list(Phase))
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
day_indexes = st.one_of(st.integers(0, 40), st.integers(0, 400))


# Stop signals are rare, so that some histories stay clean enough to unlock double-leg.
rarely_true = st.sampled_from([True, *[False] * 5])


@st.composite
def session_facts(draw, start: date, today: date):
    # Slightly outside the programme's dates too: those must be ignored, not crash.
    when = draw(st.dates(min_value=start - timedelta(days=3), max_value=today + timedelta(3)))
    return SessionFact(
        day=when,
        exercise=draw(st.sampled_from(SLUGS)),
        pain_before=draw(st.integers(0, 10)),
        pain_after=draw(st.integers(0, 10)),
        stop_signal=draw(rarely_true),
    )


@st.composite
def histories(draw, start: date, today: date):
    facts = draw(st.lists(session_facts(start, today), max_size=40))
    if draw(st.booleans()):
        # A run of clean daily lying sessions, so the double-leg unlock is reachable.
        days = draw(st.integers(0, 20))
        for k in range(days):
            when = today - timedelta(days=k)
            pain = draw(st.integers(0, 10))
            slug = draw(st.sampled_from([SINGLE_LEG, DOUBLE_LEG]))
            facts.append(SessionFact(when, slug, pain, pain))
    return facts


rule_overrides = st.dictionaries(
    st.sampled_from(SLUGS),
    st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(1, 10)),
).map(lambda d: {slug: ExerciseRule(slug, *values) for slug, values in d.items()})


@st.composite
def scenarios(draw, min_day_index: int = 0):
    start = draw(starts)
    day_index = draw(day_indexes.filter(lambda i: i >= min_day_index))
    today = start + timedelta(days=day_index)
    return {
        "start": start,
        "today": today,
        "phase": draw(PHASES),
        "history": draw(histories(start, today)),
        "rules": draw(rule_overrides),
        "desk_work": draw(st.booleans()),
        "sciatica_side": draw(st.sampled_from(["", "left", "right"])),
    }


def expected_calendar_stage(day_index: int) -> Stage:
    week = day_index // 7 + 1
    if week >= 5:
        return Stage.FULL
    if week >= 3:
        return Stage.BUILD
    return Stage.FOUNDATION


@PROPERTY
@given(scenarios())
def test_no_hold_ever_exceeds_60_s_nor_30_s_for_double_knee_to_chest(scenario):
    p = prescription_for(**scenario)
    assert max(p.hold_min, p.hold_max, p.hold_target) <= 60
    for plan_item in p.items:
        cap = 30 if plan_item.slug == DOUBLE_LEG else 60
        assert max(plan_item.hold_min, plan_item.hold_max, plan_item.hold_target) <= cap
    if p.main.slug == DOUBLE_LEG:
        assert max(p.hold_min, p.hold_max, p.hold_target) <= 30


@PROPERTY
@given(scenarios())
def test_an_acute_flare_never_prescribes_more_than_3_sessions_a_day(scenario):
    p = prescription_for(**{**scenario, "phase": Phase.ACUTE})
    assert p.sessions_per_day is not None
    assert p.sessions_per_day <= 3
    for plan_item in p.items:
        if plan_item.frequency is Frequency.PER_DAY:
            assert plan_item.times <= plan_item.times_max <= 3


@PROPERTY
@given(scenarios())
def test_the_effective_stage_never_leads_the_calendar_stage(scenario):
    p = prescription_for(**scenario)
    day_index = (scenario["today"] - scenario["start"]).days
    assert p.calendar_stage == expected_calendar_stage(day_index)
    assert p.stage <= p.calendar_stage
    assert p.held_back == bool(p.held_back_reason)


@PROPERTY
@given(scenarios(min_day_index=1), st.data())
def test_a_setback_in_the_last_7_days_never_yields_a_step_up(scenario, data):
    start, today = scenario["start"], scenario["today"]
    day_index = (today - start).days
    setback_day = today - timedelta(days=data.draw(st.integers(0, min(6, day_index))))
    if data.draw(st.booleans()):
        setback = SessionFact(setback_day, SINGLE_LEG, 3, 3, stop_signal=True)
    else:
        pain_before = data.draw(st.integers(0, 8))
        pain_after = data.draw(st.integers(pain_before + 2, 10))
        setback = SessionFact(
            setback_day, data.draw(st.sampled_from(SLUGS)), pain_before, pain_after
        )
    history = [*scenario["history"], setback]
    on_today = prescription_for(**{**scenario, "history": history})
    on_yesterday = prescription_for(
        **{**scenario, "history": history, "today": today - timedelta(days=1)}
    )
    assert on_today.stage <= on_yesterday.stage


@PROPERTY
@given(scenarios())
def test_double_leg_never_unlocks_before_day_15(scenario):
    p = prescription_for(**scenario)
    if (scenario["today"] - scenario["start"]).days < 14:
        assert not p.unlock.unlocked
        assert all(plan_item.slug != DOUBLE_LEG for plan_item in p.items)
    if p.unlock.unlocked:
        assert p.unlock.days_since_start >= 14
        assert p.main.slug == DOUBLE_LEG


@PROPERTY
@given(scenarios())
def test_double_leg_never_unlocks_in_an_acute_flare_or_after_a_recent_stop_signal(scenario):
    p = prescription_for(**scenario)
    today = scenario["today"]
    recent = [
        f
        for f in scenario["history"]
        if scenario["start"] <= f.day <= today and (today - f.day).days < 14
    ]
    if scenario["phase"] is Phase.ACUTE or any(f.stop_signal for f in recent):
        assert not p.unlock.unlocked


@PROPERTY
@given(scenarios())
def test_the_main_target_lies_within_its_range_with_the_default_rules(scenario):
    p = prescription_for(**{**scenario, "rules": None})
    for plan_item in p.items:
        assert plan_item.hold_min <= plan_item.hold_target <= plan_item.hold_max
