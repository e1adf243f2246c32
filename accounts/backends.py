from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ProfileModelBackend(ModelBackend):
    """Django's model backend, loading the profile with the user.

    Every signed-in request needs both (the profile holds the time zone), so one query
    instead of two on every page.
    """

    def get_user(self, user_id):
        try:
            user = get_user_model()._default_manager.select_related("profile").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        if not hasattr(user, "profile"):
            # Staff made with createsuperuser have none yet; every signed-in page needs one.
            from accounts.services import profile_for

            profile_for(user)
        return user
