"""Grants' commands through GrantsApplication on in-memory (POPO) persistence: the rules that need more than one
aggregate — what registry and training said of a KUBE, the one proposal in progress, the budget an approval spends,
the gate a second tranche waits for, a payment's idempotency key, the ledger's head — with no database, in
milliseconds. A refusal re-reads the log to prove nothing was recorded. The same facts from PostgreSQL:
tests/integration/test_facts.py."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.grants import commands as cmd
from services.grants.application import GrantsApplication
from services.grants.domain import Budget, Grant
from shared.contracts import registry, training
from shared.errors import Conflict, NotFound, RuleViolated
from tests.support.grants_cast import MIN, MIN2, OP1, OP2, PROV, TR, TR2, VER, VILLAGE
from tests.support.memory import refused
from tests.support.memory.grants import MemoryGrantsFacts

LINES = [{"item": "kambing betina", "quantity": 10, "unit": "ekor", "unit_price_rp": 1_500_000}]  # 15,000,000


@pytest.fixture
def grants() -> GrantsApplication:
    return GrantsApplication.in_memory(MemoryGrantsFacts)


def kube_formed(grants: GrantsApplication, households: int = 10, decile: int = 2) -> tuple[str, list[str]]:
    """Registry's news of a women's KUBE in Jondong, projected as grants' consumer would: its id and its households'
    ids (grants never learns a KK)."""
    group_id, households_ = uuid.uuid4(), [uuid.uuid4() for _ in range(households)]
    for household_id in households_:
        grants.facts.project(registry.HouseholdRegisteredV2(
            household_id=household_id, village_code=VILLAGE, decile=decile, bdt_status="active", members=[],
            registered_by="op1"))
    grants.facts.project(registry.GroupFormedV2(
        group_id=group_id, name="KUBE Mawar Jondong", village_code=VILLAGE, business_type="ternak", kind="perempuan",
        members=[registry.GroupMemberV2(household_id=household_id, representative_id=uuid.uuid4())
                 for household_id in households_], roles={}, formed_by="op1",
        bank_account=registry.BankAccountV1(bank="BRI", number="0206-01-000001-50-1", holder="KUBE Mawar Jondong")))
    return str(group_id), households_


def draft(grants: GrantsApplication, group_id: str) -> str:
    return grants.draft_proposal(cmd.DraftProposal(actor=OP1, group_id=group_id, business_plan="ternak kambing",
                                                   budget_lines=LINES, form="cash"))


def recommended(grants: GrantsApplication, group_id: str) -> str:
    proposal_id = draft(grants, group_id)
    grants.submit(cmd.ProposalAction(actor=OP1, proposal_id=proposal_id))
    grants.verify(cmd.ProposalAction(actor=VER, proposal_id=proposal_id))
    grants.recommend(cmd.ProposalAction(actor=PROV, proposal_id=proposal_id))
    return proposal_id


def approved(grants: GrantsApplication, ceiling_rp: int = 100_000_000) -> str:
    group_id, _ = kube_formed(grants)
    proposal_id = recommended(grants, group_id)
    grants.set_budget_ceiling(cmd.SetBudgetCeiling(actor=MIN, fiscal_year=2026, source="APBN", ceiling_rp=ceiling_rp))
    grants.approve(cmd.Approve(actor=MIN2, proposal_id=proposal_id, amount_rp=15_000_000, form="cash",
                               fiscal_year=2026, source="APBN"))
    return proposal_id


def instruct(grants: GrantsApplication, proposal_id: str, tranche: int, key: str) -> dict:
    return grants.instruct(cmd.Instruct(actor=TR, proposal_id=proposal_id, tranche=tranche, idempotency_key=key))


def paid(grants: GrantsApplication, proposal_id: str, tranche: int) -> None:
    payment = instruct(grants, proposal_id, tranche, f"tranche-{tranche}-key")
    grants.mark_sent(cmd.PaymentAction(actor=TR, proposal_id=proposal_id, payment_id=payment["payment_id"]))
    grants.confirm(cmd.Confirm(actor=TR2, proposal_id=proposal_id, payment_id=payment["payment_id"],
                               bank_reference=f"BRI-{tranche}"))



# --- a proposal is for a KUBE that registry formed, of eligible households, one at a time ---------------------

def test_a_kube_grants_has_not_heard_of_cannot_propose(grants):
    refused(grants, NotFound, None, lambda: draft(grants, str(uuid.uuid4())))


def test_a_household_above_the_decile_limit_makes_the_kube_ineligible(grants):
    group_id, kks = kube_formed(grants)
    grants.facts.project(registry.HouseholdDecileChangedV2(household_id=kks[3], decile=grants.rules.max_decile + 1,
                                                           by="op1"))
    error = refused(grants, RuleViolated, "proposal.household_eligible", lambda: draft(grants, group_id))
    assert str(kks[3]) in error.message


def test_a_household_that_left_bdt_makes_the_kube_ineligible(grants):
    group_id, kks = kube_formed(grants)
    grants.facts.project(registry.HouseholdStatusChangedV2(household_id=kks[0], bdt_status="graduated", by="op1"))
    refused(grants, RuleViolated, "proposal.household_eligible", lambda: draft(grants, group_id))


def test_a_dissolved_kube_cannot_propose(grants):
    group_id, _ = kube_formed(grants)
    grants.facts.project(registry.GroupDissolvedV1(group_id=uuid.UUID(group_id), reason="bubar", by="op1"))
    refused(grants, RuleViolated, "proposal.group_status", lambda: draft(grants, group_id))


def test_one_proposal_in_progress_per_kube_until_it_is_rejected(grants):
    group_id, _ = kube_formed(grants)
    first = draft(grants, group_id)
    error = refused(grants, Conflict, "proposal.one_open", lambda: draft(grants, group_id))
    assert error.details["proposal_id"] == first
    grants.submit(cmd.ProposalAction(actor=OP1, proposal_id=first))
    grants.reject(cmd.ReasonedAction(actor=VER, proposal_id=first, reason="usaha tidak layak"))
    second = draft(grants, group_id)
    assert grants.proposal(second)["status"] == "draft" and grants.facts.open_proposals(group_id) == [second]


def test_a_returned_proposal_is_checked_again_as_the_kube_is_now(grants):
    group_id, kks = kube_formed(grants)
    proposal_id = draft(grants, group_id)
    grants.submit(cmd.ProposalAction(actor=OP1, proposal_id=proposal_id))
    grants.return_for_revision(cmd.ReasonedAction(actor=VER, proposal_id=proposal_id, reason="lengkapi RAB"))
    grants.facts.project(registry.HouseholdDecileChangedV2(household_id=kks[0], decile=9, by="op1"))
    refused(grants, RuleViolated, "proposal.household_eligible",
            lambda: grants.resubmit(cmd.Resubmit(actor=OP1, proposal_id=proposal_id)))
    assert grants.proposal(proposal_id)["status"] == "returned"


# --- approval spends the budget; money waits for the Family School ------------------------------------------

def test_an_approval_spends_the_budget_of_the_region_that_pays_for_the_group(grants):
    """APBN: the ministry's allotment to the group's province when it made one, else the national ceiling; an APBD
    with no ceiling for the group's province is refused, nothing spent."""
    group_id, _ = kube_formed(grants)
    proposal_id = recommended(grants, group_id)
    for region in ("", "18"):
        grants.set_budget_ceiling(cmd.SetBudgetCeiling(actor=MIN, fiscal_year=2026, source="APBN", region=region,
                                                       ceiling_rp=100_000_000))
    by_the_province = draft_verified(grants)
    refused(grants, NotFound, "budget.none", lambda: grants.approve(cmd.Approve(
        actor=PROV, proposal_id=by_the_province, amount_rp=15_000_000, form="cash", fiscal_year=2026,
        source="APBD-provinsi")))
    assert grants.proposal(by_the_province)["status"] == "verified"
    grants.approve(cmd.Approve(actor=MIN2, proposal_id=proposal_id, amount_rp=15_000_000, form="cash",
                               fiscal_year=2026, source="APBN"))
    committed = {region: grants.repository.get(Budget.create_id(2026, "APBN", region)).committed_rp
                 for region in ("", "18")}
    assert committed == {"": 0, "18": 15_000_000}
    assert grants.proposal(proposal_id)["approval"]["region"] == "18"


def draft_verified(grants: GrantsApplication) -> str:
    group_id, _ = kube_formed(grants)
    proposal_id = draft(grants, group_id)
    grants.submit(cmd.ProposalAction(actor=OP1, proposal_id=proposal_id))
    grants.verify(cmd.ProposalAction(actor=VER, proposal_id=proposal_id))
    return proposal_id


def test_approval_above_what_the_budget_has_left_is_refused_and_spends_nothing(grants):
    group_id, _ = kube_formed(grants)
    proposal_id = recommended(grants, group_id)
    grants.set_budget_ceiling(cmd.SetBudgetCeiling(actor=MIN, fiscal_year=2026, source="APBN",
                                                   ceiling_rp=10_000_000))
    refused(grants, RuleViolated, "budget.ceiling", lambda: grants.approve(cmd.Approve(
        actor=MIN2, proposal_id=proposal_id, amount_rp=15_000_000, form="cash", fiscal_year=2026, source="APBN")))
    assert grants.proposal(proposal_id)["status"] == "recommended"
    assert grants.repository.get(Budget.create_id(2026, "APBN")).committed_rp == 0


def test_the_second_tranche_waits_for_the_family_school_gate(grants):
    proposal_id = approved(grants)
    paid(grants, proposal_id, 1)
    grants.submit_lpj(cmd.SubmitLpj(actor=OP1, proposal_id=proposal_id, tranche=1, lines=[{
        "description": "kambing betina 6 ekor", "receipt_number": "KW-001", "receipt_date": date(2026, 11, 2),
        "amount_rp": 9_000_000}]))
    grants.review_lpj(cmd.ReviewLpj(actor=OP2, proposal_id=proposal_id, tranche=1, accept=True,
                                    explanation="sisa dana untuk pakan"))
    group_id = grants.proposal(proposal_id)["group_id"]
    refused(grants, RuleViolated, "tranche.family_school", lambda: instruct(grants, proposal_id, 2, "tranche-2-key"))
    grants.facts.project(training.GateChangedV1(group_id=uuid.UUID(group_id), open=True, completed=8,
                                                representatives=10, threshold_percent=80))
    paid(grants, proposal_id, 2)
    grant = grants.grant(proposal_id)
    assert grant["disbursed_rp"] == grant["amount_rp"] == 15_000_000


def test_the_same_idempotency_key_is_the_same_payment_never_a_second(grants):
    proposal_id = approved(grants)
    first = instruct(grants, proposal_id, 1, "kunci-bayar-0001")
    again = instruct(grants, proposal_id, 1, "kunci-bayar-0001")
    assert again["payment_id"] == first["payment_id"] and again["repeated"] and not first["repeated"]
    refused(grants, Conflict, "idempotency.key_reused", lambda: instruct(grants, proposal_id, 2, "kunci-bayar-0001"))
    assert len(grants.repository.get(Grant.create_id(uuid.UUID(proposal_id))).payments) == 1


def test_the_sealed_head_is_the_last_money_event_chained(grants):
    assert grants.seal_ledger("auditor") == {"seq": 0, "hash": "0" * 64}
    proposal_id = approved(grants)
    paid(grants, proposal_id, 1)
    # Approval, then instruct, sent and confirm: each a money event in the chain.
    sealed = grants.seal_ledger("auditor")
    assert sealed["seq"] == 4 and sealed["hash"] == grants.recorder.ledger[-1][-1] != "0" * 64


def test_an_application_in_memory_says_so_when_asked_for_sql(grants):
    with pytest.raises(RuntimeError, match="in memory"):
        grants.proposals()


@pytest.mark.parametrize("malformed", ["1801060101010001", "not-an-id", "", "'; DROP TABLE grants; --"])
def test_a_malformed_id_is_answered_as_a_missing_one_without_echoing_it(grants, malformed):
    for read in (grants.proposal, grants.grant):
        with pytest.raises(NotFound) as refused_:
            read(malformed)
        message = str(refused_.value)
        assert "no such" in message and (not malformed or malformed not in message), message
