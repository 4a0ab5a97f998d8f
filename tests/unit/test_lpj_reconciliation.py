"""An LPJ reconciled (domain.md, "Accountability (LPJ)"): its receipts summed and compared with the tranche it
accounts for; receipts above the tranche are never accepted (the operator sees the difference); a balance left
unspent is either returned — a refund recorded against the grant, named by its reference — or explained. Every
refusal re-reads the grant to prove nothing changed."""

from __future__ import annotations

from datetime import date

from services.grants.domain import SpendingLine
from shared.errors import Conflict, RuleViolated
from tests.support.grants_cast import OP1, OP2, TODAY, TR
from tests.unit.test_grants_rules import grant, names, pay, refused

TRANCHE_1 = 14_000_000  # 70 % of Rp 20,000,000


def submitted(*amounts: int):
    """A grant whose tranche 1 is paid and its LPJ submitted with receipts of ``amounts``."""
    g = grant()
    pay(g, 1, "p1")
    g.submit_lpj(1, [SpendingLine(f"belanja {i}", f"KW-{i}", date(2025, 6, 1), amount)
                     for i, amount in enumerate(amounts)], OP1, TODAY)
    g.collect_events()
    return g


def test_receipts_that_account_for_the_tranche_exactly_are_accepted_as_they_are():
    g = submitted(10_000_000, 4_000_000)
    g.review_lpj(1, True, OP2)
    assert g.lpj[1]["status"] == "accepted" and g.lpj[1]["total_rp"] == TRANCHE_1
    [accepted] = g.collect_events()
    assert (accepted.spent_rp, accepted.tranche_rp, accepted.refund_reference, accepted.explanation) == (
        TRANCHE_1, TRANCHE_1, None, None)


def test_receipts_above_the_tranche_are_refused_naming_the_difference_and_the_lpj_is_returned_instead():
    g = submitted(10_000_000, 4_500_000)
    error = refused(RuleViolated, lambda: g.review_lpj(1, True, OP2, explanation="pakai uang sendiri"), g,
                    rule="lpj.above_tranche")
    assert (error.details["spent_rp"], error.details["tranche_rp"], error.details["difference_rp"]) == (
        14_500_000, TRANCHE_1, 500_000)
    assert g.lpj[1]["status"] == "submitted"
    g.review_lpj(1, False, OP2, "kuitansi melebihi tahap 1")
    assert g.lpj[1]["status"] == "returned"


def test_an_unspent_balance_neither_returned_nor_explained_is_refused():
    g = submitted(13_000_000)
    error = refused(RuleViolated, lambda: g.review_lpj(1, True, OP2), g, rule="lpj.balance_unsettled")
    assert error.details["balance_rp"] == 1_000_000
    refused(RuleViolated, lambda: g.review_lpj(1, True, OP2, explanation="  "), g, rule="lpj.balance_unsettled")


def test_an_explained_balance_is_accepted_with_its_explanation():
    g = submitted(13_000_000)
    g.review_lpj(1, True, OP2, explanation=" sisa untuk pakan bulan depan ")
    assert g.lpj[1]["explanation"] == "sisa untuk pakan bulan depan"
    assert names(g) == ["Grant.LpjAccepted"]


def test_a_returned_balance_names_the_refund_recorded_against_the_grant():
    g = submitted(13_000_000)
    refused(RuleViolated, lambda: g.review_lpj(1, True, OP2, refund_reference="STS-77"), g,
            rule="lpj.refund_unknown")
    g.record_refund(600_000, "sisa dana tahap 1 dikembalikan", "STS-77", TR)
    error = refused(RuleViolated, lambda: g.review_lpj(1, True, OP2, refund_reference="STS-77"), g,
                    rule="lpj.balance_unsettled")
    assert error.details["balance_rp"] == 400_000  # what the refund does not cover
    g.record_refund(400_000, "sisa dana tahap 1 dikembalikan", "STS-77", TR)
    g.review_lpj(1, True, OP2, refund_reference="STS-77")
    assert g.lpj[1]["refund_reference"] == "STS-77" and g.refunded_rp == 1_000_000


def test_a_partial_refund_and_an_explanation_of_the_rest_settle_a_balance_together():
    g = submitted(13_000_000)
    g.record_refund(600_000, "sisa dana", "STS-1", TR)
    g.review_lpj(1, True, OP2, refund_reference="STS-1", explanation="Rp 400.000 dipakai untuk ongkos kirim")
    assert g.lpj[1]["status"] == "accepted"


def test_one_refund_settles_one_lpj():
    g = submitted(13_000_000)
    g.record_refund(1_000_000, "sisa dana tahap 1", "STS-1", TR)
    g.review_lpj(1, True, OP2, refund_reference="STS-1")
    pay(g, 2, "p2", gate_open=True)
    g.submit_lpj(2, [SpendingLine("pakan", "KW-9", date(2025, 6, 10), 5_000_000)], OP1, TODAY)
    refused(Conflict, lambda: g.review_lpj(2, True, OP2, refund_reference="STS-1"), g, rule="lpj.refund_used")
    g.record_refund(1_000_000, "sisa dana tahap 2", "STS-2", TR)
    g.review_lpj(2, True, OP2, refund_reference="STS-2")
    assert g.refunded_rp == 2_000_000
