"""Two sender processes over 1,000 users on PostgreSQL send each due reminder exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from accounts.models import Profile
from reminders.models import PushSubscription, ReminderSent, ReminderSettings
from stretches.models import Screening
from stretches.screening import Verdict
from tests.factories import all_no
from tests.reminders.conftest import FIGURES, SUBJECT
from tests.reminders.factories import times_due_now

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(__file__).resolve().parents[2]
USERS = 1000
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]


def make_population(receiver) -> None:
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"sender-race-{n}", password="!") for n in range(USERS)
    )
    zone_of = {user.pk: ZONES[n % len(ZONES)] for n, user in enumerate(users)}
    Profile.objects.bulk_create(
        Profile(user=user, time_zone=zone_of[user.pk], programme_start=timezone.now().date())
        for user in users
    )
    Screening.objects.bulk_create(
        Screening(user=user, taken_at=timezone.now(), answers=all_no(), verdict=Verdict.CLEAR.value)
        for user in users
    )
    times = {zone: times_due_now(zone) for zone in ZONES}
    ReminderSettings.objects.bulk_create(
        ReminderSettings(user=user, **times[zone_of[user.pk]]) for user in users
    )
    devices = [receiver.device(str(user.pk)) for user in users]
    PushSubscription.objects.bulk_create(
        PushSubscription(user=user, endpoint=d.endpoint, p256dh=d.p256dh, auth=d.auth)
        for user, d in zip(users, devices, strict=True)
    )


def start_sender(vapid) -> subprocess.Popen:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        DJANGO_DEBUG="true",
        DATABASE_URL=(
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        VAPID_PUBLIC_KEY=vapid[0],
        VAPID_PRIVATE_KEY=vapid[1],
        VAPID_SUBJECT=SUBJECT,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_reminders"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_senders_send_each_due_reminder_exactly_once(vapid, receiver):
    make_population(receiver)
    minute = timezone.now().replace(second=0, microsecond=0)

    started = clock.monotonic()
    senders = [start_sender(vapid), start_sender(vapid)]
    outputs = [sender.communicate(timeout=120) for sender in senders]
    elapsed = clock.monotonic() - started

    assert [s.returncode for s in senders] == [0, 0], [err for _, err in outputs]
    if timezone.now().replace(second=0, microsecond=0) - minute > timedelta(minutes=10):
        pytest.fail("the senders took so long that the reminders left their window")
    per_device = Counter({name: len(payloads) for name, payloads in receiver.received.items()})
    assert receiver.rejected == []
    assert len(per_device) == USERS, "every user's reminder arrived"
    assert set(per_device.values()) == {1}, "and none arrived twice"
    assert ReminderSent.objects.count() == USERS
    lines = [out.strip().splitlines()[-1] for out, _ in outputs]
    FIGURES["two senders, PostgreSQL"] = (
        f"{USERS} users, {USERS} reminders due, {receiver.total_received()} received, "
        f"{sum(n - 1 for n in per_device.values())} duplicates, {elapsed:.1f} s "
        f"(both processes, start-up included)"
    )
    for n, line in enumerate(lines, start=1):
        FIGURES[f"sender {n}"] = line
    # Both did part of the work: the row locks shared it out rather than serialising it.
    assert all("sent 0 " not in line for line in lines), lines
