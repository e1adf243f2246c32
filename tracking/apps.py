from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Session tracking"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from tracking.views import forget_undo_copy

        user_logged_out.connect(
            lambda sender, request=None, **kwargs: forget_undo_copy(request),
            dispatch_uid="tracking-forget-undo-copy",
            weak=False,
        )
