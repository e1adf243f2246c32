"""Every URL pattern of the project, with its parameters filled from real rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

ROUTE_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    template: str  # "sessions/<int:pk>/edit/"
    name: str  # "session-edit", "admin:auth_user_change", "admin:<unnamed>"
    params: dict[str, str]  # parameter name -> converter ("int", "slug", "path", "regex")

    @property
    def takes_id(self) -> bool:
        return any(conv == "int" or name == "pk" for name, conv in self.params.items())

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespaces: list[str]) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                names = namespaces + ([entry.namespace] if entry.namespace else [])
                walk(entry, prefix + _route_text(entry.pattern), names)
                continue
            assert isinstance(entry, URLPattern)
            text = prefix + _route_text(entry.pattern)
            params = {m["name"]: m["converter"] or "str" for m in ROUTE_PARAM.finditer(text)}
            params |= {m["name"]: "regex" for m in REGEX_GROUP.finditer(text)}
            routes.append(Route(text, ":".join([*namespaces, entry.name or "<unnamed>"]), params))

    walk(get_resolver(), "/", [])
    return routes


def _route_text(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    return str(pattern).removeprefix("^").removesuffix("$")


def fill(route: Route, values: dict[str, str]) -> str:
    """The route's URL with each parameter replaced by values[name] (admin ids looked up)."""
    url = route.template
    model = _admin_model(route)
    for name in route.params:
        value = values.get(name)
        if model is not None and name in ("object_id", "id"):
            value = str(model.objects.order_by("pk").values_list("pk", flat=True).first() or 1)
        if value is None:
            raise KeyError(f"no value for {name} in {route.template}")
        url = ROUTE_PARAM.sub(lambda m, n=name, v=value: v if m["name"] == n else m[0], url)
        url = REGEX_GROUP.sub(lambda m, n=name, v=value: v if m["name"] == n else m[0], url)
    return url


def _admin_model(route: Route):
    match = re.match(r"/admin/(\w+)/(\w+)/", route.template)
    if not match:
        return None
    try:
        return apps.get_model(match[1], match[2])
    except LookupError:
        return None


def param_values(*, session_pk: int, user_pk: int, slug: str) -> dict[str, str]:
    from tracking.models import Session

    return {
        "pk": str(session_pk),
        "slug": slug,
        "app_label": "tracking",
        "url": "no-such-admin-page/",
        "content_type_id": str(ContentType.objects.get_for_model(Session).pk),
        # Admin change pages use the first row of their own model, see fill().
        "object_id": str(session_pk),
        "id": str(user_pk),
        # Links from mails: a wrong token gets the "link no longer works" page.
        "uidb64": "MQ",
        "token": "no-such-token",
    }
