from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.services import create_account
from stretches.models import Screening
from stretches.screening import QUESTIONS, Answer, Verdict
from tracking.demo import sample_sessions
from tracking.models import Session, WeeklyCheckin
from tracking.services import stamp_history

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "stretch-demo-2026"
DEMO_WEEKS = 6


class Command(BaseCommand):
    help = "Create the demo account with six weeks of sample sessions (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo is for development only: it refuses to run with DEBUG off."
            )
        User = get_user_model()
        if User.objects.exists():
            if User.objects.filter(username=DEMO_USERNAME).exists():
                self._print_login()
            else:
                self.stdout.write("The database already has accounts; no demo data added.")
            return
        with transaction.atomic():
            user = create_account(
                username=DEMO_USERNAME, password=DEMO_PASSWORD, time_zone="Europe/London"
            )
            profile = user.profile
            today = profile.local_today()
            start = today - timedelta(weeks=DEMO_WEEKS) + timedelta(days=1)
            profile.programme_start = start
            profile.save(update_fields=["programme_start"])
            Screening.objects.create(
                user=user,
                taken_at=timezone.now() - timedelta(days=3),
                answers={q.id: Answer.NO.value for q in QUESTIONS},
                verdict=Verdict.CLEAR.value,
                reason=Screening.Reason.DUE,
            )
            days = (today - start).days  # today is left for the user to log
            stamp_history(
                user,
                Session.objects.bulk_create(
                    sample_sessions(user, start=start, days=days, tz=profile.tzinfo)
                ),
            )
            for week, (movement, sleep) in enumerate(
                [
                    ("same", "same"),
                    ("better", "same"),
                    ("better", "better"),
                    ("same", "better"),
                    ("better", "better"),
                ],
                start=2,
            ):
                WeeklyCheckin.objects.create(user=user, week=week, movement=movement, sleep=sleep)
        self.stdout.write(self.style.SUCCESS(f"Demo account created with {days} days of sessions."))
        self._print_login()

    def _print_login(self):
        self.stdout.write(
            f"Demo login: username '{DEMO_USERNAME}', password '{DEMO_PASSWORD}' "
            "(log in at /accounts/login/)"
        )
