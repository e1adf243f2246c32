"""Django's ``get_token``, with the mask drawn from one read of the OS's randomness.

Every page with a form, and every cached page as it is served (``lib.page_cache``), needs a
freshly masked CSRF token: the secret from the cookie plus a new random mask of 32
characters. Django draws that mask one character at a time through ``secrets.choice``, a
read of the OS's randomness and a dozen Python calls per character, about 0.1 ms a token
(a tenth of a signed-in request's whole budget). Here the same 32 characters come from one
``os.urandom`` call: each byte below 248 picks one of the 62 allowed characters (248 is
4 x 62, so every character is equally likely; a byte of 248 or more is skipped), which is
the same uniform draw from the same source. The token is Django's: its own middleware
unmasks and checks it (``tests/test_csrf_token.py`` posts with it).
"""

from __future__ import annotations

import os

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.middleware.csrf import get_token as django_get_token

_CHARS = CSRF_ALLOWED_CHARS
_COUNT = len(_CHARS)
# The largest multiple of the alphabet's size that a byte can hold: bytes below it map
# onto the characters evenly (byte % 62), bytes from it on are skipped.
_EVEN_BELOW = 256 - 256 % _COUNT
_INDEX = {char: i for i, char in enumerate(_CHARS)}


def random_indices(count: int, draw=os.urandom) -> list[int]:
    """``count`` indices into the allowed characters, each uniformly random (``draw``:
    where the random bytes come from, the OS's by default)."""
    picked: list[int] = []
    while len(picked) < count:
        # A few bytes spare: one in 32 is skipped, so one read nearly always suffices.
        picked.extend(byte % _COUNT for byte in draw(count + 8) if byte < _EVEN_BELOW)
    return picked[:count]


def mask_secret(secret: str, mask: list[int]) -> str:
    """Django's ``_mask_cipher_secret`` with the mask given as indices: the mask, then
    each secret character shifted by the mask's character at its place."""
    return "".join(_CHARS[m] for m in mask) + "".join(
        _CHARS[(_INDEX[char] + m) % _COUNT] for char, m in zip(secret, mask, strict=True)
    )


def get_token(request: HttpRequest) -> str:
    """What ``django.middleware.csrf.get_token`` returns, and with the same side effect
    (the cookie is sent with the response): a new mask over the request's secret."""
    secret = request.META.get("CSRF_COOKIE")
    if not (
        secret is not None
        and len(secret) == CSRF_SECRET_LENGTH
        and secret.isascii()
        and secret.isalnum()  # ASCII letters and digits: exactly the allowed characters
    ):
        # No secret yet (a first visit): Django makes one, and sets the cookie.
        return django_get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as Django: renew the cookie's expiry
    return mask_secret(secret, random_indices(CSRF_SECRET_LENGTH))
