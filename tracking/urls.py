from django.urls import path

from tracking import peg_views, today, views

urlpatterns = [
    path("today/", today.today, name="today"),
    path("today/log/", today.log, name="log-session"),
    path("today/lasting-pain/", today.lasting_pain, name="lasting-pain"),
    path("sessions/<int:pk>/sharp/", today.sharp_pain, name="session-sharp"),
    path("sessions/", views.session_list, name="session-list"),
    path("sessions/new/", views.session_new, name="session-new"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session-edit"),
    path("sessions/<int:pk>/delete/", views.session_delete, name="session-delete"),
    path("sessions/undo/", views.session_undo, name="session-undo"),
    path("checkin/", today.checkin, name="checkin"),
    path("peg/", peg_views.peg, name="peg"),
]
