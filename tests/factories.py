"""Small state for tests: users in a known state, screenings, sessions, form posts.

``make_session`` stores a session the way ``tracking.services.log_session`` does (its
safety events stamped, the data version bumped) without going through a form.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.services import create_account
from stretches.models import Exercise, Screening
from stretches.screening import QUESTIONS, Answer, Verdict
from tracking.models import Session, Sides
from tracking.services import log_session, stamp_history

PASSWORD = "calm-Stretch-42"
# Queries a signed-in request spends before the view's own, on the first request after
# signing in: the session and the user with their profile. With the shared cache
# (REDIS_URL) the session was cached when it was saved at sign-in, and only the user is
# read (then cached too).
SIGNED_IN_QUERIES = 1 if os.environ.get("REDIS_URL") else 2


def all_no() -> dict[str, str]:
    return {q.id: Answer.NO.value for q in QUESTIONS}


def make_user(
    username: str | None = None,
    *,
    time_zone: str = "UTC",
    start: date | None | str = "today",
    screened: bool = True,
    **profile_fields,
):
    """A user with a profile; by default started today with a clear screening."""
    user = create_account(
        username=username or f"user-{uuid.uuid4().hex[:8]}", password=PASSWORD, time_zone=time_zone
    )
    profile = user.profile
    profile.programme_start = profile.local_today() if start == "today" else start
    for name, value in profile_fields.items():
        setattr(profile, name, value)
    profile.save()
    if screened:
        make_screening(user)
    return user


def make_screening(user, verdict: Verdict = Verdict.CLEAR, answers=None, taken_at=None):
    answers = answers or all_no()
    return Screening.objects.create(
        user=user,
        taken_at=taken_at or timezone.now(),
        answers=answers,
        verdict=verdict.value,
    )


def exercise(slug: str = "single-knee-to-chest") -> Exercise:
    return Exercise.objects.get(slug=slug)


def earlier_today(user, ago: timedelta) -> datetime:
    """``ago`` before now, but still today in the user's zone (at its midnight at the
    earliest): run in the first hours after midnight, "two hours ago" is yesterday, and a
    test of today's counts or of the question asked before the day's first session would
    fail then."""
    tz = user.profile.tzinfo
    now = timezone.now()
    midnight = datetime.combine(now.astimezone(tz).date(), time.min, tzinfo=tz)
    return max(now - ago, midnight)


def make_session(
    user, *, performed_at: datetime | None = None, slug: str = "single-knee-to-chest", **fields
) -> Session:
    defaults = {
        "sides": Sides.BOTH if slug == "double-knee-to-chest" else Sides.LEFT_AND_RIGHT,
        "reps_per_side": 3,
        "hold_seconds": 20,
        "hold_seconds_target": 20,
        "pain_before": 5,
        "pain_after": 4,
    }
    defaults.update(fields)
    stop = defaults.get("stop_signals") or []
    if performed_at is None:
        performed_at = earlier_today(user, timedelta(minutes=5))
    session = Session.objects.create(
        user=user,
        performed_at=performed_at,
        exercise=exercise(slug),
        has_stop_signal=bool(stop),
        **defaults,
    )
    stamp_history(user, [session])  # stamped and versioned as logging does
    return session


def log_stretch(user, *, when=None, before=4, after=3, signals=(), token=None):
    """A single-knee-to-chest session logged as the form does (``log_session``), now unless
    ``when``: (session, created)."""
    return log_session(
        user=user,
        exercise=exercise(),
        performed_at=when or timezone.now(),
        sides=Sides.LEFT_AND_RIGHT,
        reps_per_side=3,
        hold_seconds=15,
        hold_seconds_target=15,
        pain_before=before,
        pain_after=after,
        stop_signals=list(signals),
        client_token=token or uuid.uuid4(),
    )


def session_post(**overrides) -> dict:
    """A valid log-form submission; override any field."""
    data = {
        "exercise": "single-knee-to-chest",
        "sides": "left_right",
        "reps_per_side": "3",
        "hold_seconds": "20",
        "hold_seconds_target": "20",
        "pain_before": "5",
        "pain_after": "3",
        "client_token": str(uuid.uuid4()),
        "note": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def served_user(user_id):
    """The user as the next signed-in request reads it from the shared cache
    (accounts.backends with lib.cache.cached_user), active or not."""
    from accounts.backends import ProfileModelBackend
    from lib.cache import cached_user

    backend = ProfileModelBackend
    return cached_user(
        user_id,
        lambda: backend._load(user_id),
        lambda: backend._profile(user_id),
        backend._attach_profile,
    )


def spy_cache_reads(monkeypatch) -> list[tuple[str, object]]:
    """Every read of the shared cache from now on, in order: ("get", key) or ("get_many",
    keys). A round trip that also writes (lib.redis_cache.set_many_then_get_many) counts
    as its get_many; the local cache's get_many, which calls get, counts once."""
    from django.core.cache import cache

    reads: list[tuple[str, object]] = []
    inside: list[bool] = []

    def spying(name, kind, keys_of):
        real = getattr(cache, name)

        def spy(*args, **kwargs):
            if not inside:
                reads.append((kind, keys_of(*args)))
            inside.append(True)
            try:
                return real(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(cache, name, spy)

    spying("get", "get", lambda key, *rest: key)
    spying("get_many", "get_many", lambda keys, *rest: list(keys))
    if hasattr(cache, "set_many_then_get_many"):
        spying("set_many_then_get_many", "get_many", lambda entries, keys, *rest: list(keys))
    if hasattr(cache, "get_many_and_raw"):  # the user's read, with what is expected next
        spying("get_many_and_raw", "get_many", lambda keys, raw, *rest: [*keys, *raw])
    return reads


def ready_to_log(user):
    """A client signed in as ``user`` that has opened /today/ and answered the question
    asked before the day's first session ("no"): the log form's next POST is taken."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    assert client.get("/today/").status_code == 200
    client.post("/today/lasting-pain/", {"lasting": "no"})
    return client
