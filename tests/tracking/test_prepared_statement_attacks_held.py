"""A review's attacks on the log's prepared statement (tracking.services.execute_prepared),
kept. Two found holes, fixed: behind a transaction-mode pooler every log failed (the
PREPARE and the EXECUTE reach different server connections), and a column's new type on
the profile ("cached plan must not change result type") failed every log until the
connection closed. PostgreSQL only; transactional (the one-statement path is taken only
outside a transaction)."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import Profile
from tests.factories import exercise, log_stretch, make_user
from tracking.models import Session
from tracking.services import PREPARED, PREPARED_PREFIX, log_session

pytestmark = [
    pytest.mark.usefixtures("clear_of_midnight"),  # a plain session, not the day's last minutes
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="PostgreSQL's PREPARE",
    ),
]


def other_connection():
    """A second connection to the test database (another process: a migration, a lock)."""
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"] or None,
        dbname=s["NAME"], autocommit=True,
    )  # fmt: skip


def log_with_note(user, note, token=None):
    return log_session(
        user=user, exercise=exercise(), performed_at=timezone.now(), sides="left_right",
        reps_per_side=3, hold_seconds=15, hold_seconds_target=15, pain_before=4,
        pain_after=3, stop_signals=[], note=note, client_token=token or uuid.uuid4(),
    )  # fmt: skip


# --- Findings ----------------------------------------------------------------------------


def test_a_transaction_mode_pooler_still_stores_the_session():
    """Found (fixed): behind PgBouncer in transaction mode (which the README's "or set them on
    its database entry" allows) each autocommit statement may run on another server
    connection, so the statement PREPAREd on one is unknown to the next. Simulated by
    dropping what each PREPARE made as soon as it ran. Every log POST then fails (26000
    twice -> ProgrammingError -> 500) instead of falling back to a plain statement, as it now does."""
    member = make_user()

    def elsewhere(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith(f"PREPARE {PREPARED_PREFIX}"):
            name = sql.split()[1]
            context["connection"].connection.execute(f"DEALLOCATE {name}")
        return result

    with connection.execute_wrapper(elsewhere):
        session, created = log_stretch(member)  # ProgrammingError today
    assert created and Session.objects.filter(user=member).count() == 1


def test_a_column_type_change_on_the_profile_does_not_break_logging():
    """Found (fixed): the statement returns every profile column (bump_statement's whole row).
    A migration that changes a returned column's type (here a CharField's max_length,
    80 -> 120, run by compose's `migrate` while the old app still serves) makes every
    EXECUTE on an already-prepared connection fail with 0A000 "cached plan must not
    change result type", again and again until that connection is closed. The unprepared
    statement this replaced was parsed afresh and kept working."""
    member = make_user()
    log_stretch(member)  # prepared on this connection
    table = Profile._meta.db_table
    with other_connection() as migration:
        migration.execute(f'ALTER TABLE "{table}" ALTER COLUMN display_name TYPE varchar(120)')
    try:
        failures = []
        for _ in range(2):
            try:
                log_stretch(member)
            except DatabaseError as error:
                failures.append(f"{type(error).__name__}: {error}")
        assert failures == [], failures
        assert Session.objects.filter(user=member).count() == 3
    finally:
        connection.close()  # forget the broken statement before the type goes back
        with other_connection() as migration:
            migration.execute(f'ALTER TABLE "{table}" ALTER COLUMN display_name TYPE varchar(80)')


# --- Attacks that held -------------------------------------------------------------------


NASTY = [
    "'); DELETE FROM tracking_session; --",
    "back\\slash \\' \\\\ end\\",
    "100%s %% %(x)s $1 $2 $$ $tag$ ? :name",
    "E'x' U&'\\0041' \"quoted\" ; EXECUTE x(1); DEALLOCATE ALL;",
    "ünïcödé → 漢字 🙂\t\n\r",
    "",
]


@pytest.mark.parametrize("note", NASTY)
def test_note_text_goes_through_the_prepared_statement_as_data(note):
    member = make_user()
    log_stretch(member)  # so the next one is an EXECUTE of the prepared statement
    session, created = log_with_note(member, note)
    assert created
    assert Session.objects.get(pk=session.pk).note == note
    assert Session.objects.filter(user=member).count() == 2
    assert Session.objects.count() >= 2


def test_a_repeated_client_token_finds_the_first_and_stores_once():
    member = make_user()
    token = uuid.uuid4()
    first, created = log_stretch(member, token=token)
    again, created_again = log_stretch(member, token=token)
    assert created and not created_again and again.pk == first.pk
    assert Session.objects.filter(user=member).count() == 1
    # The connection still works for the next log after the refused EXECUTE.
    assert log_stretch(member)[1]


def test_lock_timeout_on_the_profile_row_saves_nothing_and_the_next_log_works():
    member = make_user()
    log_stretch(member)
    before = Profile.objects.get(user=member).data_version
    with other_connection() as other:
        other.autocommit = False
        other.execute(
            f'SELECT 1 FROM "{Profile._meta.db_table}" WHERE user_id = %s FOR UPDATE',
            [member.pk],
        )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        with pytest.raises(OperationalError):
            log_stretch(member)
        other.rollback()
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")
    assert Session.objects.filter(user=member).count() == 1  # the insert went with it
    assert Profile.objects.get(user=member).data_version == before
    assert log_stretch(member)[1] and Session.objects.filter(user=member).count() == 2


@pytest.mark.parametrize("reset", ["DEALLOCATE ALL", "DISCARD ALL", "DISCARD PLANS"])
def test_a_reset_behind_its_back_is_survived(reset):
    member = make_user()
    log_stretch(member)
    with connection.cursor() as cursor:
        cursor.execute(reset)
    assert log_stretch(member)[1] and log_stretch(member)[1]
    assert Session.objects.filter(user=member).count() == 3


def test_a_killed_connection_fails_once_and_the_next_connection_prepares_again():
    member = make_user()
    log_stretch(member)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(DatabaseError):
        log_stretch(member)
    connection.close()  # what the request's end does with a broken connection
    assert log_stretch(member)[1]
    assert Session.objects.filter(user=member).count() == 2


def test_two_threads_on_two_connections_each_prepare_and_store_every_session():
    members = [make_user(), make_user()]
    errors = []
    barrier = threading.Barrier(2)

    def work(member):
        try:
            barrier.wait()
            for _ in range(15):
                log_stretch(member)
            assert len(getattr(connection.connection, PREPARED)) == 1
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for member in members:
        assert Session.objects.filter(user=member).count() == 15
        assert Profile.objects.get(user=member).data_version >= 15


def test_a_session_on_another_day_uses_the_other_statement_and_moves_the_history():
    member = make_user(start=timezone.now().date() - timedelta(days=5))
    log_stretch(member)
    before = Profile.objects.get(user=member).history_version
    session, created = log_stretch(member, when=timezone.now() - timedelta(days=2))
    assert created and Profile.objects.get(user=member).history_version == before + 1
    names = getattr(connection.connection, PREPARED)
    assert len(names) == 2


def test_inside_a_callers_transaction_nothing_is_prepared():
    member = make_user()
    connection.close()
    with transaction.atomic():
        log_stretch(member)
        assert not getattr(connection.connection, PREPARED, set())
    with pytest.raises(IntegrityError), transaction.atomic():
        log_stretch(member, before=4, after=11)
    assert Session.objects.filter(user=member).count() == 1
