from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("stretches.urls")),
    path("", include("tracking.urls")),
    path("", include("tracking.progress_urls")),
    path("", include("sharing.urls")),
    path("", include("reminders.urls")),
    path("", include("pwa.urls")),
]

handler500 = "config.views.server_error"
