"""The safety gate as a user meets it: nothing of the plan leaks past a blocking verdict."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from stretches.models import Screening
from stretches.screening import QUESTIONS, QUESTIONS_BY_ID, Tier
from tests.browser.support import SINGLE_LEG, pick_pain
from tests.conftest import browser_login, make_user, session_post
from tracking.models import Session

pytestmark = pytest.mark.django_db(transaction=True)

BLADDER = QUESTIONS_BY_ID["bladder_bowel"].text
NUMBNESS = "Numbness or tingling that got worse"


def answer(page, questions, yes=()) -> None:
    for question in questions:
        choice = "Yes" if question.id in yes else "No"
        page.get_by_role("group", name=question.text).get_by_label(choice, exact=True).check()


def assert_no_plan(page) -> None:
    assert page.url.endswith("/screening/"), page.url
    expect(page.get_by_role("heading", name="Today's stretches")).to_have_count(0)
    expect(page.get_by_role("button", name="Start guided timer")).to_have_count(0)
    expect(page.locator("[data-timer]")).to_have_count(0)
    expect(page.locator("[data-log-form]")).to_have_count(0)


def test_emergency_answer_closes_the_plan_timer_and_log_form(page):
    user = make_user("ursula", screened=False)
    browser_login(page, user.username, through_form=True)
    page.wait_for_url("**/screening/")
    expect(page.get_by_role("heading", name="Safety questions")).to_be_visible()

    answer(page, QUESTIONS, yes={"bladder_bowel"})
    page.get_by_role("button", name="See my result").click()
    page.wait_for_url("**/screening/")
    result = page.get_by_role("alert").filter(has_text="Get emergency care now")
    expect(result.get_by_role("heading", name="Get emergency care now")).to_be_visible()
    expect(result.locator("ul:not(.call-list) > li")).to_have_text([BLADDER])
    assert Screening.objects.get(user=user).verdict == "emergency"

    # By the nav link and by typing the address: both end on the result, never the plan.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    page.wait_for_url("**/screening/")
    assert_no_plan(page)
    expect(page.get_by_text("possible emergency")).to_be_visible()
    expect(page.get_by_role("heading", name="Get emergency care now")).to_be_visible()

    for path in ("/today/", "/sessions/new/"):
        page.goto(path)
        page.wait_for_url("**/screening/")
        assert_no_plan(page)

    # A hand-made POST to the log URL (valid CSRF token, valid session) is turned away too.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/today/log/", form=session_post(), headers={"X-CSRFToken": csrf, "Referer": page.url}
    )
    assert response.ok
    assert response.url.endswith("/screening/")
    assert "data-log-form" not in response.text()
    # The same POST as htmx sends it: told to go to the screening, given no form fragment.
    response = page.request.post(
        "/today/log/",
        form=session_post(),
        headers={"X-CSRFToken": csrf, "HX-Request": "true", "Referer": page.url},
    )
    assert response.headers.get("hx-redirect") == "/screening/"
    assert "data-log-form" not in response.text()
    assert not Session.objects.filter(user=user).exists()
    assert page.console_errors == []


def test_all_no_answers_open_week_one(page):
    user = make_user("nora", screened=False)
    browser_login(page, user.username, through_form=True)
    page.wait_for_url("**/screening/")
    answer(page, QUESTIONS)
    page.get_by_role("button", name="See my result").click()
    page.wait_for_url("**/today/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week 1")
    expect(page.get_by_role("article", name=SINGLE_LEG)).to_be_visible()
    expect(page.locator("[data-log-form]")).to_be_visible()
    assert Screening.objects.get(user=user).verdict == "clear"
    assert page.console_errors == []


def test_worse_numbness_pauses_the_programme_and_asks_emergency_questions_first(page):
    user = make_user("nils")
    browser_login(page, user.username)
    page.goto("/today/")
    pick_pain(page, "Pain before the session", 4)
    page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
    pick_pain(page, "Pain after the session", 4)
    page.get_by_role("checkbox", name=NUMBNESS).check()
    page.get_by_role("button", name="Save session").click()
    # htmx answers a stop signal with a client redirect to the guidance.
    page.wait_for_url("**/screening/")
    assert Session.objects.get(user=user).stop_signals == ["numbness"]

    page.goto("/today/")
    page.wait_for_url("**/screening/")
    assert_no_plan(page)
    guidance = page.locator("section").filter(
        has=page.get_by_role("heading", name="Your programme is paused")
    )
    expect(guidance).to_be_visible()
    expect(guidance.get_by_role("listitem").first).to_have_text(NUMBNESS)

    # Straight away, the emergency questions on their own; all "no" keeps today's pause.
    emergency = [q for q in QUESTIONS if q.tier is Tier.EMERGENCY]
    questions = page.locator("fieldset.question legend")
    expect(questions).to_have_text([q.text for q in emergency])
    answer(page, emergency)
    page.get_by_role("button", name="See my result").click()
    page.wait_for_url("**/screening/")
    expect(page.get_by_text("none of the emergency signs")).to_be_visible()
    assert_no_plan(page)

    # Tomorrow: the emergency questions first again, then whether it settled and the rest.
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=True):
        page.goto("/today/")
        page.wait_for_url("**/screening/")
        expect(questions).to_have_text([q.text for q in emergency])
        answer(page, emergency)
        page.get_by_role("button", name="Continue").click()
        rest = [q for q in QUESTIONS if q.tier is not Tier.EMERGENCY]
        settled = "Has the symptom you reported after your last session settled?"
        expect(questions).to_have_text([settled, *(q.text for q in rest)])
        page.get_by_role("group", name=settled).get_by_label("Yes, it has gone").check()
        answer(page, rest)
        page.get_by_role("button", name="See my result").click()
        page.wait_for_url("**/today/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Week 1")
    latest = Screening.objects.filter(user=user).first()
    assert latest.verdict == "clear" and latest.reason == Screening.Reason.STOP_SIGNAL
    assert set(latest.answers) == {q.id for q in QUESTIONS}
    assert page.console_errors == []
