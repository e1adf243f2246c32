"""The project's URLs plus a test-only service worker at /sw.js that imports sw-push.js.

The real /sw.js (the installable app's worker) imports the same file; this one adds only
what a test needs: take control at once, and a way to dispatch notificationclick, which
headless Chromium cannot click.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

TEST_WORKER = """
importScripts('/static/js/sw-push.js');
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('message', (event) => {
  if (event.data !== 'click-the-reminder') return;
  event.waitUntil(self.registration.getNotifications().then((shown) => {
    // An untrusted event: the handler's own waitUntil refuses it, but what it started
    // (focusing or opening the page) runs all the same.
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification: shown[0] }));
  }));
});
"""


def test_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(TEST_WORKER, content_type="text/javascript")
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [path("sw.js", test_worker), path("", include("config.urls"))]
