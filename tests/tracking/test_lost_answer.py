"""A log's one statement that committed but whose answer was lost (the connection dropped
between PostgreSQL's commit and the reply): the error reaches the person, the session is
stored, and no worker may go on serving the profile row from before it.

Found by a review (helper-16): another worker that read the profile between the log's
retirement before its statement and the statement kept the pre-write row under the
generation that retirement made; with no step after the statement, that row stayed
current for up to USER_CACHE_SECONDS. The statement's failure now retires the row again.

PostgreSQL + Redis only: the other worker runs in its own thread with its own connection.
"""

from __future__ import annotations

import os

import pytest
from django.db import OperationalError, connection

from accounts.models import Profile
from tests.factories import log_stretch, make_user, served_user
from tests.tracking.test_kept_row_cas import just_before_the_one_statement
from tracking.models import Session
from tracking.services import is_one_statement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="the one statement is PostgreSQL's",
    ),
]


def answer_lost_after_commit(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if is_one_statement(sql) and not sql.startswith("PREPARE"):
        raise OperationalError("server closed the connection unexpectedly")
    return result


def test_a_statement_whose_answer_was_lost_leaves_no_row_from_before_it_kept():
    member = make_user(phase="standard")
    log_stretch(member)
    served_user(member.pk)  # the row kept, as between two requests
    # Another worker reads (and keeps) the row after the log's retirement, before its
    # statement; then the statement commits and its answer is lost.
    before, fired = just_before_the_one_statement(lambda: served_user(member.pk))
    with (
        connection.execute_wrapper(answer_lost_after_commit),
        connection.execute_wrapper(before),
        pytest.raises(OperationalError),
    ):
        log_stretch(member)
    assert fired
    assert Session.objects.filter(user=member).count() == 2  # it did commit
    committed = Profile.objects.get(user=member).data_version
    assert served_user(member.pk).profile.data_version == committed


def test_a_refused_insert_leaves_the_row_served_as_stored():
    """A double tap's second insert (the same client token) is refused: nothing changed,
    and the row served is the one stored."""
    member = make_user(phase="standard")
    session, _ = log_stretch(member)
    served_user(member.pk)
    again, created = log_stretch(member, token=session.client_token)
    assert not created and again.pk == session.pk
    stored = Profile.objects.get(user=member).data_version
    assert served_user(member.pk).profile.data_version == stored
