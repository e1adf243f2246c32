import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lib.cache import user_changed


@receiver(user_logged_in, dispatch_uid="easeback-session-seen-at-login")
def _seen_at_login(sender, request, user, **kwargs) -> None:
    # login() saves the session anyway; stamping it there spares the first page a write.
    if request is not None and hasattr(request, "session"):
        request.session["_seen"] = int(time.time())


# Every save or delete of a user or a profile retires the shared cache's copy, whoever
# makes it (a form, the admin, a management command, Django's own password views). This
# is cache upkeep, not a domain write: the writes themselves stay in accounts.services.
# Queryset updates send no signal; the one on profiles (lib.cache.data_changed) retires
# the copy itself.
@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="easeback-user-saved")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="easeback-user-deleted")
def _user_written(sender, instance, **kwargs) -> None:
    user_changed(instance.pk)


@receiver(post_save, sender="accounts.Profile", dispatch_uid="easeback-profile-saved")
@receiver(post_delete, sender="accounts.Profile", dispatch_uid="easeback-profile-deleted")
def _profile_written(sender, instance, **kwargs) -> None:
    user_changed(instance.user_id)
