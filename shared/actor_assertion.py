"""Signed actors: who acts in a command, asserted by whoever authenticated them, for one call and a short while.

A command's actor (user, role, region) used to travel as plain data: anyone who could make an RPC could claim any
role and region. Now the one who authenticated the user signs it with its Ed25519 key (shared/ed25519.py) — the
gateway for its signed-in user, the operators' CLI for an operator identity of its own — valid ``ACTOR_TTL_S``;
each service's edge verifies it (``SignedActor``, the ``actor`` field of every command) before the command is
parsed, and the service's domain then checks the role and the region.

On the wire: ``{user, role, region, issuer, key_id, issued_at, expires_at, request_id, signature}`` (times in epoch
seconds); the signature covers every other field, serialised canonically.

Keys: the issuer's own ``ACTOR_SIGNING_KEY`` (``<key id>:<base64 seed>``), and every service's
``ACTOR_PUBLIC_KEYS`` (``gateway:<key id>:<public>,operator:<key id>:<public>``, two entries of an issuer during a
rotation). What it does not do: bind the assertion to one command — while it is valid, whoever reads it off the
broker could attach it to another command (only the principals' broker users read the RPC queues).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError, ValidationInfo
from pydantic.functional_validators import BeforeValidator

from shared.actor import Actor
from shared.ed25519 import BadSignature, PrivateKey, PublicKeys, canonical_json, new_private_key
from shared.edge import ACTOR_VERIFIER
from shared.errors import NotYours

ISSUERS = ("gateway", "operator")  # the HTTP API and console; the operators' CLI
ACTOR_TTL_S = 120
MAX_LIFETIME_S = 600  # an assertion valid longer than this is refused, whoever signed it
CLOCK_SKEW_S = 30  # a signer's clock a little ahead of the service's does not refuse a fresh assertion


class _Assertion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: StrictStr
    role: StrictStr
    region: StrictStr
    issuer: StrictStr
    key_id: StrictStr
    issued_at: StrictInt
    expires_at: StrictInt
    request_id: StrictStr
    signature: StrictStr


@dataclass(frozen=True)
class ActorSigner:
    """An issuer's key: signs the actor of each command it sends."""

    issuer: str
    key: PrivateKey
    ttl_s: int = ACTOR_TTL_S

    @classmethod
    def parse(cls, text: str | None, issuer: str) -> ActorSigner:
        if issuer not in ISSUERS:
            raise ValueError(f"an actor's issuer is one of {', '.join(ISSUERS)}, not {issuer!r}")
        return cls(issuer, PrivateKey.parse(text, f"ACTOR_SIGNING_KEY of the {issuer}",
                                            f"berdaya keys new-actor {issuer}"))

    def sign(self, actor: Actor, request_id: str | None = None, now: float | None = None) -> dict[str, Any]:
        """``actor`` as it travels in a command: signed, valid from now for ``ttl_s``."""
        issued = int(time.time() if now is None else now)
        fields = {**actor.on_the_wire(), "issuer": self.issuer, "key_id": self.key.key_id, "issued_at": issued,
                  "expires_at": issued + self.ttl_s, "request_id": request_id or str(uuid.uuid4())}
        return {**fields, "signature": self.key.sign(canonical_json(fields))}

    def public_entry(self) -> str:
        """This key's public half as an ``ACTOR_PUBLIC_KEYS`` entry."""
        return self.key.public_entry(self.issuer)


class ActorVerifier:
    """The issuers' public keys a service accepts."""

    def __init__(self, keys: PublicKeys) -> None:
        self._keys = keys

    @classmethod
    def parse(cls, text: str | None, service: str) -> ActorVerifier:
        return cls(PublicKeys.parse(text, f"ACTOR_PUBLIC_KEYS of {service}", required=ISSUERS, allowed=ISSUERS,
                                    missing="(the actors of its commands) could not be verified"))

    def verify(self, value: Any, now: float | None = None) -> Actor:
        """The actor ``value`` asserts, if a known issuer signed it and it is valid now; else NotYours
        ``actor.unverified`` saying why (a made-up, altered, expired or foreign actor acts for nobody)."""
        if not isinstance(value, Mapping) or "signature" not in value:
            raise _unverified("the actor is not signed")
        try:
            claim = _Assertion.model_validate(value)
        except ValidationError:
            raise _unverified("the actor's assertion is malformed") from None
        if claim.issuer not in ISSUERS:
            raise _unverified(f"unknown issuer {claim.issuer!r}")
        try:
            self._keys.verify(claim.issuer, claim.key_id, canonical_json(claim.model_dump(exclude={"signature"})),
                              claim.signature)
        except BadSignature as bad:
            raise _unverified(f"{claim.issuer}: {bad}") from None
        moment = time.time() if now is None else now
        if claim.expires_at - claim.issued_at > MAX_LIFETIME_S:
            raise _unverified(f"valid for {claim.expires_at - claim.issued_at} s, more than {MAX_LIFETIME_S}")
        if moment >= claim.expires_at or claim.issued_at > moment + CLOCK_SKEW_S:
            raise _unverified("expired, or issued later than now")
        try:
            return Actor(user=claim.user, role=claim.role, region=claim.region)
        except ValidationError:
            raise _unverified("the signed actor is not a valid actor") from None


def _unverified(reason: str) -> NotYours:
    return NotYours("actor.unverified", f"the actor of this command is not verified: {reason}", field="actor")


def _verified(value: Any, info: ValidationInfo) -> Any:
    """An Actor built in this process is one; anything that arrived is verified with the edge's keys (without
    them, refused: fail closed)."""
    if isinstance(value, Actor):
        return value
    verifier = (info.context or {}).get(ACTOR_VERIFIER)
    if verifier is None:
        raise _unverified("this edge has no keys to verify it with")
    return verifier.verify(value)


SignedActor = Annotated[Actor, BeforeValidator(_verified)]


def new_actor_key_environment(key_id: str) -> dict[str, str]:
    """A fresh key per issuer (``GATEWAY_ACTOR_SIGNING_KEY``, ``OPERATOR_ACTOR_SIGNING_KEY``) and the public entries
    every service accepts (``ACTOR_PUBLIC_KEYS``): tests, benchmarks, a development installation."""
    keys = {issuer: new_private_key(key_id) for issuer in ISSUERS}
    return {**{f"{issuer.upper()}_ACTOR_SIGNING_KEY": key for issuer, key in keys.items()},
            "ACTOR_PUBLIC_KEYS": ",".join(ActorSigner.parse(key, issuer).public_entry()
                                          for issuer, key in keys.items())}


def actor_process_environment(process: str, keys: Mapping[str, str]) -> dict[str, str]:
    """What ``process`` reads of :func:`new_actor_key_environment`'s keys: a service the public entries, the
    gateway its own signing key (``ACTOR_SIGNING_KEY``)."""
    if process == "gateway":
        return {"ACTOR_SIGNING_KEY": keys["GATEWAY_ACTOR_SIGNING_KEY"]}
    return {"ACTOR_PUBLIC_KEYS": keys["ACTOR_PUBLIC_KEYS"]}


def actor_signer_from_config(config: Mapping[str, Any], issuer: str) -> ActorSigner:
    return ActorSigner.parse(config.get("ACTOR_SIGNING_KEY"), issuer)


def actor_verifier_from_config(config: Mapping[str, Any], service: str) -> ActorVerifier:
    return ActorVerifier.parse(config.get("ACTOR_PUBLIC_KEYS"), service)
