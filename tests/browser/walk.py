"""Every page of SPEC section 3, in every state a person reaches it in.

A *state* is who is looking (a visitor, a new user before screening, each screening
verdict, a user just cleared, the demo user with six weeks of data, a user paused by a
stop signal). ``prepare(state, page)`` builds that person in the database, signs them
in on ``page`` and returns their visits, in order: each visit brings the page to one
screen (an address, or a form submitted with errors, or the timer running) the way a
person does. The accessibility and overflow tests walk the same list, so a page added
here is checked by both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from accounts.mail import verification_token
from sharing.services import create_link
from stretches.models import Exercise, StopSignal
from stretches.safety import record_screening
from stretches.screening import QUESTIONS, Answer
from tests.browser.support import pick_pain
from tests.conftest import browser_login
from tests.factories import make_session, make_user
from tracking.models import Session

STATES = [
    "visitor",
    "new-user",
    "emergency",
    "urgent",
    "clinician-first",
    "cleared",
    "demo",
    "paused",
    "day-after-stop-signal",
]

ERRORS = ".alert-danger, .errorlist, .message-error"
NEW_PASSWORD = "Quiet-Knee-Hug-77"


@dataclass(frozen=True)
class Visit:
    name: str
    reach: Callable[[Page], object]
    # An address can be loaded afresh at each width; a screen reached by an action (a
    # form sent, the timer started) is reached once and the window resized, as a person
    # turning their phone would.
    reload: bool = False


def at(path: str, name: str | None = None) -> Visit:
    return Visit(name or path, lambda page: page.goto(path), reload=True)


def submit(page: Page, form: str, shows: str = ERRORS) -> None:
    """Press the form's submit button and wait until ``shows`` is on screen, and the page
    has loaded (its stylesheet: a page measured before it arrives is laid out unstyled, a
    textarea at its default 40 columns, wider than a 320 px screen)."""
    page.locator(form).locator("button[type=submit]").first.click()
    expect(page.locator(shows).first).to_be_visible()
    page.wait_for_load_state("load")


def errors_on(path: str, form: str, fill: Callable[[Page], object] | None = None) -> Visit:
    """The page after its form came back with errors (filled wrongly, or left empty)."""

    def reach(page: Page) -> None:
        page.goto(path)
        if fill:
            fill(page)
        submit(page, form)

    return Visit(f"{path} with errors", reach)


# Pages drawn without a request (the server's own error pages): served as the server
# would send them, from our origin, so they load our stylesheet.
BARE_PAGES = [("500.html", 500), ("503.html", 503), ("sharing/too_many.html", 429)]


def served(template: str, status: int) -> Visit:
    def reach(page: Page) -> None:
        body = render_to_string(template)
        path = f"/__page__/{template}"
        page.route(
            f"**{path}",
            lambda route: route.fulfill(status=status, body=body, content_type="text/html"),
        )
        page.goto(path)

    return Visit(f"{template} ({status})", reach, reload=True)


def answer_all(page: Page, yes=()) -> None:
    for question in QUESTIONS:
        group = page.get_by_role("group", name=question.text)
        group.get_by_label("Yes" if question.id in yes else "No", exact=True).check()


def _screened(user, yes: str) -> None:
    answers = {q.id: Answer.YES if q.id == yes else Answer.NO for q in QUESTIONS}
    record_screening(user=user, answers=answers, triggers=(), reason="first")


def _stretch_pages() -> list[Visit]:
    return [at(f"/stretches/{e.slug}/") for e in Exercise.objects.order_by("pk")]


# --- The states ---------------------------------------------------------------------


def _visitor(page: Page) -> list[Visit]:
    reader = make_user("reader", verified_email="reader@example.com")
    reader.email = "reader@example.com"
    reader.save(update_fields=["email"])
    for day in range(10):
        make_session(reader, performed_at=timezone.now() - timedelta(days=day, hours=1))
    _, token = create_link(user=reader, days=7, name="Dr Patel")

    def reset_link() -> str:
        reader.refresh_from_db()
        uid = urlsafe_base64_encode(force_bytes(reader.pk))
        return f"/accounts/password/reset/{uid}/{default_token_generator.make_token(reader)}/"

    def reset_sent(page: Page) -> None:
        page.goto("/accounts/password/reset/")
        page.get_by_label("Email").fill(reader.email)
        submit(page, "main form", shows="h1:has-text('Check your email')")
        assert mail.outbox, "the reset mail was not sent"

    def new_password(page: Page, confirm: str) -> None:
        page.goto(reset_link())
        page.locator("[name=new_password1]").fill(NEW_PASSWORD)
        page.locator("[name=new_password2]").fill(confirm)

    def reset_errors(page: Page) -> None:
        new_password(page, "not the same")
        submit(page, "main form")

    def reset_complete(page: Page) -> None:
        new_password(page, NEW_PASSWORD)
        submit(page, "main form", shows="h1:has-text('Your password is changed')")

    def locked_out(page: Page) -> None:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            page.goto("/accounts/login/")
            page.locator("[name=username]").fill("reader")
            page.locator("[name=password]").fill("wrong")
            page.locator("main form button[type=submit]").click()
        expect(page.get_by_role("heading", name="Too many failed log-in attempts")).to_be_visible()
        page.wait_for_load_state("load")  # and its stylesheet (submit's note)

    def throttled(page: Page) -> None:
        with override_settings(THROTTLE_SIGNUP_PER_HOUR=1):
            for _ in range(2):
                page.goto("/accounts/signup/")
                page.locator("main form button[type=submit]").click()
                page.wait_for_load_state()
        expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
        page.wait_for_load_state("load")

    def email_confirmed(page: Page) -> None:
        page.goto(f"/account/email/verify/{verification_token(reader)}/")
        submit(page, "main form", shows="h1:has-text('is confirmed')")

    return [
        at("/"),
        at("/accounts/signup/"),
        errors_on(
            "/accounts/signup/",
            "main form",
            lambda p: (
                p.locator("[name=username]").fill("newcomer"),
                p.locator("[name=password1]").fill("short"),
                p.locator("[name=password2]").fill("other"),
                p.locator("[name=email]").fill("not an address"),
            ),
        ),
        at("/accounts/login/"),
        errors_on(
            "/accounts/login/",
            "main form",
            lambda p: (
                p.get_by_label("Username").fill("reader"),
                p.get_by_label("Password").fill("wrong"),
            ),
        ),
        at("/accounts/password/reset/"),
        errors_on(
            "/accounts/password/reset/",
            "main form",
            lambda p: p.get_by_label("Email").fill("not an address"),
        ),
        Visit("password reset: mail sent", reset_sent),
        Visit("password reset: choose a new password", lambda p: p.goto(reset_link())),
        Visit("password reset: passwords differ", reset_errors),
        Visit("password reset: complete", reset_complete),
        at("/accounts/password/reset/MQ/expired-token/", "password reset: link no longer works"),
        Visit(
            "email verify: ask",
            lambda p: p.goto(f"/account/email/verify/{verification_token(reader)}/"),
        ),
        Visit("email verify: confirmed", email_confirmed),
        at("/account/email/verify/not-a-token/", "email verify: invalid link"),
        at("/stretches/"),
        *_stretch_pages(),
        at("/privacy/"),
        at(f"/shared/{token}/", "shared report"),
        at("/no-such-page/", "404 page"),
        *[served(template, status) for template, status in BARE_PAGES],
        Visit("locked out after failed log-ins", locked_out),
        Visit("too many sign-ups from one network", throttled),
    ]


def _new_user(page: Page) -> list[Visit]:
    user = make_user("newcomer", screened=False)
    browser_login(page, user.username)
    return [
        at("/screening/", "screening questions"),
        errors_on("/screening/", "main form"),
        at("/account/", "account, no screening yet"),
    ]


def _verdict(yes: str, *more: Visit) -> Callable[[Page], list[Visit]]:
    """The result page of a blocking verdict, then what else only that verdict shows."""

    def prepare(page: Page) -> list[Visit]:
        user = make_user(screened=False)
        _screened(user, yes)
        browser_login(page, user.username)
        return [at("/screening/", "verdict"), *more]

    return prepare


def _cleared(page: Page) -> list[Visit]:
    user = make_user("cleared")
    browser_login(page, user.username)

    def to_step_three(page: Page, pain_before: int) -> None:
        # The guided flow: pain now, then straight to pain after without the timer.
        page.goto("/today/")
        pick_pain(page, "Pain before the session", pain_before)
        page.get_by_role("button", name="I did it without the timer").click()
        expect(page.get_by_role("group", name="Pain after the session")).to_be_visible()

    def timer_running(page: Page) -> None:
        page.goto("/today/")
        pick_pain(page, "Pain before the session", 3)
        timer = page.locator("[data-timer]")
        timer.get_by_role("button", name="Start", exact=True).click()
        expect(timer.get_by_role("button", name="Pause")).to_be_visible()
        # Past the 5-second get-ready count, into the first hold: the clock and the breath
        # cue moving, as a person sees them while stretching.
        expect(timer.locator("[data-timer-phase]")).to_contain_text("Hold 1 of", timeout=10_000)
        expect(timer.locator("[data-timer-breath]")).not_to_be_empty()

    def pain_rise(page: Page) -> None:
        to_step_three(page, 2)
        pick_pain(page, "Pain after the session", 5)
        page.get_by_role("button", name="Save session").click()
        expect(page.get_by_role("button", name="Yes, it was sharp or shooting")).to_be_visible()

    def today_errors(page: Page) -> None:
        to_step_three(page, 4)  # no pain after given
        page.locator("[data-log-form]").get_by_role("button", name="Save session").click()
        expect(page.locator(ERRORS).first).to_be_visible()

    return [
        at("/today/", "today, nothing logged"),
        Visit("today, timer running", timer_running),
        Visit("today, log form with errors", today_errors),
        at("/sessions/", "sessions, none yet"),
        at("/sessions/new/"),
        errors_on("/sessions/new/", "main form"),
        at("/progress/", "progress, no data"),
        at("/progress/report/", "report, no data"),
        at("/stretches/"),
        at("/account/"),
        errors_on(
            "/account/",
            "form[action='/account/']",
            lambda p: p.get_by_label("Programme start").fill("2999-01-01"),
        ),
        errors_on(
            "/account/",
            "form[action='/account/email/']",
            lambda p: p.locator("form[action='/account/email/'] input[name=email]").fill("nope"),
        ),
        at("/account/delete/"),
        errors_on("/account/delete/", "main form"),
        at("/accounts/password/"),
        errors_on("/accounts/password/", "main form"),
        at("/account/sharing/", "sharing, no links"),
        errors_on(
            "/account/sharing/",
            "form[action='/account/sharing/']",
            # The field's maxlength stops a person typing this; a browser that ignores
            # it (or a pasted address) still gets the error shown.
            lambda p: (
                p.locator("[name=name]").evaluate("e => e.removeAttribute('maxlength')"),
                p.locator("[name=name]").fill("x" * 200),
            ),
        ),
        at("/account/reminders/"),
        errors_on(
            "/account/reminders/",
            "form[action='/account/reminders/']",
            lambda p: p.get_by_label("Morning reminder").fill(""),
        ),
        at("/privacy/"),
        at("/sessions/999999/edit/", "404 page, signed in"),
        Visit("today, after a pain rise", pain_rise),
    ]


def _demo(page: Page) -> list[Visit]:
    with override_settings(DEBUG=True):  # seed_demo is a development command
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from tracking.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

    browser_login(page, DEMO_USERNAME, DEMO_PASSWORD)
    latest = Session.objects.filter(user__username=DEMO_USERNAME).latest("performed_at")

    def shared(page: Page) -> None:
        page.goto("/account/sharing/")
        page.get_by_label("Who is it for? (optional)").fill("Dr Patel")
        submit(page, "form[action='/account/sharing/']", shows="#share-url")
        url = page.locator("#share-url").input_value()
        page.goto(url)

    def open_data_table(page: Page) -> None:
        page.goto("/progress/")
        for summary in page.locator(".data-table > summary").all():
            summary.click()
        expect(page.locator(".data-table table").last).to_be_visible()

    def new_link(page: Page) -> None:
        page.goto("/account/sharing/")
        submit(page, "form[action='/account/sharing/']", shows="#share-url")

    def feed(page: Page) -> None:
        page.goto("/account/reminders/")
        submit(page, "form[action='/account/reminders/calendar/']", shows=".feed-url")

    return [
        at("/today/", "today, six weeks in"),
        at("/sessions/", "sessions, newest first"),
        at("/sessions/?page=2", "sessions, page 2"),
        at(f"/sessions/{latest.pk}/edit/", "edit a session"),
        errors_on(
            f"/sessions/{latest.pk}/edit/",
            "main form",
            lambda p: p.locator("[name=hold_seconds]").fill("999"),
        ),
        at(f"/sessions/{latest.pk}/delete/", "delete a session: confirm"),
        at("/progress/", "progress, six weeks"),
        at("/progress/?range=all", "progress, all of it"),
        Visit("progress, data tables open", open_data_table),
        at("/progress/report/", "report"),
        at("/account/", "account with history"),
        Visit("sharing, a new link shown", new_link),
        Visit("shared report, six weeks", shared),
        Visit("reminders, calendar feed shown", feed),
    ]


def _paused(page: Page) -> list[Visit]:
    user = make_user("paused")
    make_session(user, stop_signals=[StopSignal.SHARP_PAIN.value])
    browser_login(page, user.username)
    return [at("/screening/", "paused for today"), at("/today/", "today while paused")]


def _day_after_stop_signal(page: Page) -> list[Visit]:
    user = make_user("returning")
    yesterday = timezone.now() - timedelta(days=1)
    user.screenings.update(taken_at=yesterday - timedelta(hours=1))
    make_session(user, performed_at=yesterday, stop_signals=[StopSignal.SHARP_PAIN.value])
    browser_login(page, user.username)
    return [
        at("/screening/", "re-screening after a stop signal"),
        errors_on("/screening/", "main form"),
    ]


PREPARE = {
    "visitor": _visitor,
    "new-user": _new_user,
    "emergency": _verdict(
        "saddle_numbness",
        errors_on("/screening/", "form:has([name=examined_on])"),
        at("/account/", "account, an emergency on record"),
    ),
    "urgent": _verdict(
        "fever_unwell",
        errors_on("/screening/", "form:has([name=cleared_on])"),
        at("/screening/?retake=1", "retake, earlier answers marked"),
    ),
    "clinician-first": _verdict("recent_surgery"),
    "cleared": _cleared,
    "demo": _demo,
    "paused": _paused,
    "day-after-stop-signal": _day_after_stop_signal,
}


def prepare(state: str, page: Page) -> list[Visit]:
    return PREPARE[state](page)
