"""Signed actors (shared/actor_assertion.py): what verifies, what is refused and why, and keys that rotate."""

from __future__ import annotations

import pytest

from berdaya.cli.remote import SigningRpc
from services.grants.commands import ProposalAction
from shared.actor import Actor
from shared.actor_assertion import (
    ACTOR_TTL_S,
    CLOCK_SKEW_S,
    ActorSigner,
    ActorVerifier,
    actor_process_environment,
    new_actor_key_environment,
)
from shared.ed25519 import KeyConfigError, PrivateKey, canonical_json, new_private_key
from shared.edge import parse_command
from shared.errors import NotYours

NOW = 1_796_600_000
OPERATOR = Actor(user="op.kalianda", role="operator", region="18.01")
PROPOSAL = "00000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return new_actor_key_environment("k1")


def signer(keys: dict[str, str], issuer: str = "gateway") -> ActorSigner:
    return ActorSigner.parse(keys[f"{issuer.upper()}_ACTOR_SIGNING_KEY"], issuer)


def verifier(keys: dict[str, str]) -> ActorVerifier:
    return ActorVerifier.parse(keys["ACTOR_PUBLIC_KEYS"], "grants")


def unverified(verify, reason: str) -> None:
    with pytest.raises(NotYours, match=reason) as refused:
        verify()
    assert (refused.value.rule, refused.value.details["field"]) == ("actor.unverified", "actor")


@pytest.mark.parametrize("issuer", ["gateway", "operator"])
def test_a_signed_actor_verifies_as_the_actor_it_names(keys, issuer):
    signed = signer(keys, issuer).sign(OPERATOR, "req-1", now=NOW)
    assert signed["expires_at"] - signed["issued_at"] == ACTOR_TTL_S
    assert (signed["issuer"], signed["key_id"], signed["request_id"]) == (issuer, "k1", "req-1")
    assert verifier(keys).verify(signed, now=NOW + ACTOR_TTL_S - 1) == OPERATOR


@pytest.mark.parametrize("change", [{"role": "ministry"}, {"region": ""}, {"user": "kemensos.pusat"},
                                    {"expires_at": NOW + 10_000}, {"issued_at": NOW + 1}, {"request_id": "other"},
                                    {"issuer": "operator"}])
def test_an_altered_assertion_is_refused(keys, change):
    altered = {**signer(keys).sign(OPERATOR, now=NOW), **change}
    unverified(lambda: verifier(keys).verify(altered, now=NOW), "forged or altered|unknown key")


def test_a_plain_an_unknown_and_a_foreign_actor_are_refused_saying_why(keys):
    check = verifier(keys)
    unverified(lambda: check.verify(OPERATOR.on_the_wire(), now=NOW), "not signed")
    unverified(lambda: check.verify("op.kalianda", now=NOW), "not signed")
    unverified(lambda: check.verify({**signer(keys).sign(OPERATOR, now=NOW), "extra": 1}, now=NOW), "malformed")
    stranger = ActorSigner("gateway", PrivateKey.parse(new_private_key("k1"), "test", "")).sign(OPERATOR, now=NOW)
    unverified(lambda: check.verify(stranger, now=NOW), "forged or altered")
    other_id = ActorSigner("gateway", PrivateKey.parse(new_private_key("k2"), "test", "")).sign(OPERATOR, now=NOW)
    unverified(lambda: check.verify(other_id, now=NOW), "unknown key 'k2'")
    attacker = ActorSigner("attacker", PrivateKey.parse(new_private_key("k1"), "test", "")).sign(OPERATOR, now=NOW)
    unverified(lambda: check.verify(attacker, now=NOW), "unknown issuer 'attacker'")


def test_an_expired_a_future_or_a_long_lived_assertion_is_refused(keys):
    check, sign = verifier(keys), signer(keys)
    unverified(lambda: check.verify(sign.sign(OPERATOR, now=NOW), now=NOW + ACTOR_TTL_S), "expired")
    assert check.verify(sign.sign(OPERATOR, now=NOW + CLOCK_SKEW_S), now=NOW) == OPERATOR  # a clock a little ahead
    unverified(lambda: check.verify(sign.sign(OPERATOR, now=NOW + CLOCK_SKEW_S + 1), now=NOW), "issued later")
    long_lived = ActorSigner("gateway", sign.key, ttl_s=3600).sign(OPERATOR, now=NOW)
    unverified(lambda: check.verify(long_lived, now=NOW), "valid for 3600 s")


def test_a_signed_invalid_actor_is_still_refused(keys):
    key = PrivateKey.parse(keys["GATEWAY_ACTOR_SIGNING_KEY"], "test", "")
    fields = {"user": "x", "role": "king", "region": "", "issuer": "gateway", "key_id": "k1", "issued_at": int(NOW),
              "expires_at": int(NOW) + 60, "request_id": "r"}
    unverified(lambda: verifier(keys).verify({**fields, "signature": key.sign(canonical_json(fields))}, now=NOW),
               "not a valid actor")


def test_during_a_rotation_both_keys_of_an_issuer_verify(keys):
    new = ActorSigner.parse(new_private_key("k2"), "gateway")
    rotating = ActorVerifier.parse(f"{keys['ACTOR_PUBLIC_KEYS']},{new.public_entry()}", "grants")
    assert rotating.verify(signer(keys).sign(OPERATOR)) == rotating.verify(new.sign(OPERATOR)) == OPERATOR


@pytest.mark.parametrize(("text", "message"), [
    ("", "has no key of gateway, operator"),
    (None, "has no key of gateway, operator"),
    ("gateway:k1:AAAA", "not base64|bytes"),
    ("attacker:k1:" + "A" * 43 + "=", "not one of gateway, operator"),
])
def test_a_service_without_good_actor_keys_does_not_start(keys, text, message):
    with pytest.raises(KeyConfigError, match=message):
        ActorVerifier.parse(text, "registry")
    operator_only = ",".join(e for e in keys["ACTOR_PUBLIC_KEYS"].split(",") if e.startswith("operator:"))
    with pytest.raises(KeyConfigError, match="has no key of gateway"):
        ActorVerifier.parse(operator_only, "registry")


def test_a_signer_needs_a_key_and_a_known_issuer(keys):
    with pytest.raises(KeyConfigError, match="ACTOR_SIGNING_KEY of the gateway is not set"):
        ActorSigner.parse("", "gateway")
    with pytest.raises(ValueError, match="one of gateway, operator"):
        ActorSigner.parse(keys["GATEWAY_ACTOR_SIGNING_KEY"], "attacker")


def test_the_edge_verifies_the_actor_of_a_command_and_without_keys_refuses_it(keys):
    payload = {"proposal_id": PROPOSAL, "actor": signer(keys).sign(OPERATOR)}
    assert parse_command(ProposalAction, payload, verifier(keys)).actor == OPERATOR
    unverified(lambda: parse_command(ProposalAction, payload), "no keys")
    unverified(lambda: parse_command(ProposalAction, {**payload, "actor": OPERATOR.on_the_wire()}, verifier(keys)),
               "not signed")
    assert ProposalAction(proposal_id=PROPOSAL, actor=OPERATOR).actor == OPERATOR  # built in-process: trusted


def test_each_process_reads_its_own_actor_keys(keys):
    assert actor_process_environment("gateway", keys) == {"ACTOR_SIGNING_KEY": keys["GATEWAY_ACTOR_SIGNING_KEY"]}
    assert actor_process_environment("registry", keys) == {"ACTOR_PUBLIC_KEYS": keys["ACTOR_PUBLIC_KEYS"]}


def test_the_signing_proxy_signs_plain_actors_wherever_a_command_carries_one(keys):
    rpc = SigningRpc(None, signer(keys, "operator"))
    already = signer(keys).sign(OPERATOR)
    sent = rpc.signed(([{"kk": "1", "actor": OPERATOR.on_the_wire()}, {"actor": already},
                        {"actor": {"user": "x", "role": "king", "region": ""}}], {"actor": "op"}))
    check = verifier(keys)
    assert check.verify(sent[0][0]["actor"]) == OPERATOR and sent[0][0]["actor"]["issuer"] == "operator"
    assert sent[0][1]["actor"] == already  # signed already: as it is
    assert sent[0][2]["actor"] == {"user": "x", "role": "king", "region": ""}  # not an actor: sent, and refused there
    assert sent[1] == {"actor": "op"}
