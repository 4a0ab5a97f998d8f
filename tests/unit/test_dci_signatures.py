"""DCI message signatures (services/gateway/dci_signatures.py): what a client's signature must say to be accepted —
its own sender id and registered key, the standard's algorithm and headers, a validity around now — and that the
gateway's own signature verifies with the key it publishes. The signatures are made here as docs/dci.md tells a
client to, with PyNaCl."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from nacl.signing import SigningKey, VerifyKey

from services.gateway.dci_signatures import DciSigner, SignatureRefused, new_dci_key_environment, verify

NOW = 1_796_612_400
HEADER = {"version": "1.0.0", "message_id": "m-1", "action": "search", "sender_id": "bansos.lampung",
          "total_count": 1, "message_ts": "2026-12-07T03:00:00Z"}
MESSAGE = {"transaction_id": "t-1", "search_request": [{"reference_id": "r-1", "search_criteria": {
    "query_type": "idtype-value", "query": {"type": "NIK", "value": "1801064507850001"}}}]}
KEY = SigningKey(bytes(range(32)))
REGISTERED = f"k1:{base64.b64encode(bytes(KEY.verify_key)).decode()}"


def signing_string(created: int, expires: int, header: dict, message: dict) -> bytes:
    canonical = json.dumps({"header": header, "message": message}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()
    digest = base64.b64encode(hashlib.blake2b(canonical, digest_size=64).digest()).decode()
    return f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={digest}".encode()


def signature(created: int = NOW, expires: int = NOW + 300, key: SigningKey = KEY, key_id_name: str = "keyId",
              key_id: str = "bansos.lampung|k1|ed25519", algorithm: str = "ed25519") -> str:
    signed = base64.b64encode(key.sign(signing_string(created, expires, HEADER, MESSAGE)).signature).decode()
    return (f'Signature: namespace="spdci", {key_id_name}="{key_id}", algorithm="{algorithm}", created="{created}", '
            f'expires="{expires}", headers="(created) (expires) digest", signature="{signed}"')


def refusal(text: str | None, header: dict = HEADER) -> str | None:
    try:
        verify(text, header, MESSAGE, "bansos.lampung", REGISTERED, now=NOW + 10)
    except SignatureRefused as refused:
        return refused.code
    return None


def test_a_signature_made_as_documented_verifies_and_either_spelling_of_the_key_id_is_read():
    assert refusal(signature()) is None
    assert refusal(signature(key_id_name="kidId")) is None  # as the standard's MsgSignature example spells it


@pytest.mark.parametrize(("text", "code"), [
    (None, "err.signature.missing"),
    ("", "err.signature.missing"),
    ("not a signature", "err.signature.invalid"),
    (signature(key=SigningKey(bytes(range(1, 33)))), "err.signature.invalid"),  # another key
    (signature(key_id="bansos.lain|k1|ed25519"), "err.signature.invalid"),  # another sender's key id
    (signature(key_id="bansos.lampung|k2|ed25519"), "err.signature.invalid"),  # a key it has not registered
    (signature(algorithm="rsa-sha256"), "err.signature.invalid"),
    (signature(created=NOW - 400, expires=NOW), "err.signature.invalid"),  # expired
    (signature(created=NOW + 60, expires=NOW + 360), "err.signature.invalid"),  # made in the future
    (signature(created=NOW, expires=NOW + 7200), "err.signature.invalid"),  # valid longer than an hour
])
def test_a_signature_that_does_not_prove_this_client_sent_this_message_now_is_refused(text, code):
    assert refusal(text) == code


def test_a_header_changed_after_signing_is_refused():
    assert refusal(signature(), header={**HEADER, "total_count": 2}) == "err.signature.invalid"


def test_the_gateways_signature_verifies_with_the_key_it_publishes():
    signer = DciSigner.parse(new_dci_key_environment("dci-1")["DCI_SIGNING_KEY"], "berdaya")
    text = signer.sign(HEADER, MESSAGE, now=NOW)
    (published,) = signer.jwks()["keys"]
    parameters = dict(part.split("=", 1) for part in text.replace('"', "").split(",", 6))
    assert parameters["keyId"] == f"berdaya|{published['kid']}|ed25519" and published["kid"] == "dci-1"
    public = VerifyKey(base64.urlsafe_b64decode(published["x"] + "=" * (-len(published["x"]) % 4)))
    public.verify(signing_string(NOW, NOW + 300, HEADER, MESSAGE), base64.b64decode(parameters["signature"]))
