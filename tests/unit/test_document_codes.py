"""A printout's verification code as typed from the paper, and the amount in words a kuitansi states."""

from __future__ import annotations

import pytest

from services.gateway.terbilang import rupiah_words
from shared.document_codes import code_for, event_digest, parse_code
from shared.errors import ValidationFailed

DIGEST = "9f3a2c1b7d" + "0" * 54


def test_a_code_names_its_log_position_and_hash_prefix_and_reads_back_however_typed():
    code = code_for("L", 42, DIGEST)
    assert str(code) == "L42-9F3A2C1B7D" and code.service == "grants" and code.ledger
    assert parse_code("  l42-9f3a2c1b7d ") == code and code.matches(DIGEST)
    assert not code.matches("9f3a2c1b7e" + "0" * 54)
    assert parse_code("T7-0123456789").service == "training" and not parse_code("G7-0123456789").ledger


@pytest.mark.parametrize("typed", ["", "L42", "L42-9F3A2C1B7", "L42-9F3A2C1B7D0", "X42-9F3A2C1B7D",
                                   "L0-9F3A2C1B7D", "L-1-9F3A2C1B7D", "L42-9F3A2C1B7G", "L42 9F3A2C1B7D",
                                   "L1234567890123-9F3A2C1B7D"])
def test_anything_else_is_refused_as_no_code(typed):
    with pytest.raises(ValidationFailed) as refused:
        parse_code(typed)
    assert refused.value.rule == "document.code_format"


def test_an_events_digest_changes_with_any_rupiah_of_it():
    event = ("0b5d2a3e-8c1f-4d2a-9e3b-5f6a7b8c9d0e", 3, "grants:Grant.Confirmed")
    state = b'{"payment_id": "p-1", "amount_rp": 9800000}'
    digest = event_digest(*event, state)
    assert len(digest) == 64 and event_digest(*event, state) == digest
    assert event_digest(*event, state.replace(b"9800000", b"9800001")) != digest
    assert event_digest(event[0], 4, event[2], state) != digest  # the same state at another version


@pytest.mark.parametrize(("amount", "words"), [
    (0, "nol rupiah"), (11, "sebelas rupiah"), (19, "sembilan belas rupiah"), (100, "seratus rupiah"),
    (1_000, "seribu rupiah"), (1_500, "seribu lima ratus rupiah"), (11_000, "sebelas ribu rupiah"),
    (9_800_000, "sembilan juta delapan ratus ribu rupiah"), (14_000_000, "empat belas juta rupiah"),
    (2_100_000_000, "dua miliar seratus juta rupiah"),
    (123_456_789, "seratus dua puluh tiga juta empat ratus lima puluh enam ribu tujuh ratus delapan puluh sembilan "
                  "rupiah"),
])
def test_a_kuitansi_states_its_amount_in_indonesian_words(amount, words):
    assert rupiah_words(amount) == words
