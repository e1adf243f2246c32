"""lib.csrf: the CSRF token every form and cached page carries, masked with one read of the
OS's randomness. Django's own middleware must take it, and the mask must be as random
as Django's (every character equally likely, a new one per token)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _mask_cipher_secret,
    _unmask_cipher_token,
)
from django.test import Client, RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.csrf import get_token, mask_secret, random_indices
from tests.factories import make_user, session_post
from tests.properties import examples

SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"
TOKEN_IN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def request_with(secret: str | None):
    request = RequestFactory().get("/")
    if secret is not None:
        request.META["CSRF_COOKIE"] = secret
    return request


@settings(max_examples=examples(200), deadline=None)
@given(secret=st.text(alphabet=CSRF_ALLOWED_CHARS, min_size=32, max_size=32))
def test_the_token_unmasks_to_the_secret_as_django_reads_it(secret):
    request = request_with(secret)
    token = get_token(request)
    assert len(token) == 2 * CSRF_SECRET_LENGTH and set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    # The cookie is sent again (its expiry renewed), as Django's get_token asks.
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


@settings(max_examples=examples(200), deadline=None)
@given(
    secret=st.text(alphabet=CSRF_ALLOWED_CHARS, min_size=32, max_size=32),
    mask=st.lists(st.integers(0, len(CSRF_ALLOWED_CHARS) - 1), min_size=32, max_size=32),
)
def test_the_cipher_is_djangos_for_the_same_mask(secret, mask):
    """Django's _mask_cipher_secret with its mask fixed to the same characters gives the
    same token."""
    import django.middleware.csrf as csrf

    chosen = "".join(CSRF_ALLOWED_CHARS[i] for i in mask)
    original = csrf._get_new_csrf_string
    csrf._get_new_csrf_string = lambda: chosen
    try:
        assert mask_secret(secret, mask) == _mask_cipher_secret(secret)
    finally:
        csrf._get_new_csrf_string = original


def test_every_token_has_a_new_mask():
    request = request_with(SECRET)
    tokens = {get_token(request) for _ in range(200)}
    assert len(tokens) == 200
    assert {_unmask_cipher_token(token) for token in tokens} == {SECRET}


def test_bytes_map_evenly_onto_the_characters_and_the_top_ones_are_skipped():
    """Every byte value below 248 (4 x 62) picks character byte % 62, so each of the 62
    is picked by exactly 4 of them; bytes 248-255 pick nothing (they would favour the
    first 8 characters)."""
    every_byte = bytes(range(256))
    draws = iter([every_byte[: 32 + 8], every_byte[40:], every_byte])
    picked = random_indices(248, draw=lambda n: next(draws))
    assert picked == [byte % 62 for byte in range(248)]
    assert Counter(picked) == {index: 4 for index in range(62)}


def test_skipped_bytes_are_drawn_again():
    # Only bytes of 248 and over at first: nothing picked until the next read.
    draws = iter([bytes([255] * 40), bytes([61, 248, 0] + [1] * 37)])
    assert random_indices(3, draw=lambda n: next(draws)) == [61, 0, 1]


def test_the_characters_come_out_uniform_from_the_os():
    """A coarse check on real randomness: 62,000 draws, each character near 1,000 (a
    chi-square far beyond 150 would mean a skewed mapping; its 99.99th percentile for
    61 degrees of freedom is about 118)."""
    counts = Counter(random_indices(62_000))
    assert set(counts) == set(range(62))
    chi_square = sum((n - 1000) ** 2 / 1000 for n in counts.values())
    assert chi_square < 150, chi_square


def test_without_a_secret_django_makes_one_and_sets_the_cookie():
    request = request_with(None)
    token = get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == CSRF_SECRET_LENGTH and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


@pytest.mark.parametrize("cookie", ["", "short", "x" * 31 + "!", "é" * 32])
def test_a_malformed_secret_goes_to_django_as_it_is(cookie):
    """CsrfViewMiddleware replaces a malformed cookie before a view runs, so this never
    happens in a request; if it did, the token is Django's answer, not a guess."""
    from django.middleware.csrf import get_token as django_get_token

    try:
        expected = type(None), django_get_token(request_with(cookie))
    except ValueError as error:
        expected = type(error), None
    try:
        got = type(None), get_token(request_with(cookie))
    except ValueError as error:
        got = type(error), None
    assert got[0] is expected[0]
    if got[1] is not None:
        assert _unmask_cipher_token(got[1]) == _unmask_cipher_token(expected[1])


@pytest.mark.django_db
def test_djangos_middleware_takes_the_token_and_refuses_it_altered():
    """The signed-in user's form token is taken by CsrfViewMiddleware; the same token with
    one character changed is refused (403) and saves nothing."""
    from tracking.models import Session

    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = TOKEN_IN.search(client.get("/today/").content.decode())[1]
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")
    refused = client.post("/today/log/", session_post(csrfmiddlewaretoken=altered))
    assert refused.status_code == 403
    assert not Session.objects.filter(user=user).exists()
    taken = client.post("/today/log/", session_post(csrfmiddlewaretoken=token))
    assert taken.status_code == 302
    assert Session.objects.filter(user=user).count() == 1
