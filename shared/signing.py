"""Signed public events: a service signs every envelope it emits (Ed25519), a consumer verifies before applying.

Anyone who can reach the broker could otherwise publish an event in a service's name (a forged
``training.gate.changed`` would open a group's tranche-2 gate in grants). The signature covers the whole envelope
except the signature fields, serialised canonically (sorted keys, no spaces, UTF-8), so a consumer re-serialises
what it parsed and checks it against the publisher's public key.

Signatures are not stored: an envelope is signed when it is emitted (by the relay, and by ``events_after`` for a
consumer pulling a gap). Ed25519 signatures are deterministic, so a republished event carries the same signature,
and a rotated key re-signs the whole history from the moment it is in use.

Keys travel as text (environment or config):
- a service's own key, ``EVENT_SIGNING_KEY``: ``<key id>:<base64 32-byte seed>``;
- the keys it accepts, ``EVENT_PUBLIC_KEYS``: ``<source>:<key id>:<base64 32-byte public key>`` entries separated
  by spaces or commas. During a rotation a source has two entries (old and new key id); the envelope's ``keyid``
  says which one signed it.
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

from shared.contracts import Envelope, PoisonMessage

KEY_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SIGNATURE_FIELDS = frozenset({"keyid", "signature"})


class KeyConfigError(ValueError):
    """Signing or verification keys missing or malformed: the service must not start (no unsigned events)."""


def signed_bytes(envelope: Envelope) -> bytes:
    fields = envelope.model_dump(mode="json", exclude=SIGNATURE_FIELDS)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _key_bytes(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{what}: not base64") from None
    if len(raw) != 32:
        raise KeyConfigError(f"{what}: {len(raw)} bytes, an Ed25519 key has 32")
    return raw


def _key_id(text: str, what: str) -> str:
    if not KEY_ID_RE.match(text):
        raise KeyConfigError(f"{what}: key id {text!r} must be 1-64 of A-Z a-z 0-9 . _ -")
    return text


@dataclass(frozen=True)
class Signer:
    """A service's private key: signs the envelopes it emits."""

    key_id: str
    key: SigningKey

    @classmethod
    def parse(cls, text: str | None, service: str) -> Signer:
        what = f"EVENT_SIGNING_KEY of {service}"
        key_id, _, seed = (text or "").strip().partition(":")
        if not seed:
            raise KeyConfigError(f"{what} is not set: '<key id>:<base64 seed>' (berdaya keys new {service})")
        return cls(_key_id(key_id, what), SigningKey(_key_bytes(seed, what)))

    def sign(self, envelope: Envelope) -> Envelope:
        signature = self.key.sign(signed_bytes(envelope)).signature
        return envelope.model_copy(update={"keyid": self.key_id,
                                           "signature": base64.b64encode(signature).decode("ascii")})

    def sign_all(self, envelopes: Iterable[Envelope]) -> list[Envelope]:
        return [self.sign(envelope) for envelope in envelopes]

    def public_entry(self, service: str) -> str:
        """This key's public half as an ``EVENT_PUBLIC_KEYS`` entry."""
        public = base64.b64encode(bytes(self.key.verify_key)).decode("ascii")
        return f"{service}:{self.key_id}:{public}"


def new_signing_key(key_id: str) -> str:
    """A fresh ``EVENT_SIGNING_KEY`` value."""
    return f"{_key_id(key_id, 'new key')}:{base64.b64encode(bytes(SigningKey.generate())).decode('ascii')}"


class Verifier:
    """The public keys a consumer accepts, per source and key id."""

    def __init__(self, keys: Mapping[str, Mapping[str, VerifyKey]]) -> None:
        self._keys = keys

    @classmethod
    def parse(cls, text: str | None, sources: Iterable[str], consumer: str) -> Verifier:
        keys: dict[str, dict[str, VerifyKey]] = {}
        for entry in re.split(r"[\s,]+", (text or "").strip()):
            if not entry:
                continue
            source, key_id, public = (entry.split(":", 2) + ["", ""])[:3]
            what = f"EVENT_PUBLIC_KEYS of {consumer}, entry for {source!r}"
            keys.setdefault(source, {})[_key_id(key_id, what)] = VerifyKey(_key_bytes(public, what))
        missing = [source for source in sources if source not in keys]
        if missing:
            raise KeyConfigError(f"EVENT_PUBLIC_KEYS of {consumer} has no key of {', '.join(missing)}: "
                                 f"its events could not be verified")
        return cls(keys)

    def verify(self, envelope: Envelope) -> Envelope:
        """The envelope, if signed by a key its source is known to hold; else PoisonMessage with the reason."""
        if not envelope.keyid or not envelope.signature:
            raise PoisonMessage(f"unsigned {envelope.source} event at position {envelope.position}")
        key = self._keys.get(envelope.source, {}).get(envelope.keyid)
        if key is None:
            raise PoisonMessage(f"{envelope.source} event at position {envelope.position} signed with unknown key "
                                f"{envelope.keyid!r}")
        try:
            key.verify(signed_bytes(envelope), base64.b64decode(envelope.signature, validate=True))
        except (BadSignatureError, binascii.Error, ValueError):
            raise PoisonMessage(f"{envelope.source} event at position {envelope.position}: signature does not "
                                f"match (forged or altered)") from None
        return envelope


def key_environment(signing_keys: Mapping[str, str]) -> dict[str, str]:
    """The environment the services' config files read: each service's own key (``<SERVICE>_EVENT_SIGNING_KEY``)
    and every service's public key (``EVENT_PUBLIC_KEYS``), from ``{service: signing key}``."""
    signers = {service: Signer.parse(key, service) for service, key in signing_keys.items()}
    return {**{f"{service.upper()}_EVENT_SIGNING_KEY": key for service, key in signing_keys.items()},
            "EVENT_PUBLIC_KEYS": " ".join(signer.public_entry(service) for service, signer in signers.items())}


def new_key_environment(services: Iterable[str], key_id: str) -> dict[str, str]:
    """A fresh key per service, as :func:`key_environment` (tests, benchmarks, a development installation)."""
    return key_environment({service: new_signing_key(key_id) for service in services})


def signer_from_config(config: Mapping[str, Any], service: str) -> Signer:
    return Signer.parse(config.get("EVENT_SIGNING_KEY"), service)


def verifier_from_config(config: Mapping[str, Any], sources: Iterable[str], consumer: str) -> Verifier:
    return Verifier.parse(config.get("EVENT_PUBLIC_KEYS"), sources, consumer)
