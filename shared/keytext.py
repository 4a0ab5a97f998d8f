"""Keys as text, as they travel in the environment or a file: ``<key id>:<base64 of 32 bytes>``. Signing keys
(shared/ed25519.py) and the registry's key-encryption key (services/registry/vault.py) are both written so; and the keys
derived from one secret for several uses (the gateway's replay records, the access log's person hashes)."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
KEY_BYTES = 32


class KeyConfigError(ValueError):
    """Keys missing or malformed: the process must not start (fail closed)."""


def valid_key_id(text: str, what: str) -> str:
    if not KEY_ID_RE.match(text):
        raise KeyConfigError(f"{what}: key id {text!r} must be 1-64 of A-Z a-z 0-9 . _ -")
    return text


def key_bytes(text: str, what: str, kind: str) -> bytes:
    """The 32 bytes of a key in base64; ``kind`` names the key in the refusal (e.g. "an Ed25519 key")."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{what}: not base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(f"{what}: {len(raw)} bytes, {kind} has {KEY_BYTES}")
    return raw


def derived_key(secret: bytes, label: bytes) -> bytes:
    """A 32-byte key for one use (``label``) of a secret, so that one secret can key several things apart (HKDF)."""
    return HKDF(SHA256(), KEY_BYTES, salt=None, info=label).derive(secret)
