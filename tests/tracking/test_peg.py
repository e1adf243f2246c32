"""PEG-3 (Krebs et al. 2009): the score, the weekly question, its trend and its exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import permutations, product

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_user
from tracking.models import PegScore
from tracking.peg import PegChange, PegWeek, peg_score, summarise
from tracking.services import save_peg

RATING = st.integers(min_value=0, max_value=10)
EVERY_ANSWER = list(product(range(11), repeat=3))


def expected_score(p: int, e: int, g: int) -> Decimal:
    """The mean as a person works it out: exact thirds, then one decimal, halves up."""
    mean = Fraction(p + e + g, 3)
    tenths = mean * 10
    whole, rest = divmod(tenths.numerator, tenths.denominator)
    if 2 * rest >= tenths.denominator:
        whole += 1
    return Decimal(whole) / 10


# --- The score (pure) ------------------------------------------------------------------


def test_the_score_is_right_for_every_one_of_the_1331_combinations():
    assert len(EVERY_ANSWER) == 11**3
    for p, e, g in EVERY_ANSWER:
        assert peg_score(p, e, g) == expected_score(p, e, g), (p, e, g)


@given(RATING, RATING, RATING)
def test_the_score_is_the_mean_of_the_three_whatever_their_order(p, e, g):
    score = peg_score(p, e, g)
    assert min(p, e, g) <= score <= max(p, e, g)
    assert abs(score - Decimal(p + e + g) / 3) <= Decimal("0.05")
    assert score == score.quantize(Decimal("0.1"))  # one decimal, always
    assert {peg_score(*order) for order in permutations((p, e, g))} == {score}


@given(RATING, RATING, RATING)
def test_the_score_never_falls_when_one_answer_rises(p, e, g):
    if p < 10:
        assert peg_score(p + 1, e, g) > peg_score(p, e, g)


def test_examples_a_clinician_can_check_by_hand():
    assert peg_score(0, 0, 0) == Decimal("0.0")
    assert peg_score(10, 10, 10) == Decimal("10.0")
    assert peg_score(6, 5, 5) == Decimal("5.3")  # 16 / 3 = 5.33...
    assert peg_score(7, 7, 6) == Decimal("6.7")  # 20 / 3 = 6.66...


@pytest.mark.parametrize("bad", [-1, 11, 2.5, "5", None, True])
def test_the_score_refuses_anything_but_a_whole_number_from_0_to_10(bad):
    with pytest.raises((TypeError, ValueError)):
        peg_score(bad, 5, 5)


def week(n: int, p: int, e: int, g: int) -> PegWeek:
    return PegWeek(n, date(2026, 1, 5) + timedelta(weeks=n - 1), p, e, g)


def test_the_change_is_points_and_percent_of_the_scores_shown():
    change = PegChange(week(1, 7, 6, 6), week(5, 5, 5, 4))  # 6.3 -> 4.7

    assert (change.points, change.percent) == (Decimal("-1.6"), 25)
    assert change.sentence == "Week 1 6.3, week 5 4.7: down 1.6 points (25 %)"
    assert "improve" not in change.sentence.lower()  # numbers only, no verdict


def test_a_rise_a_standstill_and_a_start_at_zero_are_said_plainly():
    assert PegChange(week(1, 3, 3, 3), week(2, 5, 5, 5)).sentence.endswith("up 2.0 points (66 %)")
    assert PegChange(week(1, 3, 3, 3), week(2, 3, 3, 3)).sentence.endswith("no change")
    assert PegChange(week(1, 0, 0, 0), week(2, 1, 1, 1)).sentence.endswith("up 1.0 point")


def test_one_answered_week_has_no_change_yet():
    assert summarise([week(2, 5, 5, 5)]).change is None
    assert summarise([week(3, 5, 5, 5), week(1, 6, 6, 6)]).weeks[0].week == 1  # sorted


# --- The database ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["pain", "enjoyment", "activity"])
def test_the_database_refuses_an_answer_above_10(field):
    user = make_user()
    answers = {"pain": 5, "enjoyment": 5, "activity": 5, field: 11}
    with pytest.raises(IntegrityError), transaction.atomic():
        PegScore.objects.create(user=user, week=1, **answers)
    assert not PegScore.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_partial_answer_and_a_second_row_for_a_week():
    user = make_user()
    with pytest.raises(IntegrityError), transaction.atomic():
        PegScore.objects.create(user=user, week=1, pain=5, enjoyment=None, activity=4)
    PegScore.objects.create(user=user, week=1, pain=5, enjoyment=5, activity=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        PegScore.objects.create(user=user, week=1, pain=1, enjoyment=1, activity=1)
    assert PegScore.objects.count() == 1


# --- Asked once a week on today's page -------------------------------------------------


def _started(days: int):
    user = make_user()
    user.profile.programme_start = user.profile.local_today() - timedelta(days=days)
    user.profile.save()
    return user


PROMPT = "three quick questions"
ANSWERS = {"pain": "6", "enjoyment": "5", "activity": "5"}


@pytest.mark.django_db
def test_today_asks_the_three_questions_once_a_week_from_week_one(client):
    user = _started(2)
    client.force_login(user)
    page = client.get("/today/").text
    assert f"Week 1: {PROMPT}" in page
    for meaning in ("pain on average", "enjoyment of life", "general activity"):
        assert meaning in page

    response = client.post("/peg/", ANSWERS, follow=True)

    assert "your week 1 score is 5.3 out of 10" in response.text
    row = PegScore.objects.get(user=user)
    assert (row.week, row.pain, row.enjoyment, row.activity) == (1, 6, 5, 5)
    assert PROMPT not in client.get("/today/").text


@pytest.mark.django_db
def test_not_this_week_skips_it_until_next_week(client):
    user = _started(9)
    client.force_login(user)

    response = client.post("/peg/", {"skip": "1"}, follow=True)

    assert "Skipped for this week" in response.text
    assert PegScore.objects.get(user=user).skipped
    assert PROMPT not in client.get("/today/").text
    user.profile.programme_start -= timedelta(days=7)  # a week later
    user.profile.save()
    assert f"Week 3: {PROMPT}" in client.get("/today/").text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"pain": "6", "enjoyment": "5"},
        {"pain": "11", "enjoyment": "5", "activity": "5"},
        {"pain": "-1", "enjoyment": "5", "activity": "5"},
        {"pain": "5.5", "enjoyment": "5", "activity": "5"},
        {"pain": "five", "enjoyment": "5", "activity": "5"},
    ],
)
def test_an_incomplete_or_out_of_range_answer_is_refused_and_nothing_stored(client, data):
    user = _started(2)
    client.force_login(user)

    response = client.post("/peg/", data, follow=True)

    assert response.status_code == 200
    assert "Your weekly answers were not saved" in response.text
    assert not PegScore.objects.exists()
    assert PROMPT in response.text  # still asked


@pytest.mark.django_db
def test_a_second_answer_in_the_same_week_changes_nothing(client):
    user = _started(2)
    client.force_login(user)
    client.post("/peg/", ANSWERS)

    response = client.post("/peg/", {"pain": "0", "enjoyment": "0", "activity": "0"}, follow=True)

    assert "already done" in response.text
    assert PegScore.objects.get(user=user).pain == 6


@pytest.mark.django_db
def test_without_a_start_date_nothing_is_asked_or_saved(client):
    user = make_user(start=None)
    client.force_login(user)
    client.post("/peg/", ANSWERS)
    assert not PegScore.objects.exists()


@pytest.mark.django_db
def test_the_question_needs_a_login(client):
    response = client.post("/peg/", ANSWERS)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not PegScore.objects.exists()


# --- Progress, report and exports ------------------------------------------------------


@pytest.fixture
def answered(db):
    """Five weeks into the programme, with answers in weeks 1, 2 and 5 and a skip in 3."""
    user = _started(30)
    save_peg(user=user, week=1, pain=7, enjoyment=6, activity=6)  # 6.3
    save_peg(user=user, week=2, pain=6, enjoyment=6, activity=5)  # 5.7
    save_peg(user=user, week=3, pain=None, enjoyment=None, activity=None)
    save_peg(user=user, week=5, pain=5, enjoyment=5, activity=4)  # 4.7
    return user


def test_progress_shows_the_trend_and_its_change_without_a_verdict(client, answered):
    from tests.conftest import make_session

    make_session(answered)
    client.force_login(answered)

    page = client.get("/progress/").text

    assert "Weekly PEG-3 score" in page
    assert "Week 1 6.3, week 5 4.7: down 1.6 points (25 %)" in page
    assert 'id="chart-peg"' in page
    # Three points, one per answered week; week 4 (unanswered) and 3 (skipped) are gaps.
    # The chart is drawn twice (wide, and narrow for a phone): count in the wide one.
    wide = page.split('id="chart-peg"')[1].split("</figure>")[0]
    assert wide.count("PEG-3 score 6.3 (pain 7") == 1
    assert "Week 3, from" not in page and "Week 4, from" not in page
    assert wide.count('class="chart-focusable"') == 3
    narrow = page.split('id="chart-peg-narrow"')[1].split("</figure>")[0]
    assert narrow.count('class="chart-focusable"') == 3


def test_the_report_carries_the_scores_and_the_change(client, answered):
    from tests.conftest import make_session

    make_session(answered)
    client.force_login(answered)

    page = client.get("/progress/report/").text

    assert "Week 1 6.3, week 5 4.7: down 1.6 points (25 %)" in page
    # Each answered week's score and its three answers, in the weekly table.
    for cell in ("<strong>6.3</strong> <span", "(7, 6, 6)", "<strong>5.7</strong>", "(5, 5, 4)"):
        assert cell in page


def test_the_report_shows_the_scores_before_any_session_is_logged(client, answered):
    client.force_login(answered)

    page = client.get("/progress/report/").text

    assert "No sessions have been recorded yet" in page
    assert "Week 1 6.3, week 5 4.7: down 1.6 points (25 %)" in page


def test_the_csv_export_carries_every_answered_week(client, answered):
    client.force_login(answered)

    response = client.get("/progress/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    peg = [r for r in rows if r["record"] == "peg"]
    assert [(r["week"], r["peg_pain"], r["peg_score"]) for r in peg] == [
        ("1", "7", "6.3"),
        ("2", "6", "5.7"),
        ("5", "5", "4.7"),
    ]
    assert {r["peg_enjoyment"] for r in peg} == {"6", "5"} and peg[2]["peg_activity"] == "4"
    # Additive: the new columns come last, so every earlier column keeps its place.
    assert list(rows[0])[-5:] == [
        "week",
        "peg_pain",
        "peg_enjoyment",
        "peg_activity",
        "peg_score",
    ]


def test_the_json_export_carries_every_answered_week(client, answered):
    client.force_login(answered)

    response = client.get("/progress/export.json")
    exported = json.loads(b"".join(response.streaming_content))

    assert {"sessions", "screenings", "clearances"} <= set(exported)  # still there
    assert [
        (p["week"], p["pain"], p["enjoyment"], p["activity"], p["score"]) for p in exported["peg"]
    ] == [(1, 7, 6, 6, 6.3), (2, 6, 6, 5, 5.7), (5, 5, 5, 4, 4.7)]


def test_another_users_answers_appear_nowhere(client, answered):
    other = _started(30)
    client.force_login(other)
    # The number on its own, not inside a timestamp's seconds ("01:31:56.304081").
    assert not re.search(r"(?<![\d.])6\.3(?!\d)", client.get("/progress/report/").text)
    exported = json.loads(b"".join(client.get("/progress/export.json").streaming_content))
    assert exported["peg"] == []
