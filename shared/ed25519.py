"""Ed25519 keys as text, and signatures over canonical JSON: what signed events (shared/signing.py) and signed
actors (shared/actor_assertion.py) both sign and verify with.

Keys travel as text (environment or config):
- a private key: ``<key id>:<base64 32-byte seed>``;
- public keys: ``<owner>:<key id>:<base64 32-byte public key>`` entries separated by spaces or commas (the owner is
  a service for events, an issuer for actors). During a rotation an owner has two entries; what is signed names
  the key id that signed it.

What is signed is a JSON object serialised canonically (sorted keys, no spaces, UTF-8), so a verifier re-serialises
what it parsed and checks it against the owner's public key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from shared.keytext import KeyConfigError, key_bytes, valid_key_id


class BadSignature(Exception):
    """A signature that does not verify: by an unknown key, or over other bytes (forged or altered)."""


class Unsigned(BadSignature):
    """No signature at all."""


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _key_bytes(text: str, what: str) -> bytes:
    return key_bytes(text, what, "an Ed25519 key")


@dataclass(frozen=True)
class PrivateKey:
    """One's own key, with the id that names it."""

    key_id: str
    key: SigningKey

    @classmethod
    def parse(cls, text: str | None, what: str, hint: str) -> PrivateKey:
        """``what`` names the setting in an error; ``hint`` says how to make one."""
        key_id, _, seed = (text or "").strip().partition(":")
        if not seed:
            raise KeyConfigError(f"{what} is not set: '<key id>:<base64 seed>' ({hint})")
        return cls(valid_key_id(key_id, what), SigningKey(_key_bytes(seed, what)))

    def sign(self, data: bytes) -> str:
        """The base64 signature of ``data``."""
        return base64.b64encode(self.key.sign(data).signature).decode("ascii")

    def public_entry(self, owner: str) -> str:
        """This key's public half as an ``<owner>:<key id>:<public key>`` entry."""
        public = base64.b64encode(bytes(self.key.verify_key)).decode("ascii")
        return f"{owner}:{self.key_id}:{public}"


def new_private_key(key_id: str) -> str:
    """A fresh private key as text."""
    return f"{valid_key_id(key_id, 'new key')}:{base64.b64encode(bytes(SigningKey.generate())).decode('ascii')}"


class PublicKeys:
    """The public keys one accepts, per owner and key id."""

    def __init__(self, keys: Mapping[str, Mapping[str, VerifyKey]]) -> None:
        self._keys = keys

    @classmethod
    def parse(cls, text: str | None, what: str, required: Iterable[str] = (), allowed: Iterable[str] | None = None,
              missing: str = "could not be verified") -> PublicKeys:
        """Every entry of ``text``; refused if an owner of ``required`` has none, or one is not ``allowed``."""
        keys: dict[str, dict[str, VerifyKey]] = {}
        for entry in re.split(r"[\s,]+", (text or "").strip()):
            if not entry:
                continue
            owner, key_id, public = (entry.split(":", 2) + ["", ""])[:3]
            where = f"{what}, entry for {owner!r}"
            if allowed is not None and owner not in allowed:
                raise KeyConfigError(f"{where}: not one of {', '.join(allowed)}")
            keys.setdefault(owner, {})[valid_key_id(key_id, where)] = VerifyKey(_key_bytes(public, where))
        absent = [owner for owner in required if owner not in keys]
        if absent:
            raise KeyConfigError(f"{what} has no key of {', '.join(absent)}: what it signs {missing}")
        return cls(keys)

    def verify(self, owner: str, key_id: str | None, data: bytes, signature: str | None) -> None:
        """Nothing if ``owner``'s key ``key_id`` signed ``data``; else BadSignature saying why."""
        if not key_id or not signature:
            raise Unsigned("unsigned")
        key = self._keys.get(owner, {}).get(key_id)
        if key is None:
            raise BadSignature(f"signed with unknown key {key_id!r}")
        try:
            key.verify(data, base64.b64decode(signature, validate=True))
        except (BadSignatureError, binascii.Error, ValueError):
            raise BadSignature("signature does not match (forged or altered)") from None
