"""Today's plan for a signed-in user: the database side of ``stretches.progression``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q

from accounts.models import Profile
from lib.cache import cached_for_user
from stretches.models import Exercise
from stretches.progression import (
    STAGES,
    STANDING_HUG_EVERY_HOURS,
    UNLOCK_WINDOW_DAYS,
    Frequency,
    PlanItem,
    Prescription,
    SessionFact,
    prescription_for,
)
from tracking.models import Session


def local_midnight(day: date, tz) -> datetime:
    """The instant a local day begins (DST-safe: built from the date, not by adding hours)."""
    return datetime.combine(day, time.min, tzinfo=tz)


@dataclass
class ItemToday:
    item: PlanItem
    exercise: Exercise
    done_today: int
    done_this_week: int

    @property
    def remaining(self) -> int:
        if self.item.frequency is Frequency.PER_WEEK:
            return max(0, self.item.times_max - self.done_this_week)
        return max(0, self.item.times - self.done_today)

    @property
    def frequency_text(self) -> str:
        item = self.item
        if item.frequency is Frequency.PER_WEEK:
            return f"{item.times}-{item.times_max} sessions a week"
        if item.frequency is Frequency.ON_WAKING:
            return "Once a day, before you get out of bed"
        if item.frequency is Frequency.WORK_BREAKS:
            return f"Every {STANDING_HUG_EVERY_HOURS} hours during desk work"
        return f"{item.times} session{'s' if item.times != 1 else ''} a day"

    @property
    def done_text(self) -> str:
        item = self.item
        if item.frequency is Frequency.PER_WEEK:
            return f"{self.done_this_week} done this week (aim for {item.times}-{item.times_max})"
        if item.frequency is Frequency.WORK_BREAKS:
            return f"{self.done_today} done today"
        return f"{min(self.done_today, item.times)} of {item.times} done today"

    @property
    def sides_text(self) -> str:
        sides = self.item.sides
        if sides == ("both",):
            return "both legs together"
        if sides == ("left", "right"):
            return "per leg"
        return f"{sides[0]} side only"

    @property
    def complete(self) -> bool:
        if self.item.frequency is Frequency.PER_WEEK:
            return self.done_this_week >= self.item.times
        return self.done_today >= self.item.times


@dataclass
class TodayPlan:
    prescription: Prescription
    items: list[ItemToday]
    today: date
    todays_sessions: list
    last_session: object | None

    @property
    def next_item(self) -> ItemToday | None:
        for entry in self.items:
            if entry.item.frequency is not Frequency.WORK_BREAKS and not entry.complete:
                return entry
        return None

    @property
    def stage_rules(self):
        return list(STAGES.values())

    @property
    def main(self) -> ItemToday:
        return self.items[0]

    def target_for(self, exercise: Exercise) -> int | None:
        """The hold prescribed today for ``exercise``; None when it is not in today's plan."""
        for entry in self.items:
            if entry.item.slug == exercise.slug:
                return entry.item.hold_target
        return None


def catalogue_rules() -> dict[str, Exercise]:
    """The stretches by slug, with only what plans and log forms read (not the long texts)."""
    return {
        exercise.slug: exercise
        for exercise in Exercise.objects.only(
            "slug", "name", "position", "hold_min_seconds", "hold_max_seconds", "reps"
        )
    }


def build_plan(profile: Profile) -> TodayPlan:
    """Today's plan, cached per user, data version and local day.

    The catalogue's rules are part of the key, so an admin edit is seen at once too.
    """
    catalogue = catalogue_rules()
    today = profile.local_today()
    rules = sorted(
        (e.slug, e.name, e.hold_min_seconds, e.hold_max_seconds, e.reps) for e in catalogue.values()
    )
    fingerprint = hashlib.blake2s(repr(rules).encode(), digest_size=8).hexdigest()
    return cached_for_user(
        profile, "plan-v2", lambda: _compute_plan(profile, catalogue, today), extra=(fingerprint,)
    )


def _compute_plan(profile: Profile, catalogue: dict[str, Exercise], today: date) -> TodayPlan:
    """Gather what the rules need in a fixed number of queries and ask them.

    The history is every session of the last 14 days plus every setback since the
    start: that is all ``prescription_for`` reads, so the query stays small after a
    year of twice-daily sessions.
    """
    tz = profile.tzinfo
    start = profile.programme_start
    window_start = local_midnight(today - timedelta(days=UNLOCK_WINDOW_DAYS - 1), tz)
    rows = list(
        Session.objects.filter(user_id=profile.user_id, performed_at__gte=local_midnight(start, tz))
        .filter(
            Q(performed_at__gte=window_start)
            | Q(has_stop_signal=True)
            | Q(pain_after__gte=F("pain_before") + 2)
        )
        .order_by("performed_at")
    )
    by_id = {exercise.pk: exercise for exercise in catalogue.values()}
    for row in rows:
        # The catalogue is already here: no join that would drag its text along per row.
        row.exercise = by_id[row.exercise_id]
    facts = [
        SessionFact(
            day=row.performed_at.astimezone(tz).date(),
            exercise=row.exercise.slug,
            pain_before=row.pain_before,
            pain_after=row.pain_after,
            stop_signal=row.has_stop_signal,
        )
        for row in rows
    ]
    prescription = prescription_for(
        start=start,
        today=today,
        phase=profile.phase_enum,
        history=facts,
        rules={slug: exercise.rule for slug, exercise in catalogue.items()},
        desk_work=profile.desk_work,
        sciatica_side=profile.sciatica_side,
    )
    week_start = today - timedelta(days=today.weekday())
    items = []
    for item in prescription.items:
        days = [f.day for f in facts if f.exercise == item.slug]
        items.append(
            ItemToday(
                item=item,
                exercise=catalogue[item.slug],
                done_today=sum(1 for d in days if d == today),
                done_this_week=sum(1 for d in days if week_start <= d <= today),
            )
        )
    todays = [row for row, fact in zip(rows, facts, strict=True) if fact.day == today]
    last = rows[-1] if rows and rows[-1].performed_at >= window_start else None
    if last is None:
        last = (
            Session.objects.filter(user_id=profile.user_id)
            .select_related("exercise")
            .order_by("-performed_at")
            .first()
        )
    return TodayPlan(prescription, items, today, list(reversed(todays)), last)


def prescribed_hold(profile: Profile, exercise: Exercise) -> int | None:
    """Today's prescribed hold for ``exercise``, stored beside a session logged now."""
    if profile.programme_start is None:
        return None
    return build_plan(profile).target_for(exercise)
