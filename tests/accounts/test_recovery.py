"""A forgotten password: a verified email, a reset link sent through a real SMTP server.

aiosmtpd listens on a free loopback port; the app sends through Django's SMTP backend,
and each test reads the link out of the message that arrived and follows it.
"""

from __future__ import annotations

import email
import re
import socket
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import LoginSession
from tests.conftest import PASSWORD, make_user
from tests.hardening.conftest import FIGURES

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "quiet-Harbour-81"
SAME_ANSWER = "If that address belongs to an account and was confirmed"


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"

    def wait_for(self, count: int, seconds: float = 5) -> list[email.message.Message]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox(settings):
    """A real SMTP server on 127.0.0.1, and the app's mail settings pointing at it."""
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    yield received
    controller.stop()


def link_in(message: email.message.Message) -> str:
    body = message.get_payload(decode=True).decode()
    return urlparse(re.search(r"https?://\S+", body)[0]).path


def verified_user(username: str = "alice", address: str = "alice@example.org"):
    user = make_user(username)
    user.email = address
    user.save()
    user.profile.verified_email = address
    user.profile.save()
    return user


def signed_in(client: Client) -> bool:
    return client.get("/account/").status_code == 200


def test_sign_up_with_an_email_sends_a_link_that_confirms_it(client, inbox):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newcomer",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "time_zone": "UTC",
            "email": "newcomer@example.org",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newcomer")
    assert user.email == "newcomer@example.org" and not user.profile.email_verified

    [message] = inbox.wait_for(1)
    assert message["To"] == "newcomer@example.org"
    link = link_in(message)
    page = Client().get(link)  # from the mail app: another browser, not signed in
    assert page.status_code == 200 and "Confirm newcomer@example.org" in page.text
    user.profile.refresh_from_db()
    assert not user.profile.email_verified  # a GET (a mail scanner) confirms nothing

    confirmed = Client().post(link)

    assert confirmed.status_code == 200 and "is confirmed" in confirmed.text
    user.profile.refresh_from_db()
    assert user.profile.email_verified
    assert "is confirmed" in client.get("/account/").text
    FIGURES["other"]["recovery: mails received over SMTP and followed"] += 1


def test_a_confirmation_link_stops_working_when_the_address_changes(client, inbox):
    user = make_user("alice")
    client.force_login(user)
    client.post("/account/email/", {"email": "old@example.org"})
    old_link = link_in(inbox.wait_for(1)[0])

    client.post("/account/email/", {"email": "new@example.org"})
    assert len(inbox.wait_for(2)) == 2

    assert Client().post(old_link).status_code == 400
    user.profile.refresh_from_db()
    assert not user.profile.email_verified
    assert Client().post(link_in(inbox.messages[1])).status_code == 200
    user.refresh_from_db()
    assert user.email == "new@example.org" and user.profile.email_verified


def test_sign_up_without_an_email_still_works_and_sends_nothing(client, inbox):
    response = client.post(
        "/accounts/signup/",
        {"username": "private", "password1": PASSWORD, "password2": PASSWORD, "time_zone": "UTC"},
    )
    assert response.status_code == 302
    time.sleep(0.2)
    assert inbox.messages == []


def test_password_reset_by_mail_sets_a_new_password_and_ends_every_session(inbox):
    user = verified_user()
    phone, laptop = Client(), Client()
    phone.force_login(user)
    laptop.force_login(user)
    assert LoginSession.objects.filter(user=user).count() == 2

    visitor = Client()
    asked = visitor.post("/accounts/password/reset/", {"email": "ALICE@example.org"})
    assert asked.status_code == 302
    assert SAME_ANSWER in visitor.get(asked.url).text
    [message] = inbox.wait_for(1)
    assert message["To"] == "alice@example.org"
    assert "60 minutes" in message.get_payload(decode=True).decode()

    form = visitor.get(link_in(message), follow=True)
    assert "Choose a new password" in form.text
    done = visitor.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.status_code == 302 and done.url == "/accounts/password/reset/complete/"
    assert not signed_in(phone) and not signed_in(laptop)
    assert LoginSession.objects.filter(user=user).count() == 0
    assert not signed_in(visitor)  # the reset does not sign anyone in
    login = Client().post("/accounts/login/", {"username": "alice", "password": NEW_PASSWORD})
    assert login.status_code == 302
    FIGURES["other"]["recovery: mails received over SMTP and followed"] += 1
    FIGURES["other"]["recovery: reset mails sent"] += 1


def test_a_reset_link_works_once(inbox):
    verified_user()
    Client().post("/accounts/password/reset/", {"email": "alice@example.org"})
    link = link_in(inbox.wait_for(1)[0])
    first = Client()
    form = first.get(link, follow=True)
    first.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    again = Client().get(link, follow=True)

    assert "This link no longer works" in again.text
    assert "new_password1" not in again.text
    FIGURES["other"]["recovery: reset mails sent"] += 1


def test_a_reset_link_expires_after_the_configured_time(inbox, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    verified_user()
    Client().post("/accounts/password/reset/", {"email": "alice@example.org"})
    link = link_in(inbox.wait_for(1)[0])

    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later):
        page = Client().get(link, follow=True)

    assert "This link no longer works" in page.text
    FIGURES["other"]["recovery: reset mails sent"] += 1


def normalised(response) -> str:
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "csrf", text)
    return re.sub(r'nonce="[^"]+"', "nonce", text)


def test_reset_gives_the_same_answer_for_known_unknown_and_unverified_addresses(inbox):
    verified_user("alice", "alice@example.org")
    unverified = make_user("bob")
    unverified.email = "bob@example.org"
    unverified.save()

    answers = []
    for address in ("alice@example.org", "nobody@example.org", "bob@example.org"):
        visitor = Client()
        response = visitor.post("/accounts/password/reset/", {"email": address})
        answers.append((response.status_code, response.url, normalised(visitor.get(response.url))))

    assert answers[0] == answers[1] == answers[2]
    inbox.wait_for(2, seconds=1)
    assert [m["To"] for m in inbox.messages] == ["alice@example.org"]  # only the verified one
    FIGURES["other"]["recovery: reset mails sent"] += 1


def test_privacy_page_says_what_is_stored_and_is_linked_from_every_page(client):
    landing = client.get("/")
    assert 'href="/privacy/"' in landing.text

    page = client.get("/privacy/")

    assert page.status_code == 200
    for heading in ("What we store, and why", "Who sees it", "Taking it with you, and deleting it"):
        assert heading in page.text
    for fact in ("14 days without a visit", "30 days", "CSV or JSON", "Delete your account"):
        assert fact in page.text
