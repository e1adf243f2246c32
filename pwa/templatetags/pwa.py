from django import template

from lib.page_cache import per_serve_now
from lib.paths import path_of
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
    # The time of this response, also on a page served from the cache (lib.page_cache).
    return {
        "owner": offline_owner(user),
        "updated_day": per_serve_now("Y-m-d"),
        "updated_iso": per_serve_now("c"),
        "updated_other_day": per_serve_now("D j M, H:i"),
        "updated_time": per_serve_now("H:i"),
        "send_url": path_of("log-queued"),
        "logout_url": path_of("logout"),
        "today_url": path_of("today"),
        "worker_url": path_of("pwa-service-worker"),
    }
