from django.apps import AppConfig


class StretchesConfig(AppConfig):
    name = "stretches"
    verbose_name = "Programme and screening"

    def ready(self) -> None:
        from stretches import signals  # noqa: F401  (connects the receivers)
