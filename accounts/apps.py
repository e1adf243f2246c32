from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and profiles"

    def ready(self) -> None:
        # The sliding-session stamp at log-in (see accounts.middleware).
        from accounts import signals  # noqa: F401
