"""Grants public events without the store: since class_version 2 every domain event carries what its public event
needs, so services/grants/public.py maps it with no application at all (``app=None``: touching it would fail).

Events stored before v2 (``V1_LACKS``; as ``tests.support.legacy_events`` writes them) read back with those fields
None and keep what they had; aggregates replay from them to the same state; and the legacy path, reading the
aggregate at the event's version (an approval: its grant's tranches too), gives the very same public event.
"""

from __future__ import annotations

import uuid

import pytest

from services.grants.application import GrantsApplication
from services.grants.banking import BankStatement, LineVerdict, TransferBatch
from services.grants.domain import (
    Budget,
    BudgetLine,
    Grant,
    HandoverItem,
    LedgerSeal,
    Proposal,
    SpendingLine,
    Tranche,
)
from services.grants.public import PUBLIC_EVENTS
from shared.versioning import VersionedEvent
from tests.support.grants_cast import (
    FAC,
    FINDINGS,
    MIN,
    MIN2,
    MONITORING,
    OP1,
    OP2,
    PROV,
    RULES,
    TODAY,
    TR,
    TR2,
    VER,
    VILLAGE,
)
from tests.support.legacy_events import EventLog, EventVersions, aggregates_after, legacy_mappings, replayed_alike

LINES = [BudgetLine("mesin jahit", 5, "unit", 3_000_000)]  # Rp 15,000,000
SPENT = [SpendingLine("mesin jahit 3 unit", "KW-001", TODAY, 9_000_000)]

# What the events stored before v2 did not have (besides "class_version"): the code before v2 wrote exactly the
# other fields. An event not named here has all its fields in both versions.
V1_LACKS: dict[type, tuple[str, ...]] = {
    Budget.CeilingSet: ("fiscal_year", "source"),
    **{cls: ("group_id", "village_code") for cls in (
        Proposal.Submitted, Proposal.Verified, Proposal.Recommended, Proposal.Returned,
        Proposal.Rejected, Proposal.Flagged, Proposal.Cancelled)},
    Proposal.Resubmitted: ("group_id", "village_code", "member_households"),
    Proposal.Approved: ("group_id", "village_code", "tranches"),
    **{cls: ("proposal_id", "group_id", "village_code") for cls in (
        Grant.Instructed, Grant.Sent, Grant.Failed, Grant.PaymentCancelled, Grant.Delivered, Grant.LpjSubmitted,
        Grant.LpjAccepted, Grant.LpjReturned, Grant.Visited, Grant.Cancelled, Grant.Refunded)},
    Grant.Confirmed: ("proposal_id", "group_id", "village_code", "tranche", "amount_rp"),
}
VERSIONS = EventVersions(GrantsApplication, V1_LACKS)


@pytest.fixture(scope="module")
def log() -> list:
    return scenario()


def draft(form: str = "cash") -> Proposal:
    return Proposal.draft(group_id=uuid.uuid4(), group_name="KUBE Mawar Jondong", village_code=VILLAGE,
                          member_households=10, business_plan="usaha jahit seragam", budget_lines=LINES, form=form,
                          actor=OP1)


def climb(proposal: Proposal) -> Proposal:
    proposal.submit(OP1)
    proposal.verify(VER)
    proposal.recommend(PROV)
    return proposal


def scenario() -> list:
    """Every kind of grants event, as the domain decides them, in the order they happen."""
    log = EventLog()
    record = log.record

    budget = Budget.open(2025, "APBN", 100_000_000, MIN)
    budget.set_ceiling(120_000_000, MIN)
    record(budget)

    # A proposal returned once, flagged on the way, then approved; its cash grant paid in two tranches.
    proposal = draft()
    proposal.flag("a member household moved out of the village")
    proposal.submit(OP1)
    proposal.verify(VER)
    proposal.return_for_revision(PROV, "the budget lines need receipts")
    proposal.resubmit(OP2, member_households=10, business_plan="usaha jahit seragam sekolah")
    proposal.verify(VER)
    proposal.recommend(PROV)
    record(proposal)
    proposal.approve(MIN, 14_000_000, "cash", budget, RULES)
    grant = Grant.open(proposal, RULES)
    record(proposal, budget, grant)
    grant.instruct(1, "pay-1", TR, gate_open=False)
    grant.mark_sent("pay-1", TR)
    grant.fail("pay-1", "rekening ditutup", TR)
    grant.instruct(1, "pay-2", TR, gate_open=False)
    grant.cancel_payment("pay-2", "rekening salah", TR)
    grant.instruct(1, "pay-3", TR, gate_open=False)
    grant.mark_sent("pay-3", TR)
    grant.confirm("pay-3", "BRI-0001", TR2)
    grant.submit_lpj(1, SPENT, OP1, TODAY)
    grant.review_lpj(1, False, OP2, "a receipt is missing")
    grant.submit_lpj(1, SPENT, OP1, TODAY)
    grant.review_lpj(1, True, OP2, explanation="sisa dana untuk modal kerja")
    grant.instruct(2, "pay-4", TR, gate_open=True)
    grant.mark_sent("pay-4", TR)
    grant.confirm("pay-4", "BRI-0002", TR2)
    # a visit as the code before stages recorded it, then a classified one
    grant._visited(visit_date=TODAY, business_status="running", monthly_revenue_rp=3_000_000, notes="", by=FAC.user,
                   **grant._where())
    grant.record_visit(grant.first_paid_on, "running", FINDINGS, "laris", FAC, grant.first_paid_on, 7, MONITORING)
    grant.record_refund(1_000_000, "a machine sold", "STS-01", TR)
    record(grant)

    # An equipment grant, delivered with its BAST, the handover accepted by another person.
    equipment = climb(draft("equipment"))
    equipment.approve(MIN, 12_000_000, "equipment", budget, RULES)
    delivered = Grant.open(equipment, RULES)
    delivered.deliver(1, "bast-1", [HandoverItem("mesin jahit", 2, 8_000_000)], TODAY, "Ketua KUBE", OP1,
                      gate_open=False, today=TODAY)
    delivered.accept_handover("bast-1", TR)
    record(equipment, budget, delivered)
    # Its evidence: the signed proposal, the BAST scan, each named by its file's SHA-256.
    equipment.attach_document("signed_proposal", "d" * 64, 52_000, "application/pdf", OP1)
    delivered.attach_document("bast", "e" * 64, 310_000, "image/jpeg", OP1, payment_id="bast-1")
    record(equipment, delivered)

    # A rejected proposal; an approval cancelled before any money left.
    rejected = draft()
    rejected.submit(OP1)
    rejected.reject(VER, "the group has no business plan of its own")
    cancelled = climb(draft())
    cancelled.approve(MIN, 10_000_000, "cash", budget, RULES)
    cancelled_grant = Grant.open(cancelled, RULES)
    record(rejected, cancelled, budget, cancelled_grant)
    cancelled.cancel(MIN2, "the group dissolved", budget)
    cancelled_grant.cancel("the group dissolved", MIN2.user)
    record(cancelled, budget, cancelled_grant)

    # The treasurer's bank files: a bulk-transfer file taken, a statement reconciled (by another treasurer).
    batch = TransferBatch.take(["pay-4"], 4_200_000, "generic", TODAY, TR)
    statement = BankStatement.reconcile("c" * 64, "mt940", [LineVerdict(
        1, "BLPS0123456789AB", 4_200_000, "BRI-0002", "recorded_before", "confirmed with this bank reference already",
        "pay-4", str(grant.proposal_id))], TR2)
    record(batch, statement)

    seal = LedgerSeal(seq=4, head_hash="a" * 64, by="auditor")
    seal.reseal(9, "b" * 64, "auditor")
    record(seal)
    return log


def test_the_scenario_has_every_kind_of_public_event(log):
    assert {type(e) for e in log} == set(PUBLIC_EVENTS)


def test_every_event_maps_to_its_public_event_without_an_application(log):
    aggregates = aggregates_after(log)
    for e in log:
        data = PUBLIC_EVENTS[type(e)](None, e)  # None: the mapper must not touch the application
        aggregate = aggregates[e.originator_id]
        if isinstance(aggregate, Proposal):
            assert (data.proposal_id, data.group_id, data.village_code) == (
                aggregate.id, aggregate.group_id, aggregate.village_code)
        elif isinstance(aggregate, Grant):
            assert (data.grant_id, data.proposal_id, data.group_id, data.village_code) == (
                aggregate.id, aggregate.proposal_id, aggregate.group_id, aggregate.village_code)
        elif isinstance(aggregate, Budget) and type(e) in (Budget.Opened, Budget.CeilingSet):
            assert (data.budget_id, data.fiscal_year, data.source) == (aggregate.id, 2025, "APBN")


def test_an_approval_names_the_tranches_its_grant_opens_with(log):
    aggregates = aggregates_after(log)
    approvals = [e for e in log if isinstance(e, Proposal.Approved)]
    assert len(approvals) == 3
    for e in approvals:
        grant = aggregates[Grant.create_id(e.originator_id)]
        assert e.tranches == grant.tranches
        data = PUBLIC_EVENTS[Proposal.Approved](None, e)
        assert [(t.number, t.amount_rp) for t in data.tranches] == [(t.number, t.amount_rp) for t in grant.tranches]
    first = approvals[0]
    assert first.tranches == [Tranche(1, 9_800_000), Tranche(2, 4_200_000)]  # 70 % / 30 % of Rp 14,000,000


def test_a_confirmation_names_its_tranche_and_amount(log):
    confirmed = [PUBLIC_EVENTS[Grant.Confirmed](None, e) for e in log if isinstance(e, Grant.Confirmed)]
    assert [(c.payment_id, c.tranche, c.amount_rp, c.bank_reference) for c in confirmed] == [
        ("pay-3", 1, 9_800_000, "BRI-0001"), ("pay-4", 2, 4_200_000, "BRI-0002")]


def test_every_grants_event_is_stored_as_version_3():
    for cls in PUBLIC_EVENTS:
        if not issubclass(cls, LedgerSeal.Event | TransferBatch.Event | BankStatement.Event):  # born at version 1
            assert issubclass(cls, VersionedEvent) and cls.class_version == 3, cls


def test_the_stored_state_carries_the_new_fields_and_its_version(log):
    for e in log:
        if isinstance(e, VersionedEvent):
            state_ = VERSIONS.stored_state(e)
            assert state_["class_version"] == 3
            assert set(V1_LACKS.get(type(e), ())) <= set(state_)


def test_an_event_stored_before_v2_reads_with_the_new_fields_none_and_keeps_what_it_had(log):
    drafted = next(e for e in log if isinstance(e, Proposal.Drafted))
    submitted = next(e for e in log if isinstance(e, Proposal.Submitted))
    confirmed = next(e for e in log if isinstance(e, Grant.Confirmed))
    instructed = next(e for e in log if isinstance(e, Grant.Instructed))
    old = {type(e): e for e in VERSIONS.round_trip([drafted, submitted, confirmed, instructed], v1=True)}
    assert old[Proposal.Drafted].group_id == drafted.group_id  # Drafted always had it: setdefault keeps it
    assert (old[Proposal.Submitted].group_id, old[Proposal.Submitted].village_code) == (None, None)
    assert old[Proposal.Submitted].by == submitted.by
    assert (old[Grant.Confirmed].tranche, old[Grant.Confirmed].amount_rp, old[Grant.Confirmed].proposal_id) == (
        None, None, None)
    assert (old[Grant.Instructed].tranche, old[Grant.Instructed].amount_rp) == (1, 9_800_000)  # it had them
    assert "tranches" not in vars(old[Proposal.Submitted])  # only the fields the event declares are set


def test_aggregates_replay_to_the_same_state_from_either_version(log):
    replayed_alike(VERSIONS, log)  # asserts the same aggregates, each in the same state


def test_the_legacy_path_gives_the_same_public_events_for_events_stored_before_v2(log):
    for before, reads in legacy_mappings(PUBLIC_EVENTS, VERSIONS, log):  # asserts the same public event
        # Only an event that lacks fields reads the store: once, or twice for an approval (its grant's tranches).
        expected = 0 if type(before) not in V1_LACKS else 2 if isinstance(before, Proposal.Approved) else 1
        assert len(reads) == expected, type(before)
