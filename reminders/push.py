"""Web Push with VAPID: the keys from settings, one message to one device."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from enum import StrEnum

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

# A reminder that waits longer than this at the push service (phone off) is no use.
PUSH_TTL_SECONDS = 3600
PUSH_TIMEOUT_SECONDS = 10


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

    @classmethod
    def from_settings(cls) -> Pusher | None:
        if not push_configured():
            return None
        return cls(
            vapid=Vapid.from_string(settings.VAPID_PRIVATE_KEY),
            subject=settings.VAPID_SUBJECT,
            http=requests.Session(),
        )

    def send(self, subscription_info: dict, payload: dict) -> Outcome:
        try:
            webpush(
                subscription_info,
                data=json.dumps(payload, separators=(",", ":")),
                vapid_private_key=self.vapid,
                # A fresh dict each time: webpush fills in the audience of this endpoint.
                vapid_claims={"sub": self.subject},
                ttl=PUSH_TTL_SECONDS,
                timeout=PUSH_TIMEOUT_SECONDS,
                requests_session=self.http,
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            return Outcome.GONE if status in (404, 410) else Outcome.FAILED
        except requests.RequestException:
            return Outcome.FAILED
        return Outcome.DELIVERED


def valid_subscription_keys(p256dh: str, auth: str) -> bool:
    """A browser's subscription keys: a P-256 point (65 bytes) and a 16-byte secret."""
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        return False
    return len(point) == 65 and len(secret) == 16
