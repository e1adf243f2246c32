from django.urls import path

from pwa import queued, views

urlpatterns = [
    path("manifest.webmanifest", views.manifest, name="pwa-manifest"),
    path("sw.js", views.service_worker, name="pwa-service-worker"),
    path("offline/", views.offline, name="pwa-offline"),
    path("today/log/queued/", queued.log_queued, name="log-queued"),
]
