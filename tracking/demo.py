"""Realistic sample history for the demo account and the benchmarks.

Pain drifts down over the weeks with day-to-day noise, sessions come twice a day
with the odd missed one, and the morning routine is logged most days.
"""

import random
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from stretches.models import Exercise
from stretches.progression import calendar_stage
from tracking.models import PegScore, Session, Sides


def sample_sessions(user, *, start: date, days: int, tz: ZoneInfo, seed: int = 7) -> list[Session]:
    rng = random.Random(seed)
    catalogue = {e.slug: e for e in Exercise.objects.all()}
    single, morning = catalogue["single-knee-to-chest"], catalogue["morning-in-bed"]
    sessions = []
    for d in range(days):
        day = start + timedelta(days=d)
        progress = min(1.0, d / 42)
        base = 6.5 - 3.8 * progress + rng.uniform(-0.8, 0.8)
        rule = calendar_stage(d).rule
        slots = [(time(7, 10), morning), (time(8, 30), single), (time(18, 45), single)]
        for when, exercise in slots:
            if rng.random() < 0.08:  # the odd missed session
                continue
            before = max(0, min(10, round(base + (0.6 if exercise is morning else 0))))
            after = max(0, min(10, before - rng.choice([0, 1, 1, 2])))
            if rng.random() < 0.04:
                after = min(10, before + 1)
            hold = rule.hold_max if exercise is single else 20
            minute = rng.randint(0, 25)
            performed = datetime.combine(day, when, tzinfo=tz) + timedelta(minutes=minute)
            sessions.append(
                Session(
                    user=user,
                    performed_at=performed,
                    exercise=exercise,
                    sides=Sides.LEFT_AND_RIGHT,
                    reps_per_side=3,
                    hold_seconds=hold,
                    hold_seconds_target=hold,
                    pain_before=before,
                    pain_after=after,
                    client_token=uuid.uuid4(),
                )
            )
    return sessions


def sample_peg(user, *, weeks: int) -> list[PegScore]:
    """Weekly PEG-3 answers for weeks 1..weeks, easing as the pain does."""
    answers = [(7, 6, 7), (6, 6, 6), (6, 5, 5), (5, 4, 5), (4, 4, 4), (4, 3, 3), (3, 3, 3)]
    return [
        PegScore(user=user, week=week, pain=p, enjoyment=e, activity=g)
        for week, (p, e, g) in enumerate(answers[:weeks], start=1)
    ]
