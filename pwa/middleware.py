from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# "storage" also empties IndexedDB (the offline queue) and unregisters the service
# worker with its caches; "cache" drops anything the browser's HTTP cache still holds.
CLEAR_SITE_DATA = '"cache", "storage"'


class ClearSiteDataOnSignOut:
    """A response that ends a signed-in session tells the browser to forget the site's data.

    Logging out (and deleting the account) leaves nothing of this person on a shared
    phone: no copy of today's page, no session waiting to be sent. offline.js clears the
    same things itself before the log-out form is sent, for browsers without this header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        was_signed_in = user is not None and user.is_authenticated
        response = self.get_response(request)
        if was_signed_in and not request.user.is_authenticated:
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
