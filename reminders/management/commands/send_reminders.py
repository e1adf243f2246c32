import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from reminders.push import Pusher
from reminders.services import forget_old_feed_counts, send_due_reminders


class Command(BaseCommand):
    help = "Send the Web Push reminders that are due (once, or every N seconds with --every)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and look for due reminders every SECONDS (e.g. 60).",
        )

    def handle(self, *args, every: int, **options):
        if every < 0:
            raise CommandError("--every must be a positive number of seconds.")
        pusher = Pusher.from_settings()
        if pusher is None:
            raise CommandError(
                "Web Push is not configured: set VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and "
                "VAPID_SUBJECT (python manage.py generate_vapid_keys makes a key pair)."
            )
        while True:
            started = time.monotonic()
            report = send_due_reminders(pusher=pusher)
            forget_old_feed_counts(timezone.now())
            took = time.monotonic() - started
            self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {report.line()} in {took:.1f} s")
            if not every:
                return
            time.sleep(max(1.0, every - (time.monotonic() - started)))
            # A long-running process: drop a connection the database closed meanwhile.
            close_old_connections()
