"""Grants rules found missing by property testing, now enforced: maker–checker on resubmission, payment ids never
reused, whole-number handover quantities, 5–20 member households."""


import pytest

from services.grants.domain import HandoverItem
from shared.actor import Actor
from shared.errors import BerdayaError, NotYours, ValidationFailed
from tests.unit.test_grants_rules import OP1, OP2, TODAY, TR, draft, grant, pay, refused, spending, state, submitted


# domain.md "Route": "Nobody acts twice in a row on one proposal (maker–checker)".
def test_the_user_who_returned_a_proposal_cannot_resubmit_it():
    proposal = submitted()
    proposal.return_for_revision(Actor("x", "verifier", "18.01"), "RAB kurang rinci")
    refused(NotYours, lambda: proposal.resubmit(Actor("x", "operator", "18.01"), member_households=10), proposal,
            rule="proposal.maker_checker")


# domain.md "Disbursement": "a tranche is paid at most once", "the total disbursed never exceeds the
# approved amount"; the domain lets a new instruction/delivery reuse an existing payment id and overwrites it.
def test_an_instruction_cannot_reuse_a_payment_id():
    g = grant()  # cash, 20,000,000 → 14,000,000 + 6,000,000
    pay(g, 1, "p1")
    g.submit_lpj(1, spending(), OP1, TODAY)
    g.review_lpj(1, True, OP2)
    with pytest.raises(BerdayaError):
        g.instruct(2, "p1", TR, True)  # today: accepted, tranche 1's confirmed payment is replaced


def test_a_failed_payment_is_not_reborn_under_its_id():
    g = grant()
    g.instruct(1, "p1", TR, False)
    g.fail("p1", "rekening ditutup", TR)
    before = state(g)
    with pytest.raises(BerdayaError):
        g.instruct(1, "p1", TR, False)  # today: failed → instructed, the failure vanishes from state
    assert state(g) == before


# a BAST lists quantities; HandoverItem.quantity is not checked as a whole number (BudgetLine's is).
@pytest.mark.parametrize("quantity", [True, 1.5])
def test_a_handover_quantity_is_a_whole_number(quantity):
    g = grant(form="equipment")
    refused(ValidationFailed, lambda: g.deliver(1, "d1", [HandoverItem("mesin", quantity, 1_000)], TODAY, "Ibu", OP1,
                                                False, TODAY), g, rule="bast.quantity")


# domain.md "KUBE group": 5–20 member households; the cap is 2,000,000 × member households.
@pytest.mark.parametrize("households", [0, -3, True, 25])
def test_a_proposal_counts_5_to_20_member_households(households):
    with pytest.raises(ValidationFailed):
        draft(households=households)
