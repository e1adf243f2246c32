from django.urls import path

from stretches import views

urlpatterns = [
    path("stretches/", views.stretch_list, name="stretch-list"),
    path("stretches/<slug:slug>/", views.stretch_detail, name="stretch-detail"),
    path("screening/", views.screening, name="screening"),
    path("screening/clearance/", views.clearance, name="screening-clearance"),
    path("screening/examined/", views.examination, name="screening-examined"),
]
