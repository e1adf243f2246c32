"""The stretches and the safety questions on a phone (issue 13): drawings with their
words, no sideways scroll at 320 px, parts of the questionnaire and a visible choice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from stretches.models import StopSignal
from stretches.screening import QUESTIONS, Tier
from tests.browser.phone import (
    DESKTOP,
    PHONE,
    SMALL_PHONE,
    assert_fits_the_screen,
    assert_no_axe_violations,
)
from tests.conftest import browser_login
from tests.factories import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.layout,
    pytest.mark.layout_postgres,
]

SLUGS = [
    "single-knee-to-chest",
    "double-knee-to-chest",
    "figure-four",
    "standing-knee-hug",
    "morning-in-bed",
]


def check_widths(page, shot: str | None = None) -> None:
    """At 320 px nothing is wider than the screen; at 390 and 1280 px axe finds nothing."""
    page.set_viewport_size(SMALL_PHONE)
    assert_fits_the_screen(page)
    page.set_viewport_size(PHONE)
    assert_fits_the_screen(page)
    if shot:
        page.screenshot(path=shot)
    assert_no_axe_violations(page)
    page.set_viewport_size(DESKTOP)
    assert_no_axe_violations(page)


def test_the_stretch_pages_show_the_position_fit_a_phone_and_pass_axe(page):
    page.goto("/stretches/")
    check_widths(page)
    for slug in SLUGS:
        page.goto(f"/stretches/{slug}/")
        drawings = page.locator(".stretch-figure img")
        expect(drawings).to_have_count(2)
        for drawing in drawings.all():
            expect(drawing).to_be_visible()
            assert len(drawing.get_attribute("alt")) > 40
            # The file loaded and drew: an <img> whose file is missing has no natural width.
            assert drawing.evaluate("img => img.complete && img.naturalWidth > 0")
        captions = page.locator(".stretch-figure figcaption")
        assert captions.nth(0).inner_text().startswith("Start:")
        assert captions.nth(1).inner_text().startswith("End:")
        stops = page.get_by_role("region", name="Stop signals: stop at once if you notice")
        expect(stops.locator("li")).to_have_text([label for _, label in StopSignal.choices])
        check_widths(page, "/tmp/visuals-stretch.png" if slug == SLUGS[0] else None)
    assert page.console_errors == []


def answer(page, questions, yes=()) -> None:
    for question in questions:
        choice = "Yes" if question.id in yes else "No"
        page.get_by_role("group", name=question.text).get_by_label(choice, exact=True).check()


def test_the_questionnaire_on_a_phone_shows_its_parts_and_the_chosen_answer(page):
    make_user("quinn", screened=False)
    page.set_viewport_size(PHONE)
    browser_login(page, "quinn", through_form=True)
    page.wait_for_url("**/screening/")
    for number, tier in enumerate(Tier, start=1):
        expect(
            page.get_by_role("heading", name=f"Part {number} of 3 {tier.heading}")
        ).to_be_visible()

    question = page.get_by_role("group", name=QUESTIONS[0].text)
    options = question.locator("label")
    for option in options.all():
        box = option.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44  # large enough to tap
    question.get_by_label("Not sure", exact=True).check()
    chosen = question.locator("label", has_text="Not sure")
    other = question.locator("label", has_text="No").first

    def look(label):
        return label.evaluate(
            """l => ({border: getComputedStyle(l).borderTopWidth,
                     weight: getComputedStyle(l).fontWeight,
                     mark: getComputedStyle(l, '::after').content})"""
        )

    # Chosen: a tick, a thicker border and bold text, not a change of colour alone.
    assert look(chosen) == {"border": "3px", "weight": "800", "mark": '"✓"'}
    assert look(other)["mark"] in ("none", "normal") and look(other)["border"] == "2px"
    page.screenshot(path="/tmp/visuals-screening.png")
    check_widths(page)

    # Sent with most questions unanswered: the errors show, and still fit and pass axe.
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="See my result").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    check_widths(page)


@pytest.mark.parametrize(
    ("yes", "heading"),
    [
        ({"bladder_bowel"}, "Get emergency care now"),
        ({"fever_unwell"}, "Please see a doctor today"),
        ({"pregnancy"}, "Please get advice from a clinician first"),
    ],
)
def test_each_blocking_result_fits_a_phone_and_passes_axe(page, yes, heading):
    make_user("rowan", screened=False)
    browser_login(page, "rowan", through_form=True)
    page.wait_for_url("**/screening/")
    answer(page, QUESTIONS, yes=yes)
    page.get_by_role("button", name="See my result").click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    check_widths(page)


def test_the_clear_result_fits_a_phone_and_passes_axe(page):
    make_user("sasha")
    browser_login(page, "sasha")
    page.goto("/screening/")
    expect(
        page.get_by_role("heading", name="Nothing in your answers needs a doctor first")
    ).to_be_visible()
    check_widths(page)
