"""What the gateway keeps of a write sent with an Idempotency-Key, so that a retry gets the first answer: the answer
sealed (AES-256-GCM), and the request as a keyed hash (HMAC-SHA256) — so the table holds no NIK, KK or name in plain
(an answer to a household's registration holds all three), and a plain hash of a small body (a NIK to enrol) cannot
be reversed by trying every NIK.

Both keys are derived (HKDF-SHA256, one label each) from the gateway's JWT secret: the gateway does not start without
it, so there is no record it cannot seal, and no second secret to deploy. A sealed answer is bound to its user and
key (the associated data): copied to another row, it does not open. Changing the JWT secret changes both keys: a
request retried with a key used before the change no longer matches its hash and is refused as a reused key (409),
never run twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.keytext import derived_key

SEALED = "aesgcm1:"  # the stored answer's prefix: the scheme, so that another can follow
NONCE_BYTES = 12


class Replays:
    def __init__(self, secret: str) -> None:
        self._answers = AESGCM(derived_key(secret.encode(), b"berdaya gateway: idempotency answers"))
        self._requests = derived_key(secret.encode(), b"berdaya gateway: idempotency requests")

    def request_hash(self) -> hmac.HMAC:
        """A keyed hash to feed the request into."""
        return hmac.new(self._requests, digestmod=hashlib.sha256)

    def seal(self, username: str, key: str, answer: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._answers.encrypt(nonce, answer.encode(), _bound_to(username, key))
        return SEALED + base64.b64encode(nonce + sealed).decode()

    def open(self, username: str, key: str, stored: str) -> str:
        """The answer sealed for this user and key; raises ``cryptography.exceptions.InvalidTag`` if it was sealed
        for another row or with another secret."""
        raw = base64.b64decode(stored.removeprefix(SEALED))
        return self._answers.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound_to(username, key)).decode()


def _bound_to(username: str, key: str) -> bytes:
    return f"{username}\n{key}".encode()
