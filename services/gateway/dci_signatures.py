"""DCI message signatures (docs/dci.md), in the standard's shape (spdci ``MsgSignature``, after the Beckn
HTTP-signature it borrows): a message's ``signature`` field reads

    namespace="spdci",keyId="{sender_id}|{unique_key_id}|ed25519",algorithm="ed25519",created="1606970629",
    expires="1607030629",headers="(created) (expires) digest",signature="<base64 Ed25519 signature>"

and the Ed25519 signature is over the signing string

    (created): 1606970629
    (expires): 1607030629
    digest: BLAKE-512=<base64 BLAKE2b-512 of {"header": header, "message": message} as canonical JSON>

Canonical JSON is the house's (shared/ed25519.py): sorted keys, no spaces, UTF-8, non-ASCII as is — of the header
and message exactly as sent (the verifier parses the bytes it received, not its own reading of them).

A client with a public key registered (``berdaya users client-key``) must sign; the gateway signs every answer
with its own key (``DCI_SIGNING_KEY``, no default: it does not start without one), published at
``GET /api/v1/dci/.well-known/jwks.json``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

from shared.ed25519 import BadSignature, PrivateKey, PublicKeys, Unsigned, canonical_json, new_private_key

NAMESPACE = "spdci"
ALGORITHM = "ed25519"
SIGNED_HEADERS = "(created) (expires) digest"
ANSWER_TTL_S = 300  # how long an answer's signature says it is valid
MAX_LIFETIME_S = 3600  # a client's signature valid longer than this is refused: a captured message ages out
CLOCK_SKEW_S = 30  # a client's clock a little ahead of the gateway's does not refuse a fresh signature
PARAMETER = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')
MISSING, INVALID = "err.signature.missing", "err.signature.invalid"


class SignatureRefused(Exception):
    """A message that must be signed and is not, or whose signature does not verify: the standard's code why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def digest(header: Any, message: Any) -> str:
    signed = canonical_json({"header": header, "message": message})
    return "BLAKE-512=" + base64.b64encode(hashlib.blake2b(signed, digest_size=64).digest()).decode("ascii")


def signing_string(created: int, expires: int, header: Any, message: Any) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: {digest(header, message)}".encode()


def parameters(text: str) -> dict[str, str]:
    """The ``name="value"`` parameters of a signature (a leading ``Signature:`` is allowed, as in the standard's
    example); {} when it is not of that form."""
    body = re.sub(r"^\s*Signature\s*:?\s*", "", text)
    found: dict[str, str] = {}
    position = 0
    while position < len(body):
        match = PARAMETER.match(body, position)
        if match is None:
            return {}
        found[match.group(1)] = match.group(2)
        position = match.end()
    return found


@dataclass(frozen=True)
class DciSigner:
    """The gateway's own key: signs each DCI answer so that a client can check it came from this registry."""

    sender_id: str
    key: PrivateKey

    @classmethod
    def parse(cls, text: str | None, sender_id: str) -> DciSigner:
        return cls(sender_id, PrivateKey.parse(text, "DCI_SIGNING_KEY of the gateway", "berdaya keys new-dci"))

    def sign(self, header: dict, message: dict, now: float | None = None) -> str:
        created = int(time.time() if now is None else now)
        expires = created + ANSWER_TTL_S
        signature = self.key.sign(signing_string(created, expires, header, message))
        return (f'namespace="{NAMESPACE}",keyId="{self.sender_id}|{self.key.key_id}|{ALGORITHM}",'
                f'algorithm="{ALGORITHM}",created="{created}",expires="{expires}",headers="{SIGNED_HEADERS}",'
                f'signature="{signature}"')

    def jwks(self) -> dict:
        """The public key as a JSON Web Key Set (RFC 8037: an Ed25519 key is ``OKP``), as the standard's JWKS
        API publishes a sender's keys."""
        public = bytes(self.key.key.verify_key)
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": self.key.key_id,
                          "x": base64.urlsafe_b64encode(public).rstrip(b"=").decode("ascii")}]}


def new_dci_key_environment(key_id: str) -> dict[str, str]:
    """A fresh ``DCI_SIGNING_KEY`` for the gateway (tests, a development installation)."""
    return {"DCI_SIGNING_KEY": new_private_key(key_id)}


def client_keys(client_id: str, public_key: str) -> PublicKeys:
    """A client's registered key (``<key id>:<base64>``) as the keys its messages are checked with; raises
    KeyConfigError when it is not an Ed25519 public key."""
    return PublicKeys.parse(f"{client_id}:{public_key}", f"the public key of {client_id}", required=[client_id])


def verify(text: str | None, header: Any, message: Any, client_id: str, public_key: str,
           now: float | None = None) -> None:
    """Nothing if the client's registered key signed this header and message, now; else SignatureRefused."""
    if not (text or "").strip():
        raise SignatureRefused(MISSING, "this client signs its messages: the signature is missing")
    found = parameters(text or "")
    key_id = found.get("keyId") or found.get("kidId")  # the standard's example spells it both ways
    sender, _, rest = (key_id or "").partition("|")
    unique_key_id, _, algorithm = rest.partition("|")
    if not found.get("signature") or sender != client_id or algorithm != ALGORITHM \
            or found.get("algorithm") != ALGORITHM or found.get("headers") != SIGNED_HEADERS:
        raise SignatureRefused(INVALID, f'signature: keyId="{client_id}|<key id>|{ALGORITHM}", algorithm '
                                        f'"{ALGORITHM}", headers "{SIGNED_HEADERS}", created, expires, signature')
    try:
        created, expires = int(found["created"]), int(found["expires"])
    except (KeyError, ValueError):
        raise SignatureRefused(INVALID, "signature: created and expires are epoch seconds") from None
    moment = time.time() if now is None else now
    if not (created - CLOCK_SKEW_S <= moment < expires and expires - created <= MAX_LIFETIME_S):
        raise SignatureRefused(INVALID, f"the signature is not valid now (created…expires, at most "
                                        f"{MAX_LIFETIME_S} s apart)")
    try:
        client_keys(client_id, public_key).verify(client_id, unique_key_id, signing_string(
            created, expires, header, message), found["signature"])
    except Unsigned:
        raise SignatureRefused(INVALID, "signature: keyId names no key") from None
    except BadSignature as bad:
        raise SignatureRefused(INVALID, f"the signature does not verify: {bad}") from None
