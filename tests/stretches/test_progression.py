"""The programme's rules (SPEC 1.2-1.3) as pure functions: the stage is earned, setbacks and
gaps step it down, caps hold whatever happens."""

from datetime import date, timedelta

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from stretches import progression
from stretches.progression import (
    DOUBLE_LEG,
    MAX_ACUTE_SESSIONS_PER_DAY,
    MAX_DOUBLE_LEG_HOLD_SECONDS,
    MAX_HOLD_SECONDS,
    MORNING,
    SINGLE_LEG,
    STAGES,
    Change,
    DayFacts,
    ExerciseRule,
    Phase,
    Setback,
    SetbackKind,
    Stage,
    hold_cap,
    is_setback,
    prescription_for,
    programme_rules,
    sessions_per_week,
    stage_history,
)
from tests.properties import examples

START = date(2026, 3, 2)


def day(n: int) -> date:
    return START + timedelta(days=n)


def daily(first: int, last: int, *, pain: int = 2, lying: int = 2) -> list[DayFacts]:
    """Sessions every day from day ``first`` to ``last`` inclusive."""
    return [DayFacts(day(n), lying, lying, pain * lying, pain) for n in range(first, last + 1)]


def plan(today: int, days=(), setbacks=(), **kwargs):
    return prescription_for(
        start=START,
        today=day(today),
        phase=kwargs.pop("phase", Phase.STANDARD),
        days=days,
        setbacks=setbacks,
        **kwargs,
    )


def test_a_new_user_starts_at_foundation_whatever_the_start_date():
    # Start date 35 days back, nothing logged: day 36 is still foundation at 15 s.
    p = plan(35)
    assert p.stage is Stage.FOUNDATION
    assert p.calendar_stage is Stage.FULL
    assert p.hold_target == STAGES[Stage.FOUNDATION].hold_min
    assert "whatever the start date" in p.stage_reason


def test_steady_sessions_earn_build_in_week_3_and_full_in_week_5():
    days = daily(0, 40)
    assert plan(13, days).stage is Stage.FOUNDATION  # the calendar allows build from day 15
    assert plan(14, days).stage is Stage.BUILD
    assert plan(14, days).history.change is Change.STEP_UP
    assert plan(27, days).stage is Stage.BUILD
    assert plan(28, days).stage is Stage.FULL


def test_a_step_up_needs_sessions_on_5_of_the_last_7_days():
    # Only 4 days of the week before day 14 have sessions: no step up.
    days = daily(0, 6) + [f for f in daily(7, 13) if f.day.weekday() < 4]
    p = plan(14, days)
    assert p.stage is Stage.FOUNDATION
    assert "sessions on 5 of the last 7 days" in p.next_step


def test_a_setback_steps_down_one_stage_the_next_day_and_restarts_the_week():
    days = daily(0, 40)
    rise = Setback(day(20), SetbackKind.PAIN_RISE, rise=3)
    assert plan(20, days, [rise]).stage is Stage.BUILD  # the same day: unchanged
    p = plan(21, days, [rise])
    assert p.stage is Stage.FOUNDATION
    assert p.history.change is Change.SETBACK
    assert "your pain rose by 3" in p.stage_reason
    # A new 7-day evidence window: no step up before day 28.
    assert plan(27, days, [rise]).stage is Stage.FOUNDATION
    assert plan(28, days, [rise]).stage is Stage.BUILD


def test_two_setbacks_in_14_days_go_back_to_foundation():
    days = daily(0, 60)
    setbacks = [
        Setback(day(30), SetbackKind.STOP_SIGNAL),
        Setback(day(38), SetbackKind.PAIN_RISE, rise=2),
    ]
    p = plan(39, days, setbacks)
    assert p.stage is Stage.FOUNDATION
    assert p.history.change is Change.REPEAT_SETBACK


def test_a_gap_of_7_days_steps_down_and_14_days_returns_to_foundation():
    days = daily(0, 30)  # full from day 28, then nothing after day 30
    assert plan(36, days).stage is Stage.FULL
    week_gap = plan(37, days)
    assert week_gap.stage is Stage.BUILD
    assert "you have not stretched since" in week_gap.stage_reason
    assert "build up again over a week" in week_gap.stage_reason
    assert plan(44, days).stage is Stage.FOUNDATION


def test_getting_worse_freezes_step_ups():
    days = daily(0, 20)
    assert plan(14, days).stage is Stage.BUILD
    frozen = plan(14, days, worsening=True)
    assert frozen.stage is Stage.FOUNDATION
    assert frozen.suggest_acute
    assert "paused while your pain is getting worse" in frozen.next_step


def test_double_leg_unlocks_only_with_low_pain_and_starts_at_15_s():
    calm = plan(20, daily(0, 19, pain=2))
    assert calm.unlock.unlocked
    assert calm.main.slug == DOUBLE_LEG
    assert calm.main.hold_target == 15
    sore = plan(20, daily(0, 19, pain=5))
    assert not sore.unlock.unlocked
    assert sore.main.slug == SINGLE_LEG
    assert "mean pain" in sore.unlock.blocker


def test_double_leg_reaches_30_s_after_7_unlocked_days_and_a_setback_locks_it():
    days = daily(0, 40, pain=1)
    assert plan(28, days).main.hold_target == MAX_DOUBLE_LEG_HOLD_SECONDS
    locked = plan(28, days, [Setback(day(28), SetbackKind.PAIN_RISE, rise=2)])
    assert locked.main.slug == SINGLE_LEG


def test_double_leg_never_before_day_15():
    assert not plan(13, daily(0, 12, pain=0)).unlock.unlocked


def test_acute_flare_uses_foundation_holds_and_caps_the_day_at_3_sessions():
    p = plan(40, daily(0, 39), phase=Phase.ACUTE)
    assert p.stage is Stage.FULL  # earned, kept for later
    assert p.hold_max <= STAGES[Stage.FOUNDATION].hold_max
    assert p.daily_cap == MAX_ACUTE_SESSIONS_PER_DAY
    assert p.main.slug == SINGLE_LEG
    assert all(item.hold_max <= STAGES[Stage.FOUNDATION].hold_max for item in p.items)


def test_acute_is_suggested_after_two_painful_days():
    days = daily(0, 8, pain=2) + [DayFacts(day(9), 2, 2, 14, 7), DayFacts(day(10), 2, 2, 16, 8)]
    assert plan(10, days).suggest_acute


def test_the_setback_rule_is_a_stop_signal_or_a_rise_of_2():
    assert is_setback(pain_before=3, pain_after=5, stop_signal=False)
    assert not is_setback(pain_before=3, pain_after=4, stop_signal=False)
    assert is_setback(pain_before=5, pain_after=0, stop_signal=True)


def test_the_cap_follows_the_kind_not_the_name():
    assert hold_cap(both_legs=True) == MAX_DOUBLE_LEG_HOLD_SECONDS
    assert hold_cap(both_legs=False) == MAX_HOLD_SECONDS
    renamed = {
        DOUBLE_LEG: ExerciseRule(DOUBLE_LEG, 15, 60, 3, both_legs=True),
        MORNING: ExerciseRule(MORNING, 15, 60, 3),
    }
    p = plan(30, daily(0, 29, pain=0), rules=renamed)
    assert p.main.hold_max <= MAX_DOUBLE_LEG_HOLD_SECONDS


def test_sessions_per_week_has_one_home():
    assert sessions_per_week(Phase.STANDARD) == (14, 14)
    assert sessions_per_week(Phase.ACUTE) == (21, 21)
    assert sessions_per_week(Phase.MAINTENANCE) == (3, 4)


def test_the_rules_in_words_carry_the_numbers_from_the_table():
    text = " ".join(programme_rules())
    for rule in STAGES.values():
        assert rule.hold_range in text
    assert f"{MAX_HOLD_SECONDS} s" in text


# --- Properties -------------------------------------------------------------------------

facts = st.lists(
    st.builds(
        lambda n, lying, pain: DayFacts(day(n), max(lying, 1), lying, pain * max(lying, 1), pain),
        st.integers(0, 70),
        st.integers(0, 3),
        st.integers(0, 10),
    ),
    max_size=60,
    unique_by=lambda f: f.day,
)
setbacks = st.lists(
    st.builds(
        lambda n, kind: Setback(day(n), kind, rise=2),
        st.integers(0, 70),
        st.sampled_from(list(SetbackKind)),
    ),
    max_size=6,
)
wide_rules = st.fixed_dictionaries(
    {
        SINGLE_LEG: st.builds(
            lambda hi: ExerciseRule(SINGLE_LEG, 1, hi, 3), st.integers(1, MAX_HOLD_SECONDS)
        ),
        DOUBLE_LEG: st.builds(
            lambda hi: ExerciseRule(DOUBLE_LEG, 1, hi, 3, both_legs=True),
            st.integers(1, MAX_DOUBLE_LEG_HOLD_SECONDS),
        ),
    }
)


@given(
    facts,
    setbacks,
    st.integers(0, 70),
    st.sampled_from(list(Phase)),
    wide_rules,
    st.booleans(),
)
def test_no_prescription_ever_breaks_a_cap(days, backs, today, phase, rules, worsening):
    p = plan(today, days, backs, phase=phase, rules=rules, worsening=worsening)
    for item in p.items:
        assert item.hold_min <= item.hold_target <= item.hold_max <= MAX_HOLD_SECONDS
        if item.slug == DOUBLE_LEG:
            assert item.hold_max <= MAX_DOUBLE_LEG_HOLD_SECONDS
    if phase is Phase.ACUTE:
        assert p.daily_cap == MAX_ACUTE_SESSIONS_PER_DAY
        assert p.main.slug != DOUBLE_LEG


@given(facts, setbacks, st.integers(0, 70))
def test_the_stage_never_rises_within_7_days_after_a_setback(days, backs, today):
    p = plan(today, days, backs)
    recent = [s for s in backs if day(today) - timedelta(days=7) <= s.day < day(today)]
    if recent and p.history.change is Change.STEP_UP:
        assert all(p.history.entered - s.day > timedelta(days=7) for s in recent)


@given(st.integers(0, 400), st.sampled_from(list(Phase)))
def test_a_user_with_no_sessions_is_at_foundation(today, phase):
    p = plan(today, phase=phase)
    assert p.stage is Stage.FOUNDATION
    assert not p.unlock.unlocked


@given(facts, setbacks, st.integers(0, 70))
def test_the_stage_never_runs_ahead_of_the_calendar(days, backs, today):
    p = plan(today, days, backs)
    assert p.stage <= p.calendar_stage


@given(facts, setbacks, st.integers(0, 70), st.booleans(), st.lists(st.integers(0, 70), max_size=4))
def test_the_remembered_stage_history_is_always_the_walk_itself(
    days, backs, today, worsening, added
):
    """stage_history remembers its answers per process (a fresh plan after every logged
    session): asked again, after other arguments, with the caller's set changed since the
    first call or the other "worsening", the answer is the walk's own for those arguments."""
    walk = progression._stage_history.__wrapped__
    lying = {f.day for f in days if f.lying_sessions}
    first_lying = frozenset(lying)

    def asked(worse: bool):
        return stage_history(
            start=START, today=day(today), lying_days=lying, setbacks=backs, worsening=worse
        )

    first = asked(worsening)
    assert first == walk(START, day(today), first_lying, tuple(backs), worsening)
    for n in added:
        lying.add(day(n))  # the caller's set changes: what was remembered cannot
        for worse in (worsening, not worsening):
            assert asked(worse) == walk(START, day(today), frozenset(lying), tuple(backs), worse)
    lying.clear()
    lying.update(first_lying)
    assert asked(worsening) == first
    assert asked(not worsening) == walk(START, day(today), first_lying, tuple(backs), not worsening)


def unlock_by_walking(*, start, today, by_day, setbacks, phase):
    """The double-leg unlock as first written, reading every day and setback it is given:
    the oracle for the version that reads the last weeks only and remembers its answers."""
    from stretches.progression import (
        DOUBLE_LEG_FULL_AFTER_DAYS,
        UNLOCK_AFTER_DAYS,
        UNLOCK_DAYS_NEEDED,
        UNLOCK_MAX_MEAN_PAIN,
        UNLOCK_PAIN_WINDOW_DAYS,
        UNLOCK_WINDOW_DAYS,
        UnlockProgress,
    )

    def state_on(on):
        window = [on - timedelta(days=k) for k in range(1, UNLOCK_WINDOW_DAYS + 1)]
        logged = sum(1 for d in window if d in by_day and by_day[d].lying_sessions)
        recent = [by_day.get(on - timedelta(days=k)) for k in range(1, UNLOCK_PAIN_WINDOW_DAYS + 1)]
        sessions = sum(f.sessions for f in recent if f)
        mean = sum(f.before_total for f in recent if f) / sessions if sessions else None
        first = on - timedelta(days=UNLOCK_WINDOW_DAYS)
        blocker = ""
        if any(first <= s.day <= on for s in setbacks):
            blocker = f"a setback in the last {UNLOCK_WINDOW_DAYS} days"
        elif mean is None or mean > UNLOCK_MAX_MEAN_PAIN:
            blocker = (
                f"mean pain before sessions over the last {UNLOCK_PAIN_WINDOW_DAYS} days "
                f"needs to be {UNLOCK_MAX_MEAN_PAIN} or less"
            )
        ok = (on - start).days >= UNLOCK_AFTER_DAYS and logged >= UNLOCK_DAYS_NEEDED and not blocker
        return ok, logged, mean, blocker

    unlocked, logged, mean, blocker = state_on(today)
    if phase is Phase.ACUTE and unlocked:
        blocker = "the double-leg stretch waits until the acute flare has settled"
        unlocked = False
    run, on = 0, today
    if unlocked:
        while run < DOUBLE_LEG_FULL_AFTER_DAYS and state_on(on - timedelta(days=1))[0]:
            run += 1
            on -= timedelta(days=1)
    return UnlockProgress(
        unlocked=unlocked,
        days_since_start=max(0, (today - start).days),
        days_logged=logged,
        mean_pain=mean,
        blocker=blocker,
        unlocked_days=run,
    )


@settings(max_examples=examples(300), deadline=None)
@given(
    # Two lying sessions at low pain every day from the start (so that unlocks and runs of
    # unlocked days happen), but for a few days: none, painful, or other stretches.
    defects=st.lists(
        st.tuples(
            st.integers(0, 90),
            st.sampled_from([None, (1, 0, 2), (2, 1, 8), (3, 3, 4), (2, 2, 4), (1, 1, 9)]),
        ),
        max_size=6,
    ),
    pain=st.integers(0, 3),
    setback_days=st.lists(st.integers(0, 90), max_size=2),
    today=st.integers(0, 90),
    phase=st.sampled_from(list(Phase)),
)
def test_the_unlock_reads_the_last_weeks_as_walking_every_day_would(
    defects, pain, setback_days, today, phase
):
    days: dict[int, tuple | None] = dict.fromkeys(range(today + 1), (2, 2, pain))
    days |= {n: facts for n, facts in defects if n <= today}
    by_day = {
        day(n): DayFacts(day(n), sessions, lying, score * sessions, score)
        for n, facts in days.items()
        if facts is not None
        for sessions, lying, score in [facts]
    }
    setbacks = [Setback(day(n), SetbackKind.PAIN_RISE, 2) for n in setback_days if n <= today]
    arguments = {"start": START, "today": day(today), "by_day": by_day, "setbacks": setbacks}
    expected = unlock_by_walking(**arguments, phase=phase)
    event(f"unlocked days: {expected.unlocked_days}")
    assert progression._unlock(**arguments, phase=phase) == expected
    assert progression._unlock(**arguments, phase=phase) == expected  # remembered


@given(
    facts,
    setbacks,
    st.integers(0, 70),
    st.sampled_from(list(Phase)),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 3)),
    st.integers(0, 10),
)
@settings(max_examples=examples(300), deadline=None)
def test_the_days_kept_by_date_give_the_plan_the_list_gives(
    days, backs, today, phase, desk, worsening, lying_today, pain_today
):
    """tracking.plan keeps the days before today by date (``DaysByDate``, once per history
    version) and adds today's on every plan: the same plan as the list of days, whatever
    the days, setbacks, phase and today's sessions (none, lying or not); a ``DaysByDate``
    made for another start or day is read as its days."""
    now = day(today)
    before = [f for f in days if f.day < now]
    listed = list(before)
    kept = progression.DaysByDate.of(before, start=START, today=now)
    if lying_today is not None:
        facts = DayFacts(now, max(lying_today, 1), lying_today, pain_today, pain_today)
        listed.append(facts)
        kept = kept.with_today(facts)
    common = {"phase": phase, "desk_work": desk, "worsening": worsening, "sciatica_side": "left"}
    expected = plan(today, listed, backs, **common)
    assert plan(today, kept, backs, **common) == expected
    made_elsewhere = progression.DaysByDate.of(listed, start=START - timedelta(days=3), today=now)
    assert plan(today, made_elsewhere, backs, **common) == expected


def test_todays_facts_replace_a_lying_day_that_is_no_more():
    now = day(20)
    kept = progression.DaysByDate.of([DayFacts(now, 1, 1, 2, 2)], start=START, today=now)
    assert now in kept.lying_days
    plain = kept.with_today(DayFacts(now, 1, 0, 2, 2))
    assert now not in plain.lying_days and plain.by_day[now].lying_sessions == 0
    assert now in kept.lying_days  # the kept days are never changed
    with pytest.raises(ValueError):
        kept.with_today(DayFacts(now - timedelta(days=1), 1, 1, 2, 2))
