"""Web Push with VAPID: the keys from settings, one message to one device."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

import requests
import requests.adapters
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher

# A reminder that waits longer than this at the push service (phone off) is no use.
PUSH_TTL_SECONDS = 3600
PUSH_TIMEOUT_SECONDS = 10
# A VAPID token may live up to 24 hours; each push service's token is reused for this long.
VAPID_TOKEN_SECONDS = 12 * 3600
PUSH_CONCURRENCY = 8


class Outcome(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"  # 404/410: the device unsubscribed; delete the subscription
    FAILED = "failed"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_vapid_keys() -> tuple[str, str]:
    """A new P-256 key pair as (public, private): the uncompressed point and the raw scalar."""
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    return b64url(public), b64url(scalar)


def push_configured() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


@dataclass
class Pusher:
    """Sends payloads with one VAPID key and one HTTP connection pool."""

    vapid: Vapid
    subject: str
    http: requests.Session
    # One signed token per push service (audience), renewed well before it expires:
    # signing once per service instead of once per message.
    _tokens: dict[str, tuple[float, dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls) -> Pusher | None:
        if not push_configured():
            return None
        http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=PUSH_CONCURRENCY)
        http.mount("https://", adapter)
        http.mount("http://", adapter)
        return cls(
            vapid=Vapid.from_string(settings.VAPID_PRIVATE_KEY),
            subject=settings.VAPID_SUBJECT,
            http=http,
        )

    def vapid_headers(self, endpoint: str) -> dict:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is None or cached[0] - now < VAPID_TOKEN_SECONDS / 2:
                expires = int(now) + VAPID_TOKEN_SECONDS
                claims = {"sub": self.subject, "aud": audience, "exp": expires}
                cached = self._tokens[audience] = (expires, self.vapid.sign(claims))
        return dict(cached[1])

    def send_many(self, messages: list[tuple[dict, dict]]) -> list[Outcome]:
        """Send (subscription_info, payload) pairs in parallel; outcomes in the same order."""
        if len(messages) <= 1:
            return [self.send(info, payload) for info, payload in messages]
        with ThreadPoolExecutor(max_workers=PUSH_CONCURRENCY) as pool:
            return list(pool.map(lambda message: self.send(*message), messages))

    def send(self, subscription_info: dict, payload: dict) -> Outcome:
        try:
            response = WebPusher(subscription_info, requests_session=self.http).send(
                json.dumps(payload, separators=(",", ":")),
                self.vapid_headers(subscription_info["endpoint"]),
                ttl=PUSH_TTL_SECONDS,
                content_encoding="aes128gcm",
                timeout=PUSH_TIMEOUT_SECONDS,
            )
        except (requests.RequestException, ValueError):
            return Outcome.FAILED
        if response.status_code in (404, 410):
            return Outcome.GONE
        return Outcome.DELIVERED if response.status_code < 300 else Outcome.FAILED


def valid_subscription_keys(p256dh: str, auth: str) -> bool:
    """A browser's subscription keys: a P-256 point (65 bytes) and a 16-byte secret."""
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        return False
    return len(point) == 65 and len(secret) == 16


def vapid_key_problem(public: str, private: str) -> str:
    """What is wrong with a configured VAPID pair, in one line (empty when fine or unset)."""
    if not public and not private:
        return ""
    try:
        scalar = b64url_decode(private)
        if len(scalar) != 32:
            raise ValueError
        key = ec.derive_private_key(int.from_bytes(scalar), ec.SECP256R1())
    except (ValueError, TypeError):
        return "VAPID_PRIVATE_KEY is not a base64url P-256 private key (32 bytes)."
    expected = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if public != b64url(expected):
        return "VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY."
    return ""
