from django.urls import path

from sharing import views

urlpatterns = [
    path("account/sharing/", views.sharing, name="sharing"),
    path("account/sharing/revoke/", views.revoke, name="sharing-revoke"),
    path("shared/<str:token>/", views.shared, name="shared"),
]
