"""The safety rework walked as a person would (issue 12): a block is lifted only by what the
SPEC names, a stop signal closes the rest of the day, and a pain rise gets an answer."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from stretches.models import SafetyEvent, Screening
from stretches.screening import QUESTIONS, QUESTIONS_BY_ID
from tests.browser.support import pick_pain
from tests.conftest import browser_login, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def answer_all(page, yes=()) -> None:
    for question in QUESTIONS:
        group = page.get_by_role("group", name=question.text)
        group.get_by_label("Yes" if question.id in yes else "No", exact=True).check()


def submit(page) -> None:
    page.get_by_role("button", name="See my result").click()
    page.wait_for_load_state()


def assert_closed(page) -> None:
    page.goto("/today/")
    page.wait_for_url("**/screening/**")
    expect(page.locator("[data-timer]")).to_have_count(0)
    expect(page.locator("[data-log-form]")).to_have_count(0)


def assert_open(page) -> None:
    page.goto("/today/")
    page.wait_for_url("**/today/")
    expect(page.locator("[data-log-form]")).to_have_count(1)


def test_emergency_then_a_clear_retake_stays_blocked_until_a_doctor_has_examined(page):
    user = make_user("emma", screened=False)
    browser_login(page, user.username, through_form=True)
    page.wait_for_url("**/screening/")
    answer_all(page, yes={"saddle_numbness"})
    submit(page)
    expect(page.get_by_role("heading", name="Get emergency care now")).to_be_visible()
    expect(page.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")

    # Trying to answer again: the questions are not even offered, and a forged POST of
    # all "no" stores nothing and opens nothing.
    page.goto("/screening/?retake=1")
    expect(page.get_by_role("heading", name="Get emergency care now")).to_be_visible()
    expect(page.get_by_role("group", name=QUESTIONS[0].text)).to_have_count(0)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = {"step": "all", **{f"q_{q.id}": "no" for q in QUESTIONS}}
    page.request.post(
        "/screening/", form=forged, headers={"X-CSRFToken": csrf, "Referer": page.url}
    )
    assert Screening.objects.filter(user=user).count() == 1
    assert_closed(page)

    # A doctor examined them: the retake is offered, and all "no" opens the plan.
    page.goto("/screening/")
    page.get_by_label("A doctor has examined me about these symptoms since I answered").check()
    page.get_by_label("Date of the examination").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Record the examination").click()
    page.wait_for_url("**/screening/?retake=1")
    answer_all(page)
    submit(page)
    page.wait_for_url("**/today/")
    assert_open(page)
    assert page.console_errors == []


def test_urgent_then_a_clear_retake_still_needs_the_clearance(page):
    user = make_user("uma", screened=False)
    browser_login(page, user.username, through_form=True)
    page.wait_for_url("**/screening/")
    answer_all(page, yes={"fever_unwell"})
    submit(page)
    expect(page.get_by_role("heading", name="Please see a doctor today")).to_be_visible()
    expect(page.get_by_text(QUESTIONS_BY_ID["fever_unwell"].text)).to_be_visible()

    page.get_by_role("link", name="Answer the questions again").click()
    answer_all(page)
    submit(page)
    expect(
        page.get_by_text("an earlier result still needs a clinician's clearance")
    ).to_be_visible()
    assert_closed(page)

    page.goto("/screening/")
    page.get_by_label("My GP").check()
    page.get_by_label("Date they told you the stretches are fine").fill(
        timezone.localdate().isoformat()
    )
    page.get_by_role("button", name="Record the clearance").click()
    page.wait_for_url("**/today/")
    expect(page.get_by_text("Clearance recorded. Your plan is open again.")).to_be_visible()
    assert_open(page)


def test_a_stop_signal_pauses_the_rest_of_the_day_and_a_clear_rescreen_opens_tomorrow(page):
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True) as clock:
        user = make_user("stella")
        browser_login(page, user.username)
        page.goto("/today/")
        pick_pain(page, "Pain before the session", 3)
        page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
        pick_pain(page, "Pain after the session", 3)
        page.get_by_label("Muscle cramping or spasm").check()
        page.get_by_role("button", name="Save session").click()
        page.wait_for_url("**/screening/")
        expect(
            page.get_by_role("heading", name="Your programme is paused for the rest of today")
        ).to_be_visible()

        # Answering the questions again today changes nothing.
        page.goto("/screening/?retake=1")
        expect(page.get_by_role("group", name=QUESTIONS[0].text)).to_have_count(0)
        assert_closed(page)

        clock.shift(timedelta(days=1))
        page.goto("/today/")
        page.wait_for_url("**/screening/")
        page.get_by_role(
            "group", name="Has the symptom you reported after your last session settled?"
        ).get_by_label("Yes, it has gone").check()
        answer_all(page)
        submit(page)
        page.wait_for_url("**/today/")
        assert_open(page)
    assert SafetyEvent.objects.filter(user=user, kind="stop_signal").count() == 1


def test_a_pain_rise_gets_guidance_and_the_sharp_question_pauses(page):
    user = make_user("petra")
    browser_login(page, user.username)
    page.goto("/today/")
    pick_pain(page, "Pain before the session", 3)
    page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
    pick_pain(page, "Pain after the session", 7)
    page.get_by_role("button", name="Save session").click()

    guidance = page.locator("[data-pain-guidance]")
    expect(guidance).to_contain_text("Your pain went from 3 to 7")
    expect(guidance).to_contain_text("rest for the rest of today")
    expect(page.get_by_text("Session saved.", exact=True)).to_have_count(0)
    guidance.get_by_role("button", name="Yes, it was sharp or shooting").click()
    page.wait_for_url("**/screening/")
    expect(
        page.get_by_role("heading", name="Your programme is paused for the rest of today")
    ).to_be_visible()
    assert SafetyEvent.objects.filter(user=user, kind="stop_signal").exists()
    assert_closed(page)
