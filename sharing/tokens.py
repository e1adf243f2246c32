"""Share-link tokens: 256 random bits in the URL, only their SHA-256 in the database."""

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """SHA-256 hex of whatever arrived in the URL (a plain hash is enough: the token is
    random with 256 bits, so there is nothing for a dictionary to guess)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
