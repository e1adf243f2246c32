"""``{% path "today" %}`` and ``{% asset "css/easeback.css" %}``: the ``{% url %}`` and
``{% static %}`` of a name with no arguments, looked up once per process.

Every page draws the same dozen links and files in its header, head and offline status,
and reversing a URL or asking the static manifest for a file's hashed name is most of what
that costs. Both answers only change with the deployed code and settings: the script
prefix and URLconf are part of the key, and a settings change (tests) forgets them all.
Loaded as the template library ``paths`` (config.settings, TEMPLATES).
"""

from __future__ import annotations

import functools

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@functools.cache
def _path(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


def path_of(name: str) -> str:
    """``reverse(name)`` for a URL name without arguments, remembered."""
    return _path(name, get_script_prefix(), get_urlconf())


@functools.cache
def asset_url(path: str) -> str:
    """``static(path)``, remembered."""
    return static(path)


@receiver(setting_changed, dispatch_uid="easeback-paths-forget")
def _forget(**kwargs) -> None:
    _path.cache_clear()
    asset_url.cache_clear()


@register.simple_tag
def path(name: str) -> str:
    return path_of(name)


@register.simple_tag
def asset(file: str) -> str:
    return asset_url(file)
