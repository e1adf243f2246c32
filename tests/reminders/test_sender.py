"""The sender against a real local push service: signed, encrypted, once, and no health data."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone
from py_vapid import Vapid

from reminders.models import PushSubscription, ReminderSent, ReminderSettings
from reminders.push import Pusher, b64url, generate_vapid_keys
from reminders.services import send_due_reminders
from stretches.progression import Phase
from tests.factories import make_session, make_user
from tests.reminders.factories import make_device, make_reminders, times_due_now

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def tomorrow_at(moment: time, tz=LONDON) -> datetime:
    day = timezone.now().astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, moment, tzinfo=tz)


@pytest.fixture
def alice(db):
    return make_user("alice", time_zone="Europe/London")


def send(now):
    return send_due_reminders(now, pusher=Pusher.from_settings())


def test_a_due_reminder_reaches_every_device_signed_and_encrypted(alice, receiver):
    make_reminders(alice)
    phone, laptop = receiver.device("phone"), receiver.device("laptop")
    make_device(alice, phone), make_device(alice, laptop)

    report = send(tomorrow_at(time(8, 0, 30)))

    assert receiver.rejected == []
    assert receiver.received["phone"] == receiver.received["laptop"]
    [payload] = receiver.received["phone"]
    day = tomorrow_at(time(8)).date()
    # Exactly these fields: a title, a plain sentence, a link and a tag. No health data.
    assert payload == {
        "title": "Back stretches",
        "body": "Time for your stretches: today's plan is ready.",
        "url": "/today/",
        "tag": f"easeback-{day.isoformat()}-1",
    }
    sent = ReminderSent.objects.get(user=alice)
    assert (sent.day, sent.number, sent.kind, sent.devices_reached) == (day, 1, "session", 2)
    assert report.deliveries == {"delivered": 2}


def test_nothing_is_sent_before_the_time_or_after_the_window(alice, receiver):
    make_reminders(alice)
    make_device(alice, receiver.device("phone"))

    send(tomorrow_at(time(7, 59)))
    ReminderSettings.objects.update(next_due_at=None)
    send(tomorrow_at(time(8, 20)))

    assert receiver.total_received() == 0


def test_running_again_in_the_same_minute_sends_nothing_more(alice, receiver):
    make_reminders(alice)
    make_device(alice, receiver.device("phone"))
    now = tomorrow_at(time(8, 0, 10))

    send(now)
    # A second sender that read the row before the first one saved it: the unique
    # "sent" row (not a row lock) is what stops it, as on SQLite.
    ReminderSettings.objects.update(next_due_at=None)
    second = send(now + timedelta(seconds=30))

    assert receiver.total_received() == 1
    assert second.already_sent == 1


def test_a_device_the_push_service_reports_gone_is_deleted(alice, receiver):
    make_reminders(alice)
    make_device(alice, receiver.device("old-phone"))
    make_device(alice, receiver.device("new-phone"))
    receiver.gone.add("old-phone")

    report = send(tomorrow_at(time(8)))

    assert list(PushSubscription.objects.values_list("device", flat=True)) == [
        "Test browser new-phone"
    ]
    assert len(receiver.received["new-phone"]) == 1
    assert report.deliveries == {"gone": 1, "delivered": 1}


def test_no_reminder_for_a_session_already_logged_for_that_slot(alice, receiver):
    make_reminders(alice)
    make_device(alice, receiver.device("phone"))
    make_session(alice, performed_at=tomorrow_at(time(7, 10)))

    morning = send(tomorrow_at(time(8)))
    evening = send(tomorrow_at(time(19)))

    assert (morning.skipped_done, sum(morning.sent.values())) == (1, 0)
    assert sum(evening.sent.values()) == 1  # one logged session covers only the first
    assert [p["tag"][-1] for p in receiver.received["phone"]] == ["2"]


def test_a_closed_plan_asks_for_the_safety_questions_once_a_day(receiver):
    bob = make_user("bob", time_zone="Europe/London", screened=False, phase=Phase.ACUTE.value)
    make_reminders(bob)
    make_device(bob, receiver.device("phone"))

    for moment in (time(8), time(13), time(19)):
        send(tomorrow_at(moment))

    assert receiver.received["phone"] == [
        {
            "title": "Back stretches",
            "body": "Before your next stretch, please answer the safety questions.",
            "url": "/screening/",
            "tag": f"easeback-{tomorrow_at(time(8)).date().isoformat()}-1",
        }
    ]


def test_acute_flare_gets_three_reminders_and_a_changed_time_zone_is_picked_up(receiver):
    carol = make_user("carol", time_zone="Europe/London", phase=Phase.ACUTE.value)
    make_reminders(carol)
    make_device(carol, receiver.device("phone"))
    send(tomorrow_at(time(8)))
    # She moves to Sydney: the next check uses her new zone at once.
    carol.profile.time_zone = "Australia/Sydney"
    carol.profile.save()

    report = send(tomorrow_at(time(13), ZoneInfo("Australia/Sydney")))

    assert report.users_checked == 1 and sum(report.sent.values()) == 1
    assert ReminderSent.objects.filter(user=carol).count() == 2


def test_switched_off_reminders_send_nothing(alice, receiver):
    make_reminders(alice, push_enabled=False)
    make_device(alice, receiver.device("phone"))

    report = send(tomorrow_at(time(8)))

    assert report.users_checked == 0 and receiver.total_received() == 0


def test_the_command_refuses_to_run_without_vapid_keys(settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    with pytest.raises(CommandError, match="VAPID_PUBLIC_KEY"):
        call_command("send_reminders")


def test_the_command_sends_what_is_due_now(receiver):
    dave = make_user("dave", time_zone="America/New_York")
    make_reminders(dave, **times_due_now("America/New_York"))
    make_device(dave, receiver.device("phone"))
    out = StringIO()

    call_command("send_reminders", stdout=out)

    assert "sent 1" in out.getvalue()
    assert len(receiver.received["phone"]) == 1


def test_generated_vapid_keys_are_a_matching_pair():
    out = StringIO()
    call_command("generate_vapid_keys", stdout=out, stderr=StringIO())
    values = dict(line.split("=", 1) for line in out.getvalue().split())
    key = Vapid.from_string(values["VAPID_PRIVATE_KEY"])
    public = key.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert b64url(public) == values["VAPID_PUBLIC_KEY"]
    assert values["VAPID_SUBJECT"].startswith("mailto:")


def test_a_bad_or_mismatched_vapid_pair_fails_the_system_check(settings):
    public, private = generate_vapid_keys()
    other_public, _ = generate_vapid_keys()
    for pub, priv, message in [
        (public, "not-a-key", "VAPID_PRIVATE_KEY is not a base64url P-256 private key"),
        (other_public, private, "VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY"),
    ]:
        settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = pub, priv
        with pytest.raises(SystemCheckError, match=message):
            call_command("check")
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    call_command("check", stdout=StringIO())


def test_the_local_push_service_refuses_a_forged_or_foreign_vapid_token(receiver, vapid):
    """The receiver's checks are real: a token signed by another key is turned away."""
    _, stranger_private = generate_vapid_keys()
    stranger = Vapid.from_string(stranger_private)
    claims = {"sub": "mailto:reminders@easeback.test", "aud": receiver.origin, "exp": 2**31 - 1}
    forged = stranger.sign(dict(claims))["Authorization"]
    # The stranger's token, presented under our public key.
    token = forged.split("t=")[1].split(",")[0]
    assert receiver.check_vapid(f"vapid t={token}, k={vapid[0]}") == "bad signature"
    assert receiver.check_vapid(forged) == "k is not the application server's key"
    ours = Vapid.from_string(vapid[1]).sign(dict(claims, aud="https://elsewhere.example"))
    assert receiver.check_vapid(ours["Authorization"]).startswith("aud")


def test_nothing_is_sent_on_the_day_a_stop_signal_paused_the_plan(receiver):
    sam = make_user("sam", time_zone="Europe/London")
    make_reminders(sam, **times_due_now("Europe/London"))
    make_device(sam, receiver.device("phone"))
    make_session(sam, stop_signals=["cramp"], performed_at=timezone.now())

    report = send(timezone.now())

    assert report.reminders_due == 1 and receiver.total_received() == 0
    assert not ReminderSent.objects.exists()
