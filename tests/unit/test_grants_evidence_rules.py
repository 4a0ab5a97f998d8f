"""Attaching evidence (grants' domain): each kind to what it proves, by the role that records that, in its region,
never before what it proves was recorded, and the same file of a kind once; refused, nothing changes."""

from __future__ import annotations

from services.grants.domain import HandoverItem
from shared.errors import Conflict, NotFound, NotYours, RuleViolated, ValidationFailed
from tests.support.grants_cast import FAC, FAC_OTHER, FINDINGS, MIN, MONITORING, OP1, OP2, OP_OTHER, TODAY, TR
from tests.unit.test_grants_rules import draft, grant, names, pay, refused, spending

PDF, JPEG = "application/pdf", "image/jpeg"
HASH, OTHER_HASH = "a" * 64, "b" * 64


def test_a_proposal_takes_its_signed_proposal_and_rab_and_once_approved_its_decision_letter():
    proposal = draft()
    proposal.attach_document("signed_proposal", HASH, 1000, PDF, OP1)
    proposal.attach_document("rab", OTHER_HASH, 900, JPEG, OP2)
    assert names(proposal) == ["Proposal.Drafted", "Proposal.DocumentAttached", "Proposal.DocumentAttached"]
    refused(RuleViolated, lambda: proposal.attach_document("decision_letter", "c" * 64, 10, PDF, MIN), proposal,
            rule="evidence.not_yet")
    assert [(d.kind, d.sha256, d.by) for d in proposal.documents] == [("signed_proposal", HASH, "op1"),
                                                                       ("rab", OTHER_HASH, "op2")]


def test_a_grant_takes_a_bast_of_a_delivery_a_receipt_of_a_submitted_lpj_and_a_photo_of_a_visit():
    equipment = grant(form="equipment")
    refused(NotFound, lambda: equipment.attach_document("bast", HASH, 10, PDF, OP1, payment_id="bast-1"),
            equipment)
    equipment.deliver(1, "bast-1", [HandoverItem("kambing betina", 7, 14_000_000)], TODAY, "Ketua KUBE", OP1,
                      gate_open=False, today=TODAY)
    equipment.attach_document("bast", HASH, 10, PDF, OP1, payment_id="bast-1")
    equipment.attach_document("delivery_photo", OTHER_HASH, 10, JPEG, TR, payment_id="bast-1")
    assert [(d.kind, d.payment_id, d.tranche) for d in equipment.documents] == [("bast", "bast-1", None),
                                                                                ("delivery_photo", "bast-1", None)]
    cash = grant()
    pay(cash, 1, "pay-1")
    cash.collect_events()
    refused(RuleViolated, lambda: cash.attach_document("bast", HASH, 10, PDF, OP1, payment_id="pay-1"), cash,
            rule="evidence.not_yet")  # a transfer has no BAST
    refused(RuleViolated, lambda: cash.attach_document("receipt", HASH, 10, JPEG, OP1, tranche=1), cash,
            rule="evidence.not_yet")
    refused(RuleViolated, lambda: cash.attach_document("visit_photo", HASH, 10, JPEG, FAC), cash,
            rule="evidence.not_yet")
    cash.submit_lpj(1, spending(), OP1, TODAY)
    cash.record_visit(cash.first_paid_on, "running", FINDINGS, "", FAC, cash.first_paid_on, 7, MONITORING)
    cash.attach_document("receipt", HASH, 10, JPEG, OP1, tranche=1)
    cash.attach_document("visit_photo", OTHER_HASH, 10, JPEG, FAC)
    assert [(d.kind, d.tranche, d.payment_id) for d in cash.documents] == [("receipt", 1, None),
                                                                           ("visit_photo", None, None)]


def test_who_attaches_is_the_role_that_records_it_in_its_region():
    proposal = draft()
    refused(NotYours, lambda: proposal.attach_document("rab", HASH, 10, PDF, TR), proposal, rule="role.forbidden")
    refused(NotYours, lambda: proposal.attach_document("rab", HASH, 10, PDF, OP_OTHER), proposal,
            rule="region.scope")
    cash = grant()
    pay(cash, 1, "pay-1")  # monitoring starts with tranche 1 paid
    cash.record_visit(cash.first_paid_on, "running", FINDINGS, "", FAC, cash.first_paid_on, 7, MONITORING)
    cash.collect_events()
    refused(NotYours, lambda: cash.attach_document("visit_photo", HASH, 10, JPEG, FAC_OTHER), cash,
            rule="region.scope")


def test_a_kind_goes_where_it_belongs_and_the_same_file_of_a_kind_once():
    proposal = draft()
    refused(ValidationFailed, lambda: proposal.attach_document("bast", HASH, 10, PDF, OP1), proposal,
            rule="evidence.kind")
    proposal.attach_document("rab", HASH, 10, PDF, OP1)
    proposal.collect_events()
    refused(Conflict, lambda: proposal.attach_document("rab", HASH, 10, PDF, OP2), proposal,
            rule="evidence.attached")
