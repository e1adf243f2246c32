"""Which signed-in person a page, a cached copy or a queued session belongs to.

The browser keeps today's page and sessions logged offline on the device. Each carries
this marker so that, on a shared phone, nothing of one person is shown to or sent for
the next: a keyed hash of the user id, meaningless outside this server.
"""

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "easeback.pwa.offline-owner"


def offline_owner(user) -> str:
    if user is None or not user.is_authenticated:
        return ""
    return salted_hmac(SALT, str(user.pk), algorithm="sha256").hexdigest()[:32]


def is_offline_owner(user, marker: str) -> bool:
    expected = offline_owner(user)
    return bool(expected) and constant_time_compare(expected, marker or "")
