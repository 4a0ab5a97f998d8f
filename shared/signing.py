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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts import Envelope, PoisonMessage
from shared.ed25519 import (
    BadSignature,
    KeyConfigError,
    PrivateKey,
    PublicKeys,
    Unsigned,
    canonical_json,
    new_private_key,
)

__all__ = ["KeyConfigError", "Signer", "Verifier", "key_environment", "new_key_environment", "new_signing_key",
           "signed_bytes", "signer_from_config", "verifier_from_config"]

SIGNATURE_FIELDS = frozenset({"keyid", "signature"})


def signed_bytes(envelope: Envelope) -> bytes:
    return canonical_json(envelope.model_dump(mode="json", exclude=SIGNATURE_FIELDS))


@dataclass(frozen=True)
class Signer:
    """A service's private key: signs the envelopes it emits."""

    key: PrivateKey

    @classmethod
    def parse(cls, text: str | None, service: str) -> Signer:
        return cls(PrivateKey.parse(text, f"EVENT_SIGNING_KEY of {service}", f"berdaya keys new {service}"))

    def sign(self, envelope: Envelope) -> Envelope:
        signature = self.key.sign(signed_bytes(envelope))
        return envelope.model_copy(update={"keyid": self.key.key_id, "signature": signature})

    def sign_all(self, envelopes: Iterable[Envelope]) -> list[Envelope]:
        return [self.sign(envelope) for envelope in envelopes]

    def public_entry(self, service: str) -> str:
        """This key's public half as an ``EVENT_PUBLIC_KEYS`` entry."""
        return self.key.public_entry(service)


def new_signing_key(key_id: str) -> str:
    """A fresh ``EVENT_SIGNING_KEY`` value."""
    return new_private_key(key_id)


class Verifier:
    """The public keys a consumer accepts, per source and key id."""

    def __init__(self, keys: PublicKeys) -> None:
        self._keys = keys

    @classmethod
    def parse(cls, text: str | None, sources: Iterable[str], consumer: str) -> Verifier:
        return cls(PublicKeys.parse(text, f"EVENT_PUBLIC_KEYS of {consumer}", required=sources,
                                    missing="could not be verified"))

    def verify(self, envelope: Envelope) -> Envelope:
        """The envelope, if signed by a key its source is known to hold; else PoisonMessage with the reason."""
        try:
            self._keys.verify(envelope.source, envelope.keyid, signed_bytes(envelope), envelope.signature)
        except BadSignature as bad:
            where = f"{envelope.source} event at position {envelope.position}"
            raise PoisonMessage(f"unsigned {where}" if isinstance(bad, Unsigned) else f"{where}: {bad}") from None
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
