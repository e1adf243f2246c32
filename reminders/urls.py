from django.urls import path

from reminders import views

urlpatterns = [
    path("account/reminders/", views.reminders, name="reminders"),
    path("account/reminders/calendar/", views.feed_new, name="reminders-feed-new"),
    path("account/reminders/calendar/off/", views.feed_delete, name="reminders-feed-delete"),
    path("account/reminders/devices/", views.push_subscribe, name="reminders-push-subscribe"),
    path("account/reminders/devices/remove/", views.push_remove, name="reminders-push-remove"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
