"""Today's plan for a signed-in user: the database side of ``stretches.progression``."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import pickle
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import NamedTuple

from django.db.models import Count, Max, Sum
from django.db.models.functions import Greatest, TruncDate

from accounts.models import Profile
from lib.cache import (
    CACHE_SECONDS,
    cached_for_user,
    cached_shared,
    cached_under,
    forget_expected,
    prefetch,
    prefetched,
    user_key,
)
from lib.page_cache import memoised, unmarked
from lib.redis_cache import Pickled
from stretches.models import Exercise, StopSignal
from stretches.progression import (
    LYING_KNEE_TO_CHEST,
    MAX_ACUTE_SESSIONS_PER_DAY,
    STANDING_HUG_EVERY_HOURS,
    DayFacts,
    DaysByDate,
    Frequency,
    Phase,
    PlanItem,
    Prescription,
    prescription_for,
    programme_rules,
)
from stretches.safety import setbacks_for
from stretches.signals import CATALOGUE, CATALOGUE_COPY
from tracking.comparison import ComparisonOutcome, compare
from tracking.day_queries import day_sessions
from tracking.models import Session
from tracking.series import DayStats


def local_midnight(day: date, tz) -> datetime:
    """The instant a local day begins (DST-safe: built from the date, not by adding hours)."""
    return datetime.combine(day, time.min, tzinfo=tz)


@dataclass
class ItemToday:
    item: PlanItem
    exercise: Exercise
    done_today: int
    done_this_week: int
    all_today: int  # every session today, whichever stretch (the acute flare's cap counts these)

    @property
    def frequency_text(self) -> str:
        item = self.item
        if item.frequency is Frequency.PER_WEEK:
            return f"{item.times}-{item.times_max} sessions a week"
        if item.frequency is Frequency.ON_WAKING:
            return "Once a day, before you get out of bed"
        if item.frequency is Frequency.WORK_BREAKS:
            return f"Every {STANDING_HUG_EVERY_HOURS} hours during desk work"
        if item.frequency is Frequency.SHARED_DAILY:
            return f"Part of your {item.times} sessions a day in total"
        return f"{item.times} session{'s' if item.times != 1 else ''} a day"

    @property
    def done_text(self) -> str:
        item = self.item
        if item.frequency is Frequency.PER_WEEK:
            return f"{self.done_this_week} done this week (aim for {item.times}-{item.times_max})"
        if item.frequency is Frequency.WORK_BREAKS:
            return f"{self.done_today} done today"
        if item.frequency is Frequency.SHARED_DAILY:
            return f"{min(self.all_today, item.times)} of {item.times} done today, all stretches"
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
        if self.item.frequency is Frequency.SHARED_DAILY:
            return self.all_today >= self.item.times
        return self.done_today >= self.item.times


class TodaySession(NamedTuple):
    """One of today's sessions, as the plan shows it: what the counts, the daily cap and
    "Done today" read, and no more (a tuple is several times cheaper to make than a model
    instance)."""

    pk: int
    performed_at: datetime
    exercise: Exercise
    pain_before: int
    pain_after: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# One of today's sessions in plain numbers: (microseconds since the epoch, id, stretch id,
# pain before, pain after). Tuples of them sort newest first by (time, id), reversed.
type RawRow = tuple[int, int, int, int, int]


def micros_of(instant: datetime) -> int:
    """An aware instant as whole microseconds since the epoch (exact, any time zone)."""
    return (instant - _EPOCH) // _MICROSECOND


def instant_of(micros: int) -> datetime:
    """``micros_of`` back into an aware instant, in UTC (as the database gives them)."""
    return _EPOCH + micros * _MICROSECOND


class TodayRows(Sequence):
    """Today's sessions, newest first: a sequence of ``TodaySession`` kept as plain numbers.

    The plan is pickled into the shared cache on every log POST and read back on the next,
    each POST adds a row to the rows before it, and a person may log dozens of sessions
    in a day: as a tuple of tuples of numbers the rows pickle, unpickle and sort in C.
    A ``TodaySession`` is made only for the rows asked for, once each (the same row is the
    same object every time: the plan's last session is today's newest, the very row).
    ``exercises`` holds each row's stretch by id, once.
    """

    __slots__ = ("_made", "exercises", "raw")

    def __init__(self, raw: tuple[RawRow, ...], exercises: dict[int, Exercise]):
        self.raw = raw
        self.exercises = exercises
        self._made: dict[int, TodaySession] = {}

    @classmethod
    def of(cls, sessions) -> TodayRows:
        """Rows from ``TodaySession`` rows (any order kept as given)."""
        exercises: dict[int, Exercise] = {}
        raw = []
        for row in sessions:
            exercise = exercises.setdefault(row.exercise.pk, row.exercise)
            raw.append(
                (micros_of(row.performed_at), row.pk, exercise.pk, row.pain_before, row.pain_after)
            )
        return cls(tuple(raw), exercises)

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.raw)))]
        if index < 0:
            index += len(self.raw)
            if index < 0:
                raise IndexError("TodayRows index out of range")
        made = self._made.get(index)
        if made is None:
            micros, pk, exercise, before, after = self.raw[index]  # IndexError past the end
            made = TodaySession(pk, instant_of(micros), self.exercises[exercise], before, after)
            self._made[index] = made
        return made

    def __eq__(self, other) -> bool:
        if isinstance(other, TodayRows | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # a sequence compared by value, as a list

    def __repr__(self) -> str:
        return f"TodayRows({list(self)!r})"

    def __reduce__(self):
        return (TodayRows, (self.raw, self.exercises))

    def with_row(self, row: RawRow, exercise: Exercise) -> TodayRows:
        """These rows and one more, newest first."""
        exercises = self.exercises
        if exercises.get(exercise.pk) is not exercise:
            exercises = {**exercises, exercise.pk: exercise}
        raw = self.raw
        if not raw or row > raw[0]:
            return TodayRows((row, *raw), exercises)  # the newest (nearly always)
        return TodayRows(tuple(sorted((row, *raw), reverse=True)), exercises)


@dataclass
class TodayPlan:
    prescription: Prescription
    items: list[ItemToday]
    today: date
    todays_sessions: TodayRows
    # The last session before today (a Session, from the history cache: the lasting-pain
    # question asks about it and may add a stop signal to it), or today's newest.
    last_session: Session | TodaySession | None
    last_session_day: date | None = None

    @property
    def asks_lasting_pain(self) -> bool:
        """Before the day's first session: did the last session's pain last over 2 hours?"""
        # Compared by date, not by the list of today's sessions: a session saved between
        # the two reads (a double tap) is today's, and asks nothing.
        return self.last_session_day is not None and self.last_session_day < self.today

    @property
    def daily_cap_reached(self) -> bool:
        cap = self.prescription.daily_cap
        return cap is not None and len(self.todays_sessions) >= cap

    @property
    def rules(self) -> tuple[str, ...]:
        return programme_rules()

    @property
    def stop_signals(self) -> list[str]:
        return [label for _, label in StopSignal.choices]

    @property
    def next_item(self) -> ItemToday | None:
        for entry in self.items:
            if entry.item.frequency is not Frequency.WORK_BREAKS and not entry.complete:
                return entry
        return None

    @property
    def main(self) -> ItemToday:
        return self.items[0]

    def target_for(self, exercise: Exercise) -> int | None:
        """The hold prescribed today for ``exercise``; None when it is not in today's plan."""
        for entry in self.items:
            if entry.item.slug == exercise.slug:
                return entry.item.hold_target
        return None

    def __reduce__(self):
        """Pickled compactly: the plan goes to the shared cache on every log POST and is
        read back on the next. Each stretch is pickled once (pickle writes an object it
        meets twice only once, but equal copies each in full: the rows and the items may
        hold copies read at different times), and today's sessions as their numbers
        (``TodayRows``)."""
        rows = self.todays_sessions
        if not isinstance(rows, TodayRows):
            rows = TodayRows.of(rows)
        exercises = dict(rows.exercises)
        for entry in self.items:
            exercises.setdefault(entry.exercise.pk, entry.exercise)
        items = tuple(
            (entry.item, entry.exercise.pk, entry.done_today, entry.done_this_week,
             entry.all_today)
            for entry in self.items
        )  # fmt: skip
        last = self.last_session
        # The last session is today's newest (the very row) or one from before today.
        newest = bool(rows) and last is self.todays_sessions[0]
        state = (
            self.prescription, items, self.today, rows.raw, exercises,
            None if newest else last, newest, self.last_session_day,
        )  # fmt: skip
        return (_unpickled_plan, state)

    def with_session_id(self, index: int, pk: int) -> TodayPlan:
        """This plan with the id of today's session at ``index`` (``PROVISIONAL_ID``, a
        plan made before the session was stored) set to ``pk``."""
        rows = self.todays_sessions
        micros, provisional, exercise, before, after = rows.raw[index]
        if provisional != PROVISIONAL_ID:
            raise ValueError(f"today's session {index} already has an id: {provisional}")
        raw = (*rows.raw[:index], (micros, pk, exercise, before, after), *rows.raw[index + 1 :])
        if any(0 <= i < len(raw) and raw[i][0] == micros for i in (index - 1, index + 1)):
            raw = tuple(sorted(raw, reverse=True))  # the same instant: the ids order them
        stored = TodayRows(raw, rows.exercises)
        last = self.last_session
        if last is rows[0]:
            last = stored[0]
        return dataclasses.replace(self, todays_sessions=stored, last_session=last)


# The id of the session in a plan made before it was stored (no stored row has it).
PROVISIONAL_ID = 0


class _PlanWithId:
    """A plan pickled before its new session had an id, and that id: unpickled, the plan
    with it (``with_session_id``). Pickling the plan is most of the work; this is done
    after the write, in microseconds."""

    def __init__(self, pickled: bytes, index: int, pk: int):
        self.pickled, self.index, self.pk = pickled, index, pk

    def __reduce__(self):
        return (_plan_with_id, (self.pickled, self.index, self.pk))


def _plan_with_id(pickled: bytes, index: int, pk: int) -> TodayPlan:
    return pickle.loads(pickled).with_session_id(index, pk)


def _unpickled_plan(prescription, items, today, raw, exercises, last, newest, last_day):
    """``TodayPlan.__reduce__``'s state back into a plan (times in UTC, as read)."""
    rows = TodayRows(raw, exercises)
    return TodayPlan(
        prescription=prescription,
        items=[
            ItemToday(item, exercises[exercise], done_today, done_this_week, all_today)
            for item, exercise, done_today, done_this_week, all_today in items
        ],
        today=today,
        todays_sessions=rows,
        last_session=rows[0] if newest else last,
        last_session_day=last_day,
    )


CATALOGUE_FIELDS = (
    "slug",
    "name",
    "position",
    "hold_min_seconds",
    "hold_max_seconds",
    "reps",
    "both_legs",
)


# How long the shared cache keeps the catalogue: every save or delete of a stretch retires
# it at once (stretches.signals); this bounds what a data migration, which sends no
# signal, leaves to the workers of the deploy before it.
CATALOGUE_SECONDS = 300


def catalogue_rules() -> dict[str, Exercise]:
    """The stretches by slug, with only what plans and log forms read (not the long texts).

    Read once per request to a cached page, whose key holds it (``catalogue_version``);
    with a shared cache, from it (an admin's edit retires it in every worker at once).
    """
    return memoised(
        "catalogue",
        lambda: cached_shared(CATALOGUE, CATALOGUE_COPY, _load_catalogue, CATALOGUE_SECONDS),
    )


def _load_catalogue() -> dict[str, Exercise]:
    return {exercise.slug: exercise for exercise in Exercise.objects.only(*CATALOGUE_FIELDS)}


def catalogue_version() -> str:
    """What pages show of the catalogue: in each cached page's key (lib.page_cache), so
    an admin's edit to a stretch shows at once."""
    rows = sorted(
        (exercise.pk, *(getattr(exercise, name) for name in CATALOGUE_FIELDS))
        for exercise in catalogue_rules().values()
    )
    return repr(rows)


def _rules_fingerprint(catalogue: dict[str, Exercise]) -> str:
    # Once per request and catalogue (a log POST asks three times): the request reads the
    # catalogue once (``catalogue_rules``), so the same dict holds the same rules.
    seen = memoised("rules-fingerprint", lambda: [None, ""])
    if seen[0] is not catalogue:
        seen[:] = [catalogue, _fingerprint_of(catalogue)]
    return seen[1]


def _fingerprint_of(catalogue: dict[str, Exercise]) -> str:
    # The id too: plans hold each stretch by it (today's rows, the log form's choice), and
    # a stretch made again with the same rules (a data migration, a shell) has another.
    rules = sorted(
        (e.slug, e.pk, e.name, e.hold_min_seconds, e.hold_max_seconds, e.reps, e.both_legs)
        for e in catalogue.values()
    )
    fingerprint = hashlib.blake2s(repr(rules).encode(), digest_size=8).hexdigest()
    if not _SEEN_FINGERPRINT or _SEEN_FINGERPRINT[-1] != fingerprint:
        _SEEN_FINGERPRINT[:] = [fingerprint]
    return fingerprint


# The plan's two cache entries: the plan (under the data version) and the days before
# today it is made from (under the history version). One description of each key, for
# build_plan and prefetch_plan alike.
def _plan_entry(profile: Profile, fingerprint: str, today: date) -> tuple[str, dict]:
    # Every setting the plan reads, in its key: a plan made by a request that loaded the
    # profile before a setting changed in another tab (the acute phase, its daily cap) is
    # only ever served to requests that loaded the same settings.
    return "plan-v7", {"extra": (fingerprint, *_settings(profile)), "today": today}


def _settings(profile: Profile) -> tuple:
    """Every setting of the profile the plan reads."""
    return (
        profile.phase,
        profile.time_zone,
        profile.programme_start,
        profile.desk_work,
        profile.sciatica_side,
    )


def _past_entry(profile: Profile, fingerprint: str, today: date) -> tuple[str, dict]:
    extra = (fingerprint, profile.programme_start, str(profile.tzinfo))
    return "plan-past-v2", {"extra": extra, "history": True, "today": today}


def build_plan(
    profile: Profile, *, after_write: bool = False, logged: tuple[TodayPlan, Session] | None = None
) -> TodayPlan:
    """Today's plan, cached per user, data version and local day.

    The catalogue's rules are part of the key, so an admin edit is seen at once too.
    ``after_write``: the caller has just moved the data version on (a logged session), so
    the plan is made without first asking the cache for it.
    ``logged``: the plan of the data version just before, and the one session whose save
    alone moved it on (the caller knows: the version went up by exactly one): today's
    sessions are then that plan's and this one, not read again.
    """
    catalogue = catalogue_rules()
    today = profile.local_today()
    fingerprint = _rules_fingerprint(catalogue)
    name, key = _plan_entry(profile, fingerprint, today)
    full_key = user_key(profile, name, **key)
    if not after_write:
        kept = _PLANS_KEPT.get(full_key)
        if kept is not None:
            return kept
    todays = _todays_with(logged, profile, catalogue, today) if logged is not None else None
    plan = cached_under(
        full_key,
        lambda: _compute_plan(profile, catalogue, today, fingerprint, todays=todays),
        read=not after_write,
    )
    keep_plan(full_key, plan)
    return plan


# Plans this process made or read, by their shared cache key. The key names the data
# version, the local day, every setting the plan reads and the catalogue's rules, so
# (as with the days before today, ``_PAST_KEPT``) an entry is never stale, only no
# longer asked for: any write moves the version on, and with it the key. It spares the
# next request of the same person in this worker (over a kept-alive connection, nearly
# always) reading and unpickling the plan the log POST before it made: the gate, which
# reads the safety record from the shared cache on every request, still runs first.
# Emptied when full, as the days are.
PLANS_KEPT_MAX = 256
_PLANS_KEPT: dict[str, TodayPlan] = {}


def forget_kept() -> None:
    """Empty what this process keeps by shared-cache keys (the plans and the days before
    today): for a database whose versions started again (a test's, a restored backup's)
    or a count that must find the cache cold), and the keys it expects each person's
    next request to read (``lib.cache.expect_keys``)."""
    _PLANS_KEPT.clear()
    _PAST_KEPT.clear()
    forget_expected()


def keep_plan(key: str, plan: TodayPlan) -> None:
    """Keep ``plan`` (the shared cache's entry under ``key``) for this process's next
    requests. Never a plan whose last session is a model instance: that is the session
    before today the lasting-pain question may add a stop signal to, in place."""
    if isinstance(plan.last_session, Session):
        return
    if len(_PLANS_KEPT) >= PLANS_KEPT_MAX:
        _PLANS_KEPT.clear()
    _PLANS_KEPT[key] = plan


class PlanAfterSave:
    """Today's plan as it will be once one session is stored, made before the write: the
    log POST answers with it, and writes it to the shared cache for the next request in
    the round trip that keeps the committed profile row (``lib.cache.ride_with_kept_row``)
    instead of in one of its own at the end of the request.

    Right only if the session is stored alone: the row its write commits has the data
    version one up, the history version and every setting the plan reads as they were,
    and the same local day. ``rider`` checks exactly that on the committed row; otherwise
    nothing is written and the caller builds the plan as before (``confirmed`` stays
    False). The plan holds the session with ``PROVISIONAL_ID`` until ``stored`` gives it
    its id (``tracking.services.log_session(on_stored=...)``)."""

    def __init__(self, profile: Profile, plan: TodayPlan, index: int, key: str):
        self.plan, self.index, self.key = plan, index, key
        self.pickled = pickle.dumps(plan, pickle.HIGHEST_PROTOCOL)  # now, before the write
        self.expected = (profile.data_version + 1, profile.history_version, *_settings(profile))
        self.today = plan.today
        self.session_id: int | None = None
        self.confirmed = False

    @classmethod
    def make(
        cls, profile: Profile, before: TodayPlan, *, performed_at, exercise: Exercise,
        pain_before: int, pain_after: int,
    ) -> PlanAfterSave | None:  # fmt: skip
        """From the plan of the data version now; None when the session would not be one
        of that plan's today (another day, a plan of another day)."""
        catalogue = catalogue_rules()
        today = profile.local_today()
        fingerprint = _rules_fingerprint(catalogue)
        provisional = TodaySession(PROVISIONAL_ID, performed_at, exercise, pain_before, pain_after)
        todays = _todays_with((before, provisional), profile, catalogue, today)
        if todays is None:
            return None
        index = next(i for i, row in enumerate(todays.raw) if row[1] == PROVISIONAL_ID)
        name, key = _plan_entry(profile, fingerprint, today)
        with unmarked():  # kept for many requests, as cached_for_user makes it
            plan = _compute_plan(profile, catalogue, today, fingerprint, todays=todays)
        full_key = user_key(profile, name, data_version=profile.data_version + 1, **key)
        return cls(profile, plan, index, full_key)

    def stored(self, session) -> None:
        self.session_id = session.pk

    def rider(self, committed: Profile) -> tuple | None:
        """The plan's cache entry, if ``committed`` (the profile row the write commits)
        shows the session was stored alone; else None."""
        seen = (committed.data_version, committed.history_version, *_settings(committed))
        if self.session_id is None or seen != self.expected:
            return None
        if committed.local_today() != self.today:
            return None  # midnight passed: the plan is of the day before
        self.confirmed = True
        value = Pickled.of(_PlanWithId(self.pickled, self.index, self.session_id))
        return self.key, value, CACHE_SECONDS

    def fresh(self) -> TodayPlan:
        """The plan, with the stored session's id (once ``confirmed``), kept for this
        process's next requests as the shared cache holds it."""
        plan = self.plan.with_session_id(self.index, self.session_id)
        keep_plan(self.key, plan)
        return plan


def _todays_with(
    logged: tuple[TodayPlan, Session | TodaySession],
    profile: Profile,
    catalogue: dict[str, Exercise],
    today,
) -> TodayRows | None:
    """Today's sessions after ``session`` was saved, from the plan made just before it, in
    the order the query gives (newest first); None when that plan is not of this day or
    the session is not on it (then they are read)."""
    before, session = logged
    if before.today != today or session.performed_at.astimezone(profile.tzinfo).date() != today:
        return None
    exercise_id = session.exercise.pk if isinstance(session, TodaySession) else session.exercise_id
    exercise = next(
        (exercise for exercise in catalogue.values() if exercise.pk == exercise_id), None
    )
    if exercise is None:
        return None
    new = (
        micros_of(session.performed_at), session.pk, exercise.pk, session.pain_before,
        session.pain_after,
    )  # fmt: skip
    return before.todays_sessions.with_row(new, exercise)


def prefetch_plan(profile: Profile) -> None:
    """Read the plan and the days before today it is made from in one round trip, for a
    request that builds the plan, writes, and builds it again (the log POST): the second
    build finds the days before today read here when the write left them as they were
    (lib.cache.prefetch: each key names the version it holds). Days this process already
    holds (``_past_days``), and keys the gate read (``log_prefetch``), are not read again."""
    keys = [
        key
        for key in _plan_keys(profile, _rules_fingerprint(catalogue_rules()))
        if key not in _PAST_KEPT and key not in _PLANS_KEPT and not prefetched(key)
    ]
    prefetch(keys)


def _plan_keys(profile: Profile, fingerprint: str) -> list[str]:
    today = profile.local_today()
    entries = (_plan_entry(profile, fingerprint, today), _past_entry(profile, fingerprint, today))
    return [user_key(profile, name, **key) for name, key in entries]


# The catalogue's rules as this process last saw them: a request can name its plan's keys
# before it has read the catalogue, and read them in the gate's round trip
# (``log_prefetch``). Only a guess: after an admin's edit the keys read are not the ones
# asked for, and ``prefetch_plan`` reads the right ones.
_SEEN_FINGERPRINT: list[str] = []


def log_prefetch(request) -> list[str]:
    """For ``exercise_gate(also=...)`` on the log POST: the plan's keys, by the catalogue
    last seen."""
    profile = request.user.profile
    if not _SEEN_FINGERPRINT or profile.programme_start is None:
        return []
    return [
        key
        for key in _plan_keys(profile, _SEEN_FINGERPRINT[-1])
        if key not in _PAST_KEPT and key not in _PLANS_KEPT
    ]


class PastDays(NamedTuple):
    """The days before today as the plan reads them, made once per history version (and
    day, catalogue and settings: the key of ``_past_entry``), and never changed after:
    shared by every plan this process makes under that key."""

    days: DaysByDate  # as prescription_for reads them (today's added to a copy)
    stats: dict[date, DayStats]  # by day, as compare() reads them (copied, never changed)
    per_exercise_day: dict[tuple[str, date], int]
    last: Session | None
    span: tuple[date, date] | None  # the first and last of ``stats``' days (None: none)


# The days before today, per process, by the shared cache's key: the key names every
# version the entry is made from (a new session today leaves it, any other write moves
# the history version and with it the key), so an entry is never stale, only no longer
# asked for; nothing in it needs retiring. It spares each log POST reading a year of days
# from the shared cache and building them again. Emptied when full, as fragments are.
PAST_KEPT_MAX = 256
_PAST_KEPT: dict[str, PastDays] = {}


def _past_days(
    profile: Profile, by_id: dict[int, Exercise], today: date, fingerprint: str
) -> PastDays:
    name, key = _past_entry(profile, fingerprint, today)
    full_key = user_key(profile, name, **key)
    kept = _PAST_KEPT.get(full_key)
    if kept is not None:
        return kept
    per_day, per_exercise_day, last = cached_for_user(
        profile, name, lambda: _days_before_today(profile, by_id, today), **key
    )
    kept = PastDays(
        days=DaysByDate.of(
            (
                DayFacts(day, n, lying, before, top)  # day, sessions, lying, before total, max
                for day, (n, lying, before, _, top, _) in per_day.items()
            ),
            start=profile.programme_start,
            today=today,
        ),
        stats={
            day: DayStats(day, n, before, after, top, worst)
            for day, (n, _, before, after, top, worst) in per_day.items()
        },
        per_exercise_day=per_exercise_day,
        last=last,
        span=(min(per_day), max(per_day)) if per_day else None,
    )
    if len(_PAST_KEPT) >= PAST_KEPT_MAX:
        _PAST_KEPT.clear()
    _PAST_KEPT[full_key] = kept
    return kept


# Per local day: [sessions, lying sessions, before total, after total, before max, worst].
type DaySums = dict[date, list[int]]


def _add_day(per_day: DaySums, day: date, n, lying, before, after, before_max, worst) -> None:
    sums = per_day.get(day)
    if sums is None:
        per_day[day] = [n, lying, before, after, before_max, worst]
    else:
        sums[0] += n
        sums[1] += lying
        sums[2] += before
        sums[3] += after
        sums[4] = max(sums[4], before_max)
        sums[5] = max(sums[5], worst)


def _days_before_today(
    profile: Profile, by_id: dict[int, Exercise], today: date
) -> tuple[DaySums, dict[tuple[str, date], int], Session | None]:
    """The days from the start up to yesterday, summed: one row per day and exercise (a
    year of twice-daily sessions is a few hundred rows), and the last session before
    today (the plan asks about it before the day's first session). Cached under the
    history version, which a plain new session today leaves alone."""
    tz = profile.tzinfo
    last = (
        Session.objects.filter(user_id=profile.user_id, performed_at__lt=local_midnight(today, tz))
        .order_by("-performed_at", "-id")
        .first()
    )
    if last is not None:
        # The catalogue is already here: no join that would drag its text along.
        last.exercise = by_id[last.exercise_id]
    rows = (
        Session.objects.filter(
            user_id=profile.user_id,
            performed_at__gte=local_midnight(profile.programme_start, tz),
            performed_at__lt=local_midnight(today, tz),
        )
        .annotate(day=TruncDate("performed_at", tzinfo=tz))
        .values("day", "exercise_id")
        .annotate(
            n=Count("id"),
            before=Sum("pain_before"),
            after=Sum("pain_after"),
            before_max=Max("pain_before"),
            worst=Max(Greatest("pain_before", "pain_after")),
        )
        .order_by()
    )
    per_day: DaySums = {}
    per_exercise_day: dict[tuple[str, date], int] = {}
    for row in rows:
        day, n = row["day"], row["n"]
        slug = by_id[row["exercise_id"]].slug
        lying = n if slug in LYING_KNEE_TO_CHEST else 0
        _add_day(per_day, day, n, lying, row["before"], row["after"], row["before_max"],
                 row["worst"])  # fmt: skip
        per_exercise_day[slug, day] = per_exercise_day.get((slug, day), 0) + n
    return per_day, per_exercise_day, last


def today_totals(
    raw: tuple[RawRow, ...], exercises: dict[int, Exercise], today: date
) -> tuple[DaySums, dict[str, int]]:
    """Today's rows summed as the days before are (``_add_day``: sessions, lying sessions,
    before and after totals, highest before, worst), and counted per stretch.

    A column at a time, each pass in C: a person may log dozens of sessions in a day, and
    every log POST sums them all again (a row at a time in Python this was the largest
    part of a POST that grew with the day's sessions)."""
    if not raw:
        return {}, {}
    per_exercise: dict[str, int] = {}
    lying = 0
    for exercise_id, n in Counter(map(itemgetter(2), raw)).items():
        slug = exercises[exercise_id].slug
        per_exercise[slug] = per_exercise.get(slug, 0) + n
        if slug in LYING_KNEE_TO_CHEST:
            lying += n
    befores = tuple(map(itemgetter(3), raw))
    afters = tuple(map(itemgetter(4), raw))
    top = max(befores)
    sums = [len(raw), lying, sum(befores), sum(afters), top, max(top, max(afters))]
    return {today: sums}, per_exercise


def _compute_plan(
    profile: Profile,
    catalogue: dict[str, Exercise],
    today: date,
    fingerprint: str,
    *,
    todays: TodayRows | None = None,
) -> TodayPlan:
    """Gather what the rules need in a fixed number of queries and ask them.

    The days before today and the stamped setbacks come from the history cache (one
    query each when it misses); today's sessions and the last one before them are read
    every time, and today's sums are made from them.
    """
    tz = profile.tzinfo
    start = profile.programme_start
    by_id = {exercise.pk: exercise for exercise in catalogue.values()}
    past = _past_days(profile, by_id, today, fingerprint)
    setbacks = setbacks_for(profile.user)
    # Today's sessions, newest first: one query whether or not there is one yet, so the
    # page costs the same on every day.
    midnight = local_midnight(today, tz)
    # Only what the plan and "Done today" read, as light rows: with the exercise from the
    # catalogue already here (no join that would drag its text along per row).
    if todays is None:
        exercises: dict[int, Exercise] = {}
        raw = []
        for pk, performed_at, exercise_id, before, after in day_sessions(
            profile.user_id, midnight, local_midnight(today + timedelta(days=1), tz)
        ):
            exercises.setdefault(exercise_id, by_id[exercise_id])
            raw.append((micros_of(performed_at), pk, exercise_id, before, after))
        todays = TodayRows(tuple(raw), exercises)
    # Today, summed apart: the days before are shared (``_past_days``), never changed.
    # Sessions before the programme's first day are not the programme's (a start set
    # to a later day): as for the days before, only from the start on.
    today_sums, today_per_exercise = today_totals(
        todays.raw if today >= start else (), todays.exercises, today
    )
    # The days before today are all before it: today's sums are added, never merged.
    days, stats = past.days, dict(past.stats)
    for day, (n, lying, before, after, top, worst) in today_sums.items():
        days = days.with_today(DayFacts(day, n, lying, before, top))
        stats[day] = DayStats(day, n, before, after, top, worst)
    per_exercise_day = past.per_exercise_day

    def done_on(slug: str, day: date) -> int:
        if day == today:
            return today_per_exercise.get(slug, 0)
        return per_exercise_day.get((slug, day), 0)

    # Every day before today comes before it: with today's sessions, today is the last.
    span = past.span
    if today in stats:
        span = (today if span is None else span[0], today)
    comparison = compare(stats, start=start, today=today, span=span)
    prescription = prescription_for(
        start=start,
        today=today,
        phase=profile.phase_enum,
        days=days,
        setbacks=setbacks,
        rules={slug: exercise.rule for slug, exercise in catalogue.items()},
        desk_work=profile.desk_work,
        sciatica_side=profile.sciatica_side,
        worsening=comparison.outcome is ComparisonOutcome.WORSE,
    )
    week_start = today - timedelta(days=today.weekday())
    all_today = len(todays)
    items = [
        ItemToday(
            item=item,
            exercise=catalogue[item.slug],
            done_today=done_on(item.slug, today),
            done_this_week=sum(
                done_on(item.slug, week_start + timedelta(days=offset))
                for offset in range((today - week_start).days + 1)
            ),
            all_today=all_today,
        )
        for item in prescription.items
    ]
    # A copy of the shared one: a request may add a stop signal to it (tracking.today).
    # Its list of stop signals too, which a copy of the instance would share.
    last = todays[0] if todays else copy.copy(past.last)
    if isinstance(last, Session):
        last.stop_signals = list(last.stop_signals)
    last_day = last.performed_at.astimezone(tz).date() if last is not None else None
    return TodayPlan(prescription, items, today, todays, last, last_day)


def prescribed_hold(profile: Profile, exercise: Exercise) -> int | None:
    """Today's prescribed hold for ``exercise``, stored beside a session logged now."""
    if profile.programme_start is None:
        return None
    return build_plan(profile).target_for(exercise)


def log_limits(profile: Profile, catalogue: dict[str, Exercise]) -> dict:
    """What the back-dated and edit forms must refuse: exercises not yet earned, and the
    acute flare's daily cap (counted on the day the session is logged for)."""
    unlocked = profile.programme_start is not None and (
        build_plan(profile).prescription.unlock.unlocked
    )
    locked = frozenset(
        slug for slug, exercise in catalogue.items() if exercise.both_legs and not unlocked
    )
    if profile.phase_enum is not Phase.ACUTE:
        return {"locked": locked}
    tz = profile.tzinfo

    def sessions_on(day: date) -> int:
        return Session.objects.filter(
            user_id=profile.user_id,
            performed_at__gte=local_midnight(day, tz),
            performed_at__lt=local_midnight(day + timedelta(days=1), tz),
        ).count()

    return {"locked": locked, "daily_cap": MAX_ACUTE_SESSIONS_PER_DAY, "sessions_on": sessions_on}
