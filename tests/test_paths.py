"""{% path %} and {% asset %} (lib.paths): remembered, yet always what {% url %} and
{% static %} would say, behind a script prefix or after a settings change."""

from django.template import engines
from django.templatetags.static import static
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from lib.paths import asset_url, path_of


def test_a_path_is_the_url_tag_answer_under_every_script_prefix():
    try:
        for prefix in ("/", "/easeback/", "/"):
            set_script_prefix(prefix)
            assert path_of("today") == reverse("today") == f"{prefix}today/"
    finally:
        set_script_prefix("/")


def test_an_asset_follows_a_change_of_static_url():
    assert asset_url("css/easeback.css") == static("css/easeback.css")
    with override_settings(STATIC_URL="/assets/"):
        assert asset_url("css/easeback.css") == static("css/easeback.css")
        assert asset_url("css/easeback.css").startswith("/assets/")
    assert asset_url("css/easeback.css") == static("css/easeback.css")


def test_the_tags_print_what_url_and_static_print():
    render = engines["django"].from_string
    ours = render("{% load paths %}{% path 'session-list' %} {% asset 'js/timer.js' %}")
    django = render("{% load static %}{% url 'session-list' %} {% static 'js/timer.js' %}")
    assert ours.render({}) == django.render({})
