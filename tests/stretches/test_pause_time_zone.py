"""A stop signal's pause cannot be shortened by moving the clock: a path nobody plans for."""

from datetime import UTC, datetime

import pytest
import time_machine

from stretches.safety import gate_state
from stretches.screening import GateReason
from tests.factories import make_session, make_user

pytestmark = pytest.mark.django_db

# 22:00 in Honolulu (UTC-10) is already the next day in Kiritimati (UTC+14).
LATE_EVENING_HONOLULU = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_changing_time_zone_after_a_stop_signal_does_not_end_the_pause_early():
    with time_machine.travel(LATE_EVENING_HONOLULU, tick=False):
        user = make_user(time_zone="Pacific/Honolulu")
        make_session(user, stop_signals=["cramp"])
        assert gate_state(user).decision.reason is GateReason.PAUSED_TODAY

        user.profile.time_zone = "Pacific/Kiritimati"
        user.profile.save(update_fields=["time_zone"])

        assert user.profile.local_today() > datetime(2026, 3, 9).date()
        assert gate_state(user).decision.reason is GateReason.PAUSED_TODAY


def test_the_pause_ends_at_the_local_midnight_it_was_reported_in():
    with time_machine.travel(LATE_EVENING_HONOLULU, tick=False) as clock:
        user = make_user(time_zone="Pacific/Honolulu")
        make_session(user, stop_signals=["cramp"])
        clock.move_to(datetime(2026, 3, 10, 10, 1, tzinfo=UTC))  # 00:01 in Honolulu

        assert gate_state(user).decision.reason is GateReason.STOP_SIGNAL
