"""Stamp the safety events of sessions logged before stamping existed.

Every stop signal, pain rise (after at least 2 above before) and severe score (8 or more)
becomes a SafetyEvent, and a profile's pending stop-signal pause becomes one too, so that
nobody's pause or setback is lifted by the move off the profile (accounts 0003).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import migrations

PAIN_RISE = 2
SEVERE = 8


def _tz(name):
    try:
        return ZoneInfo(name)
    except Exception:  # an unknown zone counts in UTC, as Profile.tzinfo does
        return ZoneInfo("UTC")


def forwards(apps, schema_editor):
    Session = apps.get_model("tracking", "Session")
    Profile = apps.get_model("accounts", "Profile")
    SafetyEvent = apps.get_model("stretches", "SafetyEvent")
    zones = dict(Profile.objects.values_list("user_id", "time_zone"))
    rows = []
    sessions = Session.objects.order_by("id").values(
        "id", "user_id", "performed_at", "created_at", "pain_before", "pain_after", "stop_signals"
    )
    for s in sessions.iterator(chunk_size=2000):
        tz = _tz(zones.get(s["user_id"], "UTC"))
        common = {
            "user_id": s["user_id"],
            "day": s["performed_at"].astimezone(tz).date(),
            "reported_on": s["created_at"].astimezone(tz).date(),
            "recorded_at": s["created_at"],
            "session_ref": s["id"],
        }
        if s["stop_signals"]:
            rows.append(
                SafetyEvent(kind="stop_signal", signals=sorted(s["stop_signals"]), **common)
            )
        elif s["pain_after"] - s["pain_before"] >= PAIN_RISE:
            rows.append(
                SafetyEvent(kind="pain_rise", rise=s["pain_after"] - s["pain_before"], **common)
            )
        if max(s["pain_before"], s["pain_after"]) >= SEVERE:
            rows.append(SafetyEvent(kind="severe_pain", **common))
        if len(rows) >= 2000:
            SafetyEvent.objects.bulk_create(rows)
            rows = []
    SafetyEvent.objects.bulk_create(rows)
    # A pause reported after the session was saved (an edit that added a stop signal):
    # keep it, stamped when it was reported.
    for profile in Profile.objects.exclude(last_stop_signal_at=None):
        reported = profile.last_stop_signal_at
        stamped = SafetyEvent.objects.filter(
            user_id=profile.user_id,
            kind="stop_signal",
            recorded_at__gte=reported - timedelta(seconds=1),
        ).exists()
        if not stamped:
            tz = _tz(profile.time_zone)
            SafetyEvent.objects.create(
                user_id=profile.user_id,
                kind="stop_signal",
                day=reported.astimezone(tz).date(),
                reported_on=reported.astimezone(tz).date(),
                recorded_at=reported,
                signals=sorted(profile.last_stop_signals or []),
            )


def backwards(apps, schema_editor):
    apps.get_model("stretches", "SafetyEvent").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0002_session_covering_and_setback_indexes"),
        ("stretches", "0003_safety_record"),
        ("accounts", "0002_profile_data_version"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
