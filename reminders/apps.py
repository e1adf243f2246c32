from django.apps import AppConfig
from django.core import checks


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"

    def ready(self) -> None:
        checks.register(check_vapid_keys)


def check_vapid_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A VAPID pair that cannot sign, or whose halves do not match, fails every start-up."""
    from django.conf import settings

    from reminders.push import vapid_key_problem

    problem = vapid_key_problem(settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY)
    if problem:
        return [
            checks.Error(problem, hint="python manage.py generate_vapid_keys", id="reminders.E001")
        ]
    return []
