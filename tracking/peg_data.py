"""PEG-3 rows read from the database and handed to the pure functions in tracking/peg.py."""

from __future__ import annotations

from django.db.models import Exists

from accounts.models import Profile
from lib.cache import cached_for_user
from stretches.progression import programme_week
from tracking import charts
from tracking.models import PegScore, WeeklyCheckin
from tracking.peg import PegSummary, PegWeek, summarise
from tracking.series import week_bounds

PEG_SUMMARY = "peg-v1"


def peg_summary_for(user, profile: Profile) -> PegSummary:
    """Every answered week, oldest first, in one query (skipped weeks only counted).

    Cached under the history version: every PEG-3 answer moves it on."""
    return cached_for_user(profile, PEG_SUMMARY, lambda: _peg_summary(user, profile), history=True)


def _peg_summary(user, profile: Profile) -> PegSummary:
    rows = PegScore.objects.filter(user=user).values_list("week", "pain", "enjoyment", "activity")
    start = profile.programme_start or profile.local_today()
    weeks, skipped = [], 0
    for week, pain, enjoyment, activity in rows:
        if pain is None:
            skipped += 1
            continue
        weeks.append(PegWeek(week, week_bounds(start, week)[0], pain, enjoyment, activity))
    return summarise(weeks, skipped)


def peg_week_due(user, profile: Profile) -> int | None:
    """This programme week, when its PEG-3 has been neither answered nor skipped."""
    if profile.programme_start is None:
        return None
    week = programme_week(profile.programme_start, profile.local_today())
    if PegScore.objects.filter(user=user, week=week).exists():
        return None
    return week


def weekly_questions_due(user, week: int) -> dict:
    """Today's weekly questions still open, in one query: the check-in (asked from week 2,
    as week 1 has no week before it) and the PEG-3 (from week 1: the week before the
    programme is its baseline). Context for tracking/_checkin.html and tracking/_peg.html.

    Cached under the history version: every check-in and PEG-3 answer moves it on."""
    return cached_for_user(
        user.profile, "weekly-due-v1", lambda: _weekly_questions_due(user, week),
        extra=(week,), history=True,
    )  # fmt: skip


def _weekly_questions_due(user, week: int) -> dict:
    checkin_done, peg_done = (
        Profile.objects.filter(user=user)
        .order_by()
        .values_list(
            Exists(WeeklyCheckin.objects.filter(user=user, week=week)),
            Exists(PegScore.objects.filter(user=user, week=week)),
        )
        .get()
    )
    return {
        "checkin_week": week if week >= 2 and not checkin_done else None,
        "peg_week": week if week >= 1 and not peg_done else None,
    }


def peg_progress_context(user, profile: Profile) -> dict:
    """The PEG-3 trend beside the pain charts on /progress/."""
    summary = peg_summary_for(user, profile)
    return {"peg": summary, "peg_chart": charts.peg_chart(summary.weeks)}
