import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="easeback-session-seen-at-login")
def _seen_at_login(sender, request, user, **kwargs) -> None:
    # login() saves the session anyway; stamping it there spares the first page a write.
    if request is not None and hasattr(request, "session"):
        request.session["_seen"] = int(time.time())
