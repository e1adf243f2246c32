"""A known gap a review found (2026-12-07), kept as a strict expected failure until it is
fixed: the acute flare's cap of 3 sessions a day (SPEC 1.3) is checked against the plan
the request read, and the insert does not check it again. Two log POSTs from two tabs of
the same person, the second saved while the first is past its checks and before its
statement, are both saved: 4 sessions in a flare. It was so before this session's changes
(0428858) too.

The fix this asks for: in an acute flare, lock the person's profile row, count the day's
sessions and insert in one transaction (or one statement that inserts only under the
cap), and answer a refused one with the form's cap message. When that lands, this test
passes, ``strict`` makes that a failure, and the mark goes.

PostgreSQL only (the log's single statement is where the window is held open).
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.factories import log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_kept_row_cas import just_before_the_one_statement
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the window is the log's single statement, PostgreSQL only",
    ),
]
HX = {"HX-Request": "true"}


@pytest.mark.xfail(
    strict=True, reason="known: the acute cap is not checked again at the insert (see above)"
)
def test_two_tabs_posting_at_once_cannot_pass_the_acute_cap():
    member = make_user(phase="acute")
    first_tab = ready_to_log(member)
    log_stretch(member)
    log_stretch(member)  # 2 of the flare's 3
    first_tab.get("/today/")
    other_tab = ready_to_log(member)
    answers = []
    wrapper, fired = just_before_the_one_statement(
        lambda: answers.append(other_tab.post("/today/log/", session_post(), headers=HX))
    )
    with connection.execute_wrapper(wrapper):
        first = first_tab.post("/today/log/", session_post(), headers=HX)
    assert fired and answers
    assert answers[0].headers.get("HX-Trigger") == "session-logged"  # the other tab's: 3rd
    assert "HX-Trigger" not in first.headers, "a 4th session was saved in an acute flare"
    assert Session.objects.filter(user=member).count() == 3
