"""Remove what has outlived its purpose: expired log-in sessions, old attempt records.

Run it daily (compose.yaml's ``housekeeping`` service does; cron or a systemd timer
elsewhere). Safe to run at any time and as often as wanted.
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import throttle
from accounts.models import LoginSession

# Log-in records are kept this long (the privacy page says so).
ACCESS_RECORDS_DAYS = 30


class Command(BaseCommand):
    help = "Delete expired log-in sessions, throttle counts and log-in records past 30 days."

    def handle(self, *args, **options):
        now = timezone.now()
        sessions, _ = LoginSession.objects.filter(expire_date__lt=now).delete()
        attempts = throttle.purge_expired()
        records_before = now - timedelta(days=ACCESS_RECORDS_DAYS)
        # A lock must be kept while it lasts, whatever the retention.
        locks_before = min(records_before, now - settings.AXES_COOLOFF_TIME)
        records = (
            AccessAttempt.objects.filter(attempt_time__lt=locks_before).delete()[0]
            + AccessLog.objects.filter(attempt_time__lt=records_before).delete()[0]
            + AccessFailureLog.objects.filter(attempt_time__lt=records_before).delete()[0]
        )
        self.stdout.write(
            f"Deleted {sessions} expired sessions, {attempts} throttle counts "
            f"and {records} log-in records."
        )
