"""A review's attacks on lib.csrf.get_token, kept: all held."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import Client, RequestFactory, override_settings

from lib.csrf import get_token, random_indices
from tests.factories import PASSWORD, make_user, session_post
from tracking.models import Session

TOKEN_IN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HX = {"HX-Request": "true"}


def token_of(response) -> str:
    return TOKEN_IN.search(response.content.decode())[1]


@pytest.mark.django_db
def test_tokens_from_the_fast_path_and_the_cached_page_are_taken(monkeypatch):
    """First visit (no cookie: Django's path), then pages served with the cookie (the fast
    path), the second from the page cache (lib.page_cache._fill): each token is new, each
    unmasks to the cookie's secret, and each is taken by CsrfViewMiddleware."""
    import lib.page_cache

    filled = []
    real_fill = lib.page_cache._fill
    monkeypatch.setattr(lib.page_cache, "_fill", lambda *a: filled.append(1) or real_fill(*a))
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    tokens = [token_of(client.get("/today/")) for _ in range(3)]
    assert filled, "no page served from the page cache"
    secret = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    assert len(set(tokens)) == 3
    assert {_unmask_cipher_token(t) for t in tokens} == {secret}
    client.post("/today/lasting-pain/", {"lasting": "no", "csrfmiddlewaretoken": tokens[0]})
    for n, token in enumerate(tokens, start=1):
        response = client.post("/today/log/", session_post(csrfmiddlewaretoken=token))
        assert response.status_code == 302, response.status_code
        assert Session.objects.filter(user=user).count() == n


@pytest.mark.django_db
def test_a_token_for_one_browser_is_refused_with_another_browsers_cookie():
    user = make_user()
    mine, theirs = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for client in (mine, theirs):
        client.force_login(user)
        client.get("/today/")
    stolen = token_of(mine.get("/today/"))
    assert theirs.post("/today/log/", session_post(csrfmiddlewaretoken=stolen)).status_code == 403
    assert not Session.objects.filter(user=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("where", [0, 31, 32, 63])
def test_any_single_character_altered_is_refused(where):
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/today/")
    token = token_of(client.get("/today/"))
    swap = CSRF_ALLOWED_CHARS[(CSRF_ALLOWED_CHARS.index(token[where]) + 1) % 62]
    altered = token[:where] + swap + token[where + 1 :]
    response = client.post("/today/log/", session_post(csrfmiddlewaretoken=altered))
    assert response.status_code == 403


@pytest.mark.django_db
@override_settings(CSRF_USE_SESSIONS=True)
def test_with_csrf_use_sessions_the_token_is_taken_and_a_forged_one_refused():
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/today/")
    token = token_of(client.get("/today/"))
    forged = token[:32] + token[:32]
    assert client.post("/today/log/", session_post(csrfmiddlewaretoken=forged)).status_code == 403
    client.post("/today/lasting-pain/", {"lasting": "no", "csrfmiddlewaretoken": token})
    assert client.post("/today/log/", session_post(csrfmiddlewaretoken=token)).status_code == 302


@pytest.mark.django_db
def test_the_first_visit_login_form_token_is_taken():
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = token_of(page)
    assert django_settings.CSRF_COOKIE_NAME in page.cookies
    again = token_of(client.get("/accounts/login/"))  # now the fast path, cookie held
    assert _unmask_cipher_token(again) == _unmask_cipher_token(token)
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": again},
    )
    assert response.status_code == 302


def test_every_mask_position_is_uniform():
    """Chi-square per position over 12,400 masks (200 per character expected; the 99.99th
    percentile for 61 degrees of freedom is about 118)."""
    masks = [random_indices(32) for _ in range(12_400)]
    for position in (0, 1, 15, 30, 31):
        counts = Counter(mask[position] for mask in masks)
        chi = sum((counts.get(i, 0) - 200) ** 2 / 200 for i in range(62))
        assert chi < 130, (position, chi)


def test_cookie_renewal_flag_is_set_on_the_fast_path():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = "a" * 32
    get_token(request)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
