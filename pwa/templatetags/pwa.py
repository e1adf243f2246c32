from django import template
from django.urls import reverse
from django.utils import timezone

from pwa.owner import offline_owner
from pwa.views import THEME_COLOUR

register = template.Library()


@register.inclusion_tag("pwa/_head.html")
def pwa_head() -> dict:
    return {"theme_colour": THEME_COLOUR}


@register.inclusion_tag("pwa/_offline_status.html", takes_context=True)
def offline_status(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    now = timezone.localtime()
    return {
        "owner": offline_owner(user),
        "rendered_at": now,
        "send_url": reverse("log-queued"),
        "logout_url": reverse("logout"),
        "today_url": reverse("today"),
        "worker_url": reverse("pwa-service-worker"),
    }
