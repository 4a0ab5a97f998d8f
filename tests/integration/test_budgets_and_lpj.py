"""Budgets belong to whoever pays, and LPJs are reconciled — through the grants service's RPC, on real PostgreSQL
and RabbitMQ: the regency's head sets its ceiling and approves a district-funded grant on the regent's decree; two
approvals racing for the last rupiah of a province's budget: exactly one wins; an LPJ whose receipts exceed its
tranche is refused with the difference, and a balance returned as a refund settles it. Every refusal re-reads."""

from __future__ import annotations

import pytest

from berdaya.cli import demo
from tests.integration.test_grants_training import (
    HEAD,
    MINISTRY,
    OPERATOR,
    OPERATOR_2,
    TREASURER,
    VILLAGE,
    approval_outcomes,
    draft,
    funded_ready_group,
    pay,
    refusal,
    running,  # noqa: F401 (the fixture that starts the services)
    verified,
    verified_proposals,
)
from tests.integration.test_registry import eligible_households, group
from tests.support.system import System, eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("running")]

PROVINCE_A = {"user": "kabid.dinsos.lampung", "role": "province", "region": "18"}
PROVINCE_B = {"user": "sekdis.dinsos.lampung", "role": "province", "region": "18"}


def test_the_regency_sets_its_ceiling_and_approves_a_grant_it_funds_on_the_regents_decree(system: System):
    with system.rpc() as rpc:
        refused = refusal(lambda: rpc.grants.set_budget_ceiling({
            "actor": MINISTRY, "fiscal_year": 2026, "source": "APBD-kabupaten", "region": "18.01",
            "ceiling_rp": 40_000_000}))
        assert refused.rule == "role.forbidden"
        assert [b["source"] for b in rpc.grants.budgets(2026)] == ["APBN"]
        rpc.grants.set_budget_ceiling({"actor": HEAD, "fiscal_year": 2026, "source": "APBD-kabupaten",
                                       "region": "18.01", "ceiling_rp": 40_000_000})
        group_id, _ = funded_ready_group(rpc, start=700)
        proposal_id = draft(rpc, group_id)
        verified(rpc, proposal_id)
        approval = {"actor": HEAD, "proposal_id": proposal_id, "amount_rp": 14_000_000, "form": "cash",
                    "fiscal_year": 2026, "source": "APBD-kabupaten"}
        assert refusal(lambda: rpc.grants.approve(approval)).rule == "approval.decree"
        assert refusal(lambda: rpc.grants.approve({**approval, "actor": MINISTRY, "decree_number": "SK-1"})
                       ).rule == "role.forbidden"
        assert rpc.grants.proposal(proposal_id)["status"] == "verified"
        rpc.grants.approve({**approval, "decree_number": "400.9/77/IV.02/2026"})
        assert rpc.grants.proposal(proposal_id)["approval"] == {
            "amount_rp": 14_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBD-kabupaten",
            "region": "18.01", "decree_number": "400.9/77/IV.02/2026"}
        budgets = {(b["source"], b["region"]): b for b in rpc.grants.budgets(2026)}
        assert budgets["APBD-kabupaten", "18.01"]["committed_rp"] == 14_000_000
        assert budgets["APBN", ""]["committed_rp"] == 0


def test_two_approvals_racing_for_the_last_rupiah_of_a_provinces_budget_exactly_one_wins(system: System):
    with system.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": PROVINCE_A, "fiscal_year": 2026, "source": "APBD-provinsi",
                                       "region": "18", "ceiling_rp": 14_000_000})
        proposals = verified_proposals(rpc, 2, start=800, name="KUBE Anggrek")
        replies = [rpc.grants.approve.call_async({"actor": PROVINCE_B, "proposal_id": p, "amount_rp": 14_000_000,
                                                  "form": "cash", "fiscal_year": 2026, "source": "APBD-provinsi"})
                   for p in proposals]
        outcomes = approval_outcomes(replies)
        assert sorted(outcomes) == ["approved", "budget.ceiling"]
        [budget] = [b for b in rpc.grants.budgets(2026) if b["source"] == "APBD-provinsi"]
        assert (budget["region"], budget["committed_rp"], budget["available_rp"]) == ("18", 14_000_000, 0)
        assert sorted(rpc.grants.proposal(p)["status"] for p in proposals) == ["approved", "verified"]


def test_an_lpj_is_reconciled_with_its_tranche_over_rpc(system: System):
    with system.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": HEAD, "fiscal_year": 2026, "source": "APBD-kabupaten",
                                       "region": "18.01", "ceiling_rp": 40_000_000})
        group_id, _ = funded_ready_group(rpc, start=900)
        proposal_id = draft(rpc, group_id)
        verified(rpc, proposal_id)
        rpc.grants.approve({"actor": HEAD, "proposal_id": proposal_id, "amount_rp": 14_000_000, "form": "cash",
                            "fiscal_year": 2026, "source": "APBD-kabupaten", "decree_number": "SK-9"})
        pay(rpc, proposal_id, 1, "lpj-tranche-1-key")  # tranche 1: Rp 9,800,000
        lines = [{"description": "Mesin jahit", "receipt_number": "INV-1", "receipt_date": "2026-01-10",
                  "amount_rp": 9_000_000}, {"description": "Kain", "receipt_number": "INV-2",
                                            "receipt_date": "2026-01-11", "amount_rp": 1_000_000}]
        rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": lines})
        review = {"actor": OPERATOR_2, "proposal_id": proposal_id, "tranche": 1, "accept": True}
        over = refusal(lambda: rpc.grants.review_lpj(review))
        assert (over.rule, over.details["difference_rp"]) == ("lpj.above_tranche", 200_000)
        tranche = rpc.grants.grant(proposal_id)["tranches"][0]
        assert (tranche["lpj"], tranche["lpj_spent_rp"], tranche["lpj_balance_rp"]) == ("submitted", 10_000_000,
                                                                                        -200_000)
        rpc.grants.review_lpj({**review, "accept": False, "reason": "kuitansi melebihi tahap 1"})
        rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": lines[:1]})
        unsettled = refusal(lambda: rpc.grants.review_lpj(review))
        assert (unsettled.rule, unsettled.details["balance_rp"]) == ("lpj.balance_unsettled", 800_000)
        rpc.grants.record_refund({"actor": TREASURER, "proposal_id": proposal_id, "amount_rp": 800_000,
                                  "reason": "sisa dana tahap 1 dikembalikan", "reference": "STS-0001"})
        rpc.grants.review_lpj({**review, "refund_reference": "STS-0001"})
        grant = rpc.grants.grant(proposal_id)
        assert grant["refunded_rp"] == 800_000 and grant["refunds"] == [{"reference": "STS-0001",
                                                                        "amount_rp": 800_000}]
        assert {k: grant["tranches"][0][k] for k in ("lpj", "lpj_spent_rp", "lpj_balance_rp",
                                                      "lpj_refund_reference")} == {
            "lpj": "accepted", "lpj_spent_rp": 9_000_000, "lpj_balance_rp": 800_000,
            "lpj_refund_reference": "STS-0001"}


def test_the_demos_district_funded_grant_and_its_lpj_with_a_balance_returned(system: System):
    """The steps `berdaya demo` tells them with (berdaya/cli/demo.py), on the real services."""
    told = []
    with system.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": demo.HEAD, "fiscal_year": 2026, "source": "APBD-kabupaten",
                                       "region": "18.01", "ceiling_rp": 50_000_000})
        members = eligible_households(rpc, 10, VILLAGE, start=950)  # the demo's groups are of ten
        group_id = rpc.registry.form_group(group("KUBE Demo Kabupaten", VILLAGE, members))
        eventually(lambda: rpc.grants.group(group_id) is not None)
        proposal_id = draft(rpc, group_id, lines=demo.BUDGET_LINES)
        rpc.grants.submit({"actor": OPERATOR, "proposal_id": proposal_id})
        steps = demo.Steps(rpc, told.append)
        steps.approve_by_the_regency(proposal_id)
        steps.pay(proposal_id, 1, "demo-regency-t1")
        steps.lpj_with_a_balance_returned(proposal_id)
        grant = rpc.grants.grant(proposal_id)
    assert any("regent's decree" in line for line in told) and grant["refunded_rp"] == 250_000
    assert (grant["tranches"][0]["lpj"], grant["tranches"][0]["lpj_refund_reference"]) == ("accepted",
                                                                                            "STS-DEMO-001")
