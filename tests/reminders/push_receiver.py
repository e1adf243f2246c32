"""A push service on 127.0.0.1 for tests: checks VAPID and decrypts like a real one would.

It plays both ends a real push message crosses: the push service (RFC 8292: the
``Authorization: vapid t=<JWT>, k=<key>`` header, an ES256 signature over the JWT by the
application server's key, the audience and expiry claims) and the browser (RFC 8291: the
aes128gcm payload decrypted with the subscription's own P-256 key and auth secret).
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VAPID_HEADER = re.compile(r"^vapid t=(?P<t>[\w.-]+),\s*k=(?P<k>[\w-]+)$")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """A browser's side of a subscription: its own key pair and auth secret."""

    def __init__(self, receiver: PushReceiver, name: str):
        self.name = name
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        self.endpoint = f"{receiver.origin}/push/{name}"

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


class PushReceiver:
    def __init__(self, *, vapid_public_key: str, subject: str):
        self.vapid_public_key = vapid_public_key
        self.subject = subject
        self.devices: dict[str, Device] = {}
        self.received: dict[str, list[dict]] = defaultdict(list)
        self.rejected: list[str] = []
        self.gone: set[str] = set()
        # Tokens whose signature was checked (a sender reuses one token per push service);
        # their claims are still checked on every message.
        self.verified_tokens: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        # shutdown() waits for the loop's next look at its flag: every 0.05 s, not the
        # default 0.5 s, which every test with a push service spent on its way out.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> PushReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def device(self, name: str) -> Device:
        device = Device(self, name)
        self.devices[name] = device
        return device

    def total_received(self) -> int:
        return sum(len(v) for v in self.received.values())

    # --- what the push service checks ---------------------------------------------

    def check_vapid(self, authorization: str) -> str | None:
        """None when the header is a valid VAPID token for us, else the reason."""
        match = VAPID_HEADER.match(authorization or "")
        if not match:
            return f"no vapid header: {authorization!r}"
        if match["k"] != self.vapid_public_key:
            return "k is not the application server's key"
        token = match["t"]
        signing_input, _, signature = token.rpartition(".")
        header_part, _, claims_part = signing_input.partition(".")
        header = json.loads(unb64url(header_part))
        if header.get("alg") != "ES256":
            return f"alg {header.get('alg')!r}"
        if token not in self.verified_tokens:
            raw = unb64url(signature)
            if len(raw) != 64:
                return "signature is not 64 bytes"
            der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(match["k"]))
            try:
                key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                return "bad signature"
            self.verified_tokens.add(token)
        claims = json.loads(unb64url(claims_part))
        if claims.get("aud") != self.origin:
            return f"aud {claims.get('aud')!r}"
        if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
            return "exp out of range"
        if claims.get("sub") != self.subject:
            return f"sub {claims.get('sub')!r}"
        return None

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real push service offers

            def log_message(self, *args):
                pass

            def do_POST(self):
                name = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                device = receiver.devices.get(name)
                problem = receiver.check_vapid(self.headers.get("Authorization", ""))
                if device is None or name in receiver.gone:
                    return self._answer(410)
                if problem is None and self.headers.get("Content-Encoding") != "aes128gcm":
                    problem = "not aes128gcm"
                if problem is None and not self.headers.get("TTL"):
                    problem = "no TTL"
                if problem is None:
                    try:
                        plain = http_ece.decrypt(
                            body,
                            private_key=device.private_key,
                            auth_secret=device.auth_secret,
                            version="aes128gcm",
                        )
                        payload = json.loads(plain)
                    except Exception as error:  # noqa: BLE001 - any failure is a rejection
                        problem = f"decrypt: {error!r}"
                with receiver.lock:
                    if problem is not None:
                        receiver.rejected.append(problem)
                    else:
                        receiver.received[name].append(payload)
                self._answer(401 if problem else 201)

            def _answer(self, status: int):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
