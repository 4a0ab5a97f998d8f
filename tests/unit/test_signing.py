"""Signed envelopes (shared/signing.py): what verifies, what does not, and keys that rotate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contracts import PoisonMessage, make_envelope
from shared.contracts.training import GateChangedV1
from shared.signing import KeyConfigError, Signer, Verifier, key_environment, new_signing_key

NOW = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)
GROUP = uuid.UUID("00000000-0000-4000-8000-000000000001")


def envelope(position: int = 7, open_: bool = False):
    data = GateChangedV1(group_id=GROUP, open=open_, completed=5, representatives=7, threshold_percent=80)
    return make_envelope(source="training", position=position, previous_position=position - 1,
                         subject=str(GROUP), time=NOW, data=data)


def keys(*key_ids: str) -> tuple[dict[str, Signer], Verifier]:
    """Signers by key id for training, and a grants verifier that accepts all of them."""
    signers = {key_id: Signer.parse(new_signing_key(key_id), "training") for key_id in key_ids}
    public = " ".join(signer.public_entry("training") for signer in signers.values())
    return signers, Verifier.parse(public, ["training"], "grants")


def test_a_signed_envelope_verifies_after_travelling_as_json():
    signers, verifier = keys("k1")
    signed = signers["k1"].sign(envelope())
    travelled = type(signed).model_validate_json(signed.model_dump_json())
    assert verifier.verify(travelled) == travelled and travelled.keyid == "k1"


def test_signing_is_deterministic_so_a_republished_event_is_the_same_message():
    signers, _ = keys("k1")
    assert signers["k1"].sign(envelope()).signature == signers["k1"].sign(envelope()).signature


@pytest.mark.parametrize("change", [
    {"data": {**envelope().data, "open": True}},
    {"position": 8},
    {"previous_position": 0},
    {"source": "registry"},
    {"subject": str(uuid.uuid4())},
    {"time": datetime(2026, 12, 7, tzinfo=UTC)},
])
def test_an_altered_envelope_does_not_verify(change):
    signers, verifier = keys("k1")
    altered = signers["k1"].sign(envelope()).model_copy(update=change)
    with pytest.raises(PoisonMessage):
        verifier.verify(altered)


@given(completed=st.integers(min_value=0, max_value=1000), opened=st.booleans())
def test_any_other_data_under_a_real_signature_is_refused(completed, opened):
    signers, verifier = keys("k1")
    real = signers["k1"].sign(envelope())
    forged_data = {**real.data, "completed": completed, "open": opened}
    if forged_data == real.data:
        assert verifier.verify(real.model_copy(update={"data": forged_data}))
    else:
        with pytest.raises(PoisonMessage, match="signature does not match"):
            verifier.verify(real.model_copy(update={"data": forged_data}))


def test_unsigned_and_unknown_key_envelopes_are_refused_with_their_reason():
    signers, verifier = keys("k1")
    with pytest.raises(PoisonMessage, match="unsigned training event at position 7"):
        verifier.verify(envelope())
    stranger = Signer.parse(new_signing_key("k1"), "training")  # the right key id, someone else's key
    with pytest.raises(PoisonMessage, match="signature does not match"):
        verifier.verify(stranger.sign(envelope()))
    other_id = Signer.parse(new_signing_key("k9"), "training")
    with pytest.raises(PoisonMessage, match="unknown key 'k9'"):
        verifier.verify(other_id.sign(envelope()))


def test_a_rotation_accepts_both_keys_until_the_old_one_is_withdrawn():
    signers, both = keys("2026a", "2026b")
    old, new = signers["2026a"].sign(envelope()), signers["2026b"].sign(envelope())
    assert both.verify(old) and both.verify(new)
    only_new = Verifier.parse(signers["2026b"].public_entry("training"), ["training"], "grants")
    assert only_new.verify(new)
    with pytest.raises(PoisonMessage, match="unknown key '2026a'"):
        only_new.verify(old)


def test_a_source_signs_only_for_itself():
    registry = Signer.parse(new_signing_key("k1"), "registry")
    verifier = Verifier.parse(" ".join([registry.public_entry("registry"),
                                        keys("k1")[0]["k1"].public_entry("training")]),
                              ["registry", "training"], "grants")
    with pytest.raises(PoisonMessage, match="signature does not match"):
        verifier.verify(registry.sign(envelope()))  # registry's key on an envelope that says source=training


@pytest.mark.parametrize("text, message", [
    (None, "EVENT_SIGNING_KEY of grants is not set"),
    ("", "is not set"),
    ("k1:not base64!", "not base64"),
    ("k1:AAAA", "3 bytes, an Ed25519 key has 32"),
    ("bad id:" + new_signing_key("x").split(":")[1], "key id 'bad id'"),
])
def test_a_missing_or_malformed_signing_key_is_a_configuration_error(text, message):
    with pytest.raises(KeyConfigError, match=message):
        Signer.parse(text, "grants")


def test_a_consumer_without_the_key_of_an_upstream_is_a_configuration_error():
    environment = key_environment({"registry": new_signing_key("k1")})
    with pytest.raises(KeyConfigError, match="has no key of training"):
        Verifier.parse(environment["EVENT_PUBLIC_KEYS"], ["registry", "training"], "grants")


def test_the_key_environment_gives_each_service_its_key_and_everyone_the_public_halves():
    environment = key_environment({"registry": new_signing_key("k1"), "grants": new_signing_key("k2")})
    assert set(environment) == {"REGISTRY_EVENT_SIGNING_KEY", "GRANTS_EVENT_SIGNING_KEY", "EVENT_PUBLIC_KEYS"}
    verifier = Verifier.parse(environment["EVENT_PUBLIC_KEYS"], ["registry", "grants"], "training")
    grants = Signer.parse(environment["GRANTS_EVENT_SIGNING_KEY"], "grants")
    assert verifier.verify(grants.sign(envelope().model_copy(update={"source": "grants"})))
