"""Every write that touches sessions goes through here, in one transaction."""

from __future__ import annotations

import functools
import hashlib
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    ProgrammingError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Q
from django.db.models.sql import InsertQuery
from django.utils import timezone

from accounts.models import Profile
from lib.cache import (
    bump_statement,
    data_changed,
    read_profile_again,
    retire_before_write,
    retire_quietly,
    versions_moved,
)
from stretches.models import Exercise, StopSignal
from stretches.progression import MAX_ACUTE_SESSIONS_PER_DAY, Phase
from stretches.safety import SessionSafety, correct_session, stamp_session, stamps_nothing
from tracking.models import PegScore, Session, WeeklyCheckin
from tracking.plan import local_midnight


class StaleEdit(Exception):
    """The session changed since the form was opened (another tab or device saved first)."""


class RefusedSession(ValueError):
    """A rule the form should have caught: the session is not stored."""


class DailyCapReached(RefusedSession):
    """The acute flare's daily cap, counted again where the session is stored: the day
    already has its sessions (another tab's save landed after the form was checked).
    ``stamped``: how many safety events the refused session's report stamped all the same
    (a stop signal, a rise, a severe score; ``log_session``)."""

    stamped = 0


class _FlareChosenMeanwhile(Exception):
    """An uncapped save found the profile, locked where the session would be stored, in
    the acute flare (chosen in another tab after this request read it): nothing was
    stored, and the save goes again by the capped path."""


def _safety(session: Session) -> SessionSafety:
    tz = session.user.profile.tzinfo
    return SessionSafety(
        session_id=session.pk,
        day=session.performed_at.astimezone(tz).date(),
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        stop_signals=tuple(session.stop_signals),
    )


def _stamp_refused(session: Session, reported_on) -> int:
    """Inside the refusing transaction (the profile row locked): stamp the safety events a
    session refused at the cap reports (belonging to no stored session; once per form,
    by its client token), and move the versions on when any was stamped; how many."""
    stamped = stamp_session(
        user=session.user,
        session=_safety(session),
        reported_on=reported_on,
        report_token=session.client_token,
    )
    if stamped:
        data_changed(session.user)
    return stamped


def _check_caps(exercise: Exercise, hold_seconds: int) -> None:
    # The last line behind the forms: no stored hold above the exercise's cap.
    if hold_seconds > exercise.hold_cap:
        raise RefusedSession(f"hold above the {exercise.hold_cap} s cap of {exercise.slug}")


def stamp_history(user, sessions: list[Session]) -> None:
    """Stamp the safety events of sessions stored in bulk (sample data), as logging would."""
    for session in sessions:
        session.user = user
        stamp_session(
            user=user,
            session=_safety(session),
            reported_on=session.performed_at.astimezone(user.profile.tzinfo).date(),
        )
    data_changed(user)


def log_session(
    *,
    user,
    exercise: Exercise,
    performed_at: datetime,
    sides: str,
    reps_per_side: int,
    hold_seconds: int,
    hold_seconds_target: int | None,
    pain_before: int,
    pain_after: int,
    stop_signals: list[str],
    note: str = "",
    client_token: uuid.UUID,
    daily_cap: int | None = None,
    on_stored: Callable[[Session], None] | None = None,
) -> tuple[Session, bool]:
    """Store one session, once per client token, and stamp its safety events.

    A stop signal, a pain rise and a severe score are stamped in the same transaction
    (``stretches.safety``): a stop signal pauses the programme, a rise is a setback.
    Returns the session and whether it was new. A resubmitted form (double tap, a
    retry on a flaky connection) finds the first one and changes nothing.

    ``on_stored(session)``: called once the new session has its id, before the versions
    its write moved are read back (lib.cache: what rides with the kept profile row).

    ``daily_cap``: the sessions a day the caller's form allowed (the acute flare's, SPEC
    1.3). The day's sessions are then counted again after locking the person's profile
    row, in the transaction that stores this one, so two saves at once (two tabs) cannot
    both pass the cap: the second finds the first and raises ``DailyCapReached``.
    """
    _check_caps(exercise, hold_seconds)
    signals = sorted({s for s in stop_signals if s in StopSignal.values})
    fields = {
        "exercise": exercise,
        "performed_at": performed_at,
        "sides": sides,
        "reps_per_side": reps_per_side,
        "hold_seconds": hold_seconds,
        "hold_seconds_target": hold_seconds_target,
        "pain_before": pain_before,
        "pain_after": pain_after,
        "stop_signals": signals,
        "has_stop_signal": bool(signals),
        "note": note,
    }
    session = Session(user=user, client_token=client_token, **fields)
    reported_on = user.profile.local_today()
    if daily_cap is None:
        try:
            return _store(session, reported_on, uncapped=True, on_stored=on_stored)
        except _FlareChosenMeanwhile:
            # The flare was chosen in another tab after this request read the profile:
            # its cap holds for this save too (SPEC 1.3: no setting may break it).
            daily_cap = MAX_ACUTE_SESSIONS_PER_DAY
    with transaction.atomic():
        tz = _lock_profile(user)
        already = Session.objects.filter(user=user, client_token=client_token).first()
        if already is not None:
            # The same form, saved first in another request (a double tap): as below.
            read_profile_again(user)
            return already, False
        try:
            _refuse_over_cap(user, performed_at, daily_cap, tz=tz)
        except DailyCapReached as error:
            # Not stored as a session, but what it reports is kept: a stop signal still
            # pauses the programme, a rise or a severe score still counts (SPEC 1.5-1.6).
            error.stamped = _stamp_refused(session, reported_on)
            refused = error
        else:
            return _store(session, reported_on, on_stored=on_stored)
    raise refused  # after the commit: the stamps are kept


def _lock_profile(user) -> zoneinfo.ZoneInfo:
    """Lock the person's profile row until the transaction ends (every capped save, edit
    and undo takes it first, so they count one after another); its time zone, as
    committed (UTC for one Python does not know, as ``Profile.tzinfo``)."""
    time_zone, _ = _locked_row(user)
    return Profile(time_zone=time_zone).tzinfo


def _locked_row(user) -> tuple[str, str]:
    """The person's time zone and phase as committed, their profile row locked until the
    transaction ends."""
    return (
        Profile.objects.select_for_update()
        .filter(user_id=user.pk)
        .values_list("time_zone", "phase")
        .get()
    )


def _sessions_on_day(
    user, performed_at: datetime, tz: zoneinfo.ZoneInfo, *, besides: int | None = None
) -> int:
    """The person's sessions on ``performed_at``'s local day, but ``besides`` (a session
    being moved), in a statement of its own: under PostgreSQL's read committed it sees
    every save committed before the lock."""
    day = performed_at.astimezone(tz).date()
    sessions = Session.objects.filter(
        user_id=user.pk,
        performed_at__gte=local_midnight(day, tz),
        performed_at__lt=local_midnight(day + timedelta(days=1), tz),
    )
    if besides is not None:
        sessions = sessions.exclude(pk=besides)
    return sessions.count()


def _refuse_over_cap(
    user, performed_at: datetime, daily_cap: int, *, tz=None, besides=None, moved_from=None
) -> None:
    """Inside the caller's transaction: lock the profile row (unless the caller did: its
    ``tz``), count the day again, and raise ``DailyCapReached`` when it already has
    ``daily_cap`` sessions. ``besides``: a session being moved from ``moved_from``;
    staying on its own local day it adds nothing to the day, and is never refused (a
    correction, a stop signal added)."""
    if tz is None:
        tz = _lock_profile(user)
    day = performed_at.astimezone(tz).date()
    if moved_from is not None and moved_from.astimezone(tz).date() == day:
        return
    if _sessions_on_day(user, performed_at, tz, besides=besides) >= daily_cap:
        raise DailyCapReached(f"the day already has {daily_cap} sessions")


def _store(
    session: Session, reported_on, *, uncapped: bool = False, on_stored=None
) -> tuple[Session, bool]:
    """``log_session``'s write: the session, its safety stamps and the version bump.

    ``uncapped``: the caller read no daily cap (the profile was not in the acute flare
    when the request read it). The profile row is then locked before anything is
    stored, and if it is in the flare now, nothing is stored and
    ``_FlareChosenMeanwhile`` is raised."""
    user, performed_at, client_token = session.user, session.performed_at, session.client_token
    # Stored first, looked up only when the token is already there: a new session (nearly
    # every one) costs one statement, not a read and then a write. The insert is the
    # transaction's first statement, so a refused insert leaves nothing to undo and needs
    # no savepoint of its own (two round trips fewer on every log).
    try:
        if _in_one_statement(session, reported_on):
            _store_in_one_statement(
                session, today_only=_on_local_today(user, performed_at), on_stored=on_stored
            )
        else:
            with transaction.atomic():
                if uncapped and _phase_locked(user) == Phase.ACUTE.value:
                    raise _FlareChosenMeanwhile
                session.save(force_insert=True)
                if on_stored is not None:
                    on_stored(session)
                stamped = stamp_session(
                    user=user,
                    session=_safety(session),
                    reported_on=reported_on,
                    report_token=session.client_token,
                )
                data_changed(user, today_only=not stamped and _on_local_today(user, performed_at))
    except IntegrityError:
        # The same form again (a double tap, a retry; its first save committed), or a rule
        # the database refuses (a range check): then there is no session to find, and
        # the error stands. Whatever this transaction wrote was rolled back with it.
        session = Session.objects.filter(user=user, client_token=client_token).first()
        if session is None:
            raise
        # Its first save committed while this request ran (a double tap), moving the
        # versions on, and perhaps closing the plan (severe pain on a third day): what the
        # request shows and decides next is read from the row as it is now.
        read_profile_again(user)
        return session, False
    return session, True


def _flare_cap(user) -> int | None:
    """For a write whose caller read no cap: the flare's cap when the profile, locked,
    is in the flare now (chosen in another tab since the caller read it), else None."""
    return MAX_ACUTE_SESSIONS_PER_DAY if _phase_locked(user) == Phase.ACUTE.value else None


def _phase_locked(user) -> str:
    """The person's phase as committed, their profile row locked until the transaction
    ends (as every capped save locks it first)."""
    return _locked_row(user)[1]


def _in_one_statement(session: Session, reported_on) -> bool:
    """Whether the session and the version bump can go to PostgreSQL as one statement:
    nothing to stamp (no stop signal, rise or severe score: the common session), and no
    transaction of the caller's to join. A single statement is atomic on its own, so
    three round trips (begin, the bump, commit) are spared."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and stamps_nothing(user=session.user, session=_safety(session), reported_on=reported_on)
    )


_INSERT: dict[str, tuple[str, tuple]] = {}


def _insert_sql(session: Session) -> tuple[str, tuple]:
    """The ORM's INSERT of a session (RETURNING its id) and the fields it writes, in
    order, as one row selected from ``guard`` (the profile row out of the acute flare,
    locked: none, nothing is inserted); made once per database vendor (its text does not
    depend on the values)."""
    made = _INSERT.get(connection.vendor)
    if made is None:
        fields = tuple(
            field for field in Session._meta.local_concrete_fields if not field.primary_key
        )
        query = InsertQuery(Session)
        query.insert_values(fields, [session])
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = [Session._meta.pk]
        ((sql, params),) = compiler.as_sql()
        if not sql.count("%s") == len(params) == len(fields):
            # A placeholder per field, in order, is what the params below are built for.
            raise RuntimeError(f"unexpected INSERT for a session: {sql}")
        # VALUES (%s, ...) RETURNING ... -> SELECT %s, ... FROM guard RETURNING ...
        head, values = sql.split(" VALUES (", 1)
        row, returning = values.rsplit(") RETURNING ", 1)
        if "(" in row or ")" in row:
            raise RuntimeError(f"unexpected INSERT for a session: {sql}")
        sql = f"{head} SELECT {row} FROM guard RETURNING {returning}"
        made = _INSERT.setdefault(connection.vendor, (sql, fields))
    return made


def _guard_sql() -> str:
    """The profile row, locked as the version bump will lock it, while it is not in the
    acute flare."""
    table = connection.ops.quote_name(Profile._meta.db_table)
    return f"SELECT 1 FROM {table} WHERE user_id = %s AND phase <> %s FOR NO KEY UPDATE"


def _store_in_one_statement(session: Session, *, today_only: bool, on_stored=None) -> None:
    """Insert ``session`` and move the user's versions on in one statement (a
    data-modifying WITH: both happen, or, on any error, neither), as ``data_changed``
    would in a transaction. The cached profile is retired before it (if the cache
    cannot be reached, nothing is written) and again after it."""
    insert, fields = _insert_sql(session)
    # The connection itself, not the proxy: each field reads it a few times, and every
    # read through ``django.db.connection`` looks the connection up again.
    db = connections[DEFAULT_DB_ALIAS]
    # The values as the ORM's insert prepares them (auto_now stamps, JSON, UUID).
    insert_params = [field.get_db_prep_save(field.pre_save(session, True), db) for field in fields]
    bump, bump_params = bump_statement(session.user, today_only=today_only)
    # The bump only with the session: nothing at all when the guard let nothing in.
    where = " WHERE user_id = %s RETURNING "
    if bump.count(where) != 1:
        raise RuntimeError(f"unexpected version bump: {bump}")
    bump = bump.replace(where, " WHERE user_id = %s AND EXISTS (SELECT 1 FROM new) RETURNING ")
    retired_with = retire_before_write("profile", session.user_id)
    try:
        with connection.cursor() as cursor:
            execute_prepared(
                cursor,
                f"WITH guard AS ({_guard_sql()}), new AS ({insert}), bumped AS ({bump}) "
                "SELECT new.*, bumped.* FROM new LEFT JOIN bumped ON TRUE",
                [session.user_id, Phase.ACUTE.value, *insert_params, *bump_params],
            )
            row = cursor.fetchone()
    except BaseException:
        # Refused (a double tap's second insert), or its answer lost after it committed
        # (a dropped connection): a worker may have kept the row from before it since
        # the retirement above, so the row is retired again now.
        retire_quietly("profile", session.user_id)
        raise
    if row is None:
        # The flare was chosen in another tab, committed before this statement locked
        # the row: nothing was stored or bumped.
        retire_quietly("profile", session.user_id)
        raise _FlareChosenMeanwhile
    session.pk = row[0]
    session._state.adding = False
    session._state.db = connection.alias
    if on_stored is not None:
        on_stored(session)
    versions_moved(session.user, None if row[1] is None else row[1:], retired_with=retired_with)


# The one statement is prepared once per database connection and then executed by name:
# PostgreSQL spent about 0.35 ms parsing and planning it on every log POST (EXPLAIN: 0.37
# ms of planning against 0.04 ms for the prepared statement's generic plan), more than
# running it. Named by its text, so a deploy that changes it prepares the new one.
# Direct connections and session-mode poolers keep a connection's prepared statements; a
# connection whose statements do not stay prepared (a transaction-mode pooler sends each
# statement to any server connection) is found out on its first log and from then on
# runs the statement itself.
PREPARED = "easeback_prepared"  # the names prepared, kept on the driver's connection
PREPARED_PREFIX = "easeback_log_"
ONE_STATEMENT = "WITH guard AS (SELECT 1 FROM"
_DUPLICATE_PREPARED, _UNKNOWN_PREPARED, _CHANGED_RESULT = "42P05", "26000", "0A000"


def is_one_statement(sql: str) -> bool:
    """Whether ``sql``, as a cursor ran it, is the log's one statement (or its PREPARE)."""
    return sql.startswith((ONE_STATEMENT, f"EXECUTE {PREPARED_PREFIX}")) or (
        sql.startswith(f"PREPARE {PREPARED_PREFIX}") and ONE_STATEMENT in sql
    )


def _numbered(sql: str, count: int) -> str:
    """``sql`` with its ``%s`` placeholders numbered for PREPARE ($1, $2, ...)."""
    parts = sql.split("%s")
    if "%" in "".join(parts) or len(parts) != count + 1:
        raise RuntimeError(f"unexpected placeholders in the statement to prepare: {sql}")
    return "".join(part + (f"${n}" if n <= count else "") for n, part in enumerate(parts, start=1))


def execute_prepared(cursor, sql: str, params: list) -> None:
    """``cursor.execute(sql, params)``, as a statement this connection prepared once
    (PREPARE on its first use, EXECUTE by name after). Each is a statement of its own,
    so in autocommit the EXECUTE is as atomic as the statement itself."""
    raw = connection.connection
    prepared = getattr(raw, PREPARED, None)
    if prepared is None:
        prepared = set()
        setattr(raw, PREPARED, prepared)
    if prepared is False:  # statements do not stay prepared here: a transaction pooler
        cursor.execute(sql, params)
        return
    name, prepare, call = _statements(sql, len(params))
    for _attempt in (1, 2):
        if name not in prepared:
            try:
                cursor.execute(prepare)
            except ProgrammingError as error:
                if _sqlstate(error) != _DUPLICATE_PREPARED:
                    raise
            prepared.add(name)
        try:
            cursor.execute(call, params)
            return
        except DatabaseError as error:
            # Refused before anything ran: deallocated behind our back (DISCARD ALL, a
            # pooler's reset), or its plan made stale by a column's new type ("cached
            # plan must not change result type"): prepared again, once.
            state = _sqlstate(error)
            if state not in (_UNKNOWN_PREPARED, _CHANGED_RESULT):
                raise
            prepared.discard(name)
            if state == _CHANGED_RESULT:
                try:
                    cursor.execute(f"DEALLOCATE {name}")
                except ProgrammingError as gone:
                    if _sqlstate(gone) != _UNKNOWN_PREPARED:
                        raise
    # Prepared and unknown twice running: each statement reaches another server connection
    # (PgBouncer in transaction mode). Nothing ran; from now on the plain statement.
    setattr(raw, PREPARED, False)
    cursor.execute(sql, params)


@functools.lru_cache(maxsize=32)
def _statements(sql: str, count: int) -> tuple[str, str, str]:
    """The name, the PREPARE and the EXECUTE (its ``count`` parameters as ``%s``) of
    ``sql``."""
    name = PREPARED_PREFIX + hashlib.blake2s(sql.encode(), digest_size=8).hexdigest()
    call = f"EXECUTE {name}({', '.join(['%s'] * count)})"
    return name, f"PREPARE {name} AS {_numbered(sql, count)}", call


def _sqlstate(error: Exception) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


# A session this close to the user's midnight counts as touching the past: by the time
# its transaction commits, its day may already be "before today" for another request.
MIDNIGHT_MARGIN = timedelta(minutes=5)


def _on_local_today(user, performed_at: datetime) -> bool:
    """Whether ``performed_at`` falls on the user's local today, not near its end."""
    tz = user.profile.tzinfo
    now = timezone.now()
    day = performed_at.astimezone(tz).date()
    return day == now.astimezone(tz).date() == (now + MIDNIGHT_MARGIN).astimezone(tz).date()


EDITABLE_FIELDS = tuple(name for name in Session.RECORDED_FIELDS if name != "stop_signals")


def update_session(
    *,
    session: Session,
    version: int,
    stop_signals: list[str],
    daily_cap: int | None = None,
    **changes,
) -> Session:
    """Save an edit made on ``version`` of the session, or raise StaleEdit.

    Stop signals can be added but not taken away: removing one must not reopen a
    programme that it paused. ``daily_cap``: as for ``log_session``, the day the session
    is moved to is counted again (without the session itself) under the profile row's
    lock: ``DailyCapReached``.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    added = sorted(set(stop_signals) & set(StopSignal.values) - set(session.stop_signals))
    signals = sorted(set(session.stop_signals) | set(added))
    if "exercise" in changes or "hold_seconds" in changes:
        _check_caps(
            changes.get("exercise", session.exercise),
            changes.get("hold_seconds", session.hold_seconds),
        )
    moved_from = session.performed_at
    try:
        with transaction.atomic():
            # The session's row first, then the profile's (the cap's lock, the version bump),
            # in the order every write to a session takes them (a stop signal, a delete):
            # two writes taking them the other way round would deadlock, and one be refused.
            updated = Session.objects.filter(
                pk=session.pk, user=session.user, version=version
            ).update(
                **changes,
                stop_signals=signals,
                has_stop_signal=bool(signals),
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
            if not updated:
                raise StaleEdit
            if "performed_at" in changes:
                cap = daily_cap if daily_cap is not None else _flare_cap(session.user)
                if cap is not None:
                    _refuse_over_cap(
                        session.user,
                        changes["performed_at"],
                        cap,
                        besides=session.pk,
                        moved_from=moved_from,
                    )
            _restamp(session)
    except DailyCapReached as refused:
        # The move is refused (rolled back), but not the stop signals this edit added: a
        # reported stop signal is never lost (SPEC 1.5); each is added to the session as
        # it is stored, as a tapped one is.
        for signal in added:
            add_stop_signal(session=session, signal=StopSignal(signal))
        refused.stamped = len(added)
        raise
    return session


def stamp_admin_save(session: Session, *, created: bool) -> None:
    """A session saved in the admin (inside its transaction) is stamped as logging and
    editing stamp theirs: a pain rise or severe score staff typed in is a setback too."""
    if created:
        stamp_history(session.user, [session])
    else:
        _restamp(session)


def _restamp(session: Session, *, stored: bool = True) -> None:
    """After a changed session is saved (inside its transaction): judge its safety stamps
    again (stretches.safety.correct_session) and retire the cached pages. ``stored=False``:
    the session as the caller holds it (its row is gone), not read again."""
    if stored:
        session.refresh_from_db()
    correct_session(
        user=session.user,
        session_id=session.pk,
        session=_safety(session),
        logged_at=session.created_at,
        reported_on=session.user.profile.local_today(),
    )
    data_changed(session.user)


def add_stop_signal(*, session: Session, signal: StopSignal) -> Session:
    """A stop signal reported after the session was saved: the one-tap "it was sharp or
    shooting" after a pain rise, or "the pain lasted more than 2 hours" asked before the
    next day's first session. It pauses the programme like any other."""
    with transaction.atomic():
        # Read again under the row's lock: an edit in another tab may have added a stop
        # signal since this request read the session, and none may be lost.
        current = (
            Session.objects.select_for_update()
            .filter(pk=session.pk, user=session.user)
            .values_list("stop_signals", flat=True)
            .first()
        )
        if current is None:
            # Deleted in another tab a moment ago: the session is gone, the stop signal is
            # not. Stamped from the session as this request read it, it pauses the
            # programme as any other (the delete's undo brings the session back without
            # it; the stamp stays, as a stop signal's always does).
            session.stop_signals = sorted(set(session.stop_signals) | {signal.value})
            session.has_stop_signal = True
            _restamp(session, stored=False)
            return session
        signals = sorted(set(current) | {signal.value})
        Session.objects.filter(pk=session.pk, user=session.user).update(
            stop_signals=signals,
            has_stop_signal=True,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        _restamp(session)
    return session


# What a deleted session keeps for its undo: everything stored, the original ids included,
# so that a restored session is the same session to the safety record (its session_ref).
SNAPSHOT_FIELDS = (
    "id",
    "exercise_id",
    "sides",
    "reps_per_side",
    "hold_seconds",
    "hold_seconds_target",
    "pain_before",
    "pain_after",
    "stop_signals",
    "has_stop_signal",
    "note",
    "version",
)


def delete_session(*, session: Session) -> dict | None:
    """Delete a session; return a snapshot (JSON-ready) that ``restore_session`` takes, or
    None when another tab deleted it first."""
    with transaction.atomic():
        # The row as stored, under its lock: a stop signal tapped in another tab since this
        # request read it is in the snapshot an undo restores.
        stored = Session.objects.select_for_update().filter(pk=session.pk, user=session.user)
        values = stored.values(
            *SNAPSHOT_FIELDS, "performed_at", "created_at", "client_token"
        ).first()
        if values is None:
            return None
        snapshot = {name: values[name] for name in SNAPSHOT_FIELDS}
        snapshot |= {
            "performed_at": values["performed_at"].isoformat(),
            "created_at": values["created_at"].isoformat(),
            "client_token": str(values["client_token"]),
        }
        session_id = session.pk
        session.delete()
        correct_session(
            user=session.user,
            session_id=session_id,
            session=None,
            logged_at=session.created_at,
            reported_on=session.user.profile.local_today(),
        )
        data_changed(session.user)
    return snapshot


def restore_session(*, user, snapshot: dict, daily_cap: int | None = None) -> Session | None:
    """Undo a delete: the same session again, under its old id, or None if it is back already.

    ``daily_cap``: as for ``log_session``, its day is counted again under the profile
    row's lock (``DailyCapReached``).

    Its safety stamps are judged as for an edit (``correct_session``) from the time it was
    first logged: a stop signal was never removed and is not stamped twice; a pain rise or
    severe score that the delete took back (a correction within minutes) is stamped again,
    so a delete and an undo can neither lift nor double a setback or a pause.
    """
    fields = {name: snapshot[name] for name in SNAPSHOT_FIELDS}
    fields["version"] += 1
    logged_at = datetime.fromisoformat(snapshot["created_at"])
    client_token = uuid.UUID(snapshot["client_token"])
    with transaction.atomic():
        # Back already: undone in another tab, or its form sent again (same client token),
        # which stored it anew under another id.
        again = Q(pk=fields["id"]) | Q(user=user, client_token=client_token)
        if Session.objects.filter(again).exists():
            return None
        if daily_cap is None:
            daily_cap = _flare_cap(user)
        if daily_cap is not None:
            _refuse_over_cap(user, datetime.fromisoformat(snapshot["performed_at"]), daily_cap)
            if Session.objects.filter(again).exists():  # restored while this one waited
                return None
        session = Session(
            user=user,
            performed_at=datetime.fromisoformat(snapshot["performed_at"]),
            client_token=client_token,
            **fields,
        )
        _check_caps(Exercise.objects.get(pk=session.exercise_id), session.hold_seconds)
        try:
            with transaction.atomic():
                session.save(force_insert=True)
        except IntegrityError:  # two undos at the same instant: the other one stored it
            return None
        # auto_now_add stamped this moment: keep the first logging time instead.
        Session.objects.filter(pk=session.pk).update(created_at=logged_at)
        session.refresh_from_db()
        correct_session(
            user=user,
            session_id=session.pk,
            session=_safety(session),
            logged_at=logged_at,
            reported_on=user.profile.local_today(),
        )
        data_changed(user)
    return session


def save_checkin(*, user, week: int, movement: str, sleep: str) -> WeeklyCheckin:
    """Store this week's check-in; answering again the same week replaces it."""
    with transaction.atomic():
        checkin, _ = WeeklyCheckin.objects.update_or_create(
            user=user, week=week, defaults={"movement": movement, "sleep": sleep}
        )
        data_changed(user)
    return checkin


def save_peg(
    *, user, week: int, pain: int | None, enjoyment: int | None, activity: int | None
) -> PegScore:
    """Store this week's PEG-3 answers, or a skip (all three None); a second answer replaces it."""
    with transaction.atomic():
        peg, _ = PegScore.objects.update_or_create(
            user=user,
            week=week,
            defaults={"pain": pain, "enjoyment": enjoyment, "activity": activity},
        )
        data_changed(user)
    return peg
