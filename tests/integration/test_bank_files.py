"""The treasurer's bank files on PostgreSQL: a bulk-transfer file sends what it lists (once, however often it is
asked for), and a bank statement is reconciled exactly — a match confirmed, a returned transfer failed, and a
differing amount, an unknown reference and a duplicate line left for a person — and only once."""

from __future__ import annotations

import base64
import csv
import io
import uuid

import pytest

from berdaya.bank.statement import mt940
from services.grants import commands as cmd
from services.grants.application import GrantsApplication
from services.grants.bankfiles import payment_reference
from shared.actor import Actor
from shared.contracts import registry
from shared.errors import NotYours, RuleViolated, ValidationFailed
from tests.integration.test_facts import consumed
from tests.support.applications import application_fixture
from tests.support.grants_cast import MIN, MIN2, OP1, PROV, TR, TR2, TR_OTHER, VER, VILLAGE

pytestmark = pytest.mark.integration

grants = application_fixture(GrantsApplication, "grants")
LINES = [{"item": "kambing betina", "quantity": 10, "unit": "ekor", "unit_price_rp": 2_000_000}]  # Rp 20,000,000
TRANCHE_1 = 14_000_000  # 70 %


def instructed_payment(app: GrantsApplication, n: int, with_account: bool = True) -> dict:
    """A KUBE (with its bank account unless formed before registry published one), its grant approved and tranche 1
    instructed by TR: the payment's proposal_id and payment_id."""
    group_id = uuid.UUID(int=n)
    households = [uuid.uuid4() for _ in range(10)]
    from_registry = consumed(app, "registry")
    from_registry(*[registry.HouseholdRegisteredV2(
        household_id=household_id, village_code=VILLAGE, decile=2, bdt_status="active", members=[],
        registered_by="op1") for household_id in households])
    from_registry(registry.GroupFormedV2(
        group_id=group_id, name=f"KUBE Mawar {n}", village_code=VILLAGE, business_type="ternak", kind="perempuan",
        roles={}, formed_by="op1", bank_account=registry.BankAccountV1(
            bank="BRI", number=f"0206-01-000{n:03d}-50-1", holder=f"KUBE Mawar {n}"),
        members=[registry.GroupMemberV2(household_id=household_id, representative_id=uuid.uuid4())
                 for household_id in households]))
    if not with_account:  # a group grants learnt of before registry published accounts (registry.group.formed v1)
        with app.transaction() as cursor:
            cursor.execute("UPDATE groups SET bank_account = NULL WHERE group_id = %s", (group_id,))
    proposal_id = app.draft_proposal(cmd.DraftProposal(actor=OP1, group_id=str(group_id), business_plan="ternak",
                                                       budget_lines=LINES, form="cash"))
    app.submit(cmd.ProposalAction(actor=OP1, proposal_id=proposal_id))
    app.verify(cmd.ProposalAction(actor=VER, proposal_id=proposal_id))
    app.recommend(cmd.ProposalAction(actor=PROV, proposal_id=proposal_id))
    app.set_budget_ceiling(cmd.SetBudgetCeiling(actor=MIN, fiscal_year=2026, source="APBN", ceiling_rp=500_000_000))
    app.approve(cmd.Approve(actor=MIN2, proposal_id=proposal_id, amount_rp=20_000_000, form="cash", fiscal_year=2026,
                            source="APBN"))
    payment = app.instruct(cmd.Instruct(actor=TR, proposal_id=proposal_id, tranche=1, idempotency_key=f"bayar-{n:04d}"))
    return {"proposal_id": proposal_id, "payment_id": payment["payment_id"]}


def payment_state(app: GrantsApplication, ref: dict) -> dict:
    payment, = (p for p in app.grant(ref["proposal_id"])["payments"] if p["payment_id"] == ref["payment_id"])
    return {key: payment.get(key) for key in ("status", "bank_reference", "reason")}


def events_recorded(app: GrantsApplication) -> int:
    return app.recorder.max_notification_id() or 0


def reconcile(app: GrantsApplication, actor: Actor, content: bytes) -> dict:
    return app.reconcile_statement(cmd.ReconcileStatement(
        actor=actor, format="mt940", content_base64=base64.b64encode(content).decode()))


def test_a_batch_file_lists_the_transfers_and_sends_them_once_however_often_it_is_taken(grants):
    refs = [instructed_payment(grants, n) for n in (1, 2)]
    taken = grants.take_batch(cmd.TakeBatch(actor=TR, payments=refs))
    rows = list(csv.reader(io.StringIO(taken["content"])))
    assert rows[1:] == [
        ["0206-01-000001-50-1", "KUBE Mawar 1", "BRI", str(TRANCHE_1), payment_reference(refs[0]["payment_id"]),
         "BLPS UEP Tahap 1 KUBE Mawar 1"],
        ["0206-01-000002-50-1", "KUBE Mawar 2", "BRI", str(TRANCHE_1), payment_reference(refs[1]["payment_id"]),
         "BLPS UEP Tahap 1 KUBE Mawar 2"],
        ["TOTAL", "2", str(2 * TRANCHE_1)]]
    assert taken["file_name"].endswith("-2trx-Rp28000000.csv") and not taken["repeated"]
    assert [payment_state(grants, ref)["status"] for ref in refs] == ["sent", "sent"]

    recorded = events_recorded(grants)
    again = grants.take_batch(cmd.TakeBatch(actor=TR2, payments=list(reversed(refs))))
    assert again["repeated"] and again["batch_id"] == taken["batch_id"] and again["total_rp"] == 2 * TRANCHE_1
    with pytest.raises(NotYours) as elsewhere:  # the file names the groups' accounts: not for another region
        grants.take_batch(cmd.TakeBatch(actor=TR_OTHER, payments=refs))
    assert elsewhere.value.rule == "region.scope"
    assert events_recorded(grants) == recorded


def test_a_batch_with_a_group_without_a_bank_account_is_refused_and_sends_nothing(grants):
    refs = [instructed_payment(grants, 1), instructed_payment(grants, 2, with_account=False)]
    recorded = events_recorded(grants)
    with pytest.raises(RuleViolated) as refusal:
        grants.take_batch(cmd.TakeBatch(actor=TR, payments=refs))
    assert refusal.value.rule == "batch.bank_account"
    assert events_recorded(grants) == recorded
    assert [payment_state(grants, ref)["status"] for ref in refs] == ["instructed", "instructed"]


def test_a_batch_listing_a_payment_twice_is_refused(grants):
    ref = instructed_payment(grants, 1)
    with pytest.raises(ValidationFailed) as refusal:
        grants.take_batch(cmd.TakeBatch(actor=TR, payments=[ref, ref]))
    assert refusal.value.rule == "batch.duplicate"
    assert payment_state(grants, ref)["status"] == "instructed"


def test_a_statement_is_reconciled_exactly_and_uploading_it_again_changes_nothing(grants):
    refs = [instructed_payment(grants, n) for n in (1, 2, 3, 4)]  # matched, amount differs, returned, not listed
    grants.take_batch(cmd.TakeBatch(actor=TR, payments=refs))
    reference = {n: payment_reference(ref["payment_id"]) for n, ref in enumerate(refs)}
    statement = mt940(("D", TRANCHE_1, reference[0], "BRI2612020001", "TRF KUBE MAWAR 1"),
                      ("D", TRANCHE_1 - 1_000, reference[1], "BRI2612020002", "TRF KUBE MAWAR 2"),
                      ("D", 5_000_000, "BLPS000000000000", "BRI2612020003", "TRF LAIN"),
                      ("D", TRANCHE_1, reference[0], "BRI2612020001", "TRF KUBE MAWAR 1"),
                      ("C", TRANCHE_1, reference[2], "BRI2612020004", "RETUR REKENING TIDAK DITEMUKAN"))

    result = reconcile(grants, TR2, statement)  # TR instructed: another treasurer records the bank's word
    assert [(line["line"], line["verdict"], line["awaits_decision"]) for line in result["lines"]] == [
        (1, "confirm", False), (2, "amount_differs", True), (3, "unknown_reference", True), (4, "duplicate", True),
        (5, "fail", False)]
    assert (result["applied"], result["awaiting"], result["repeated"]) == (2, 3, False)
    states = [payment_state(grants, ref) for ref in refs]
    assert states == [
        {"status": "confirmed", "bank_reference": "BRI2612020001", "reason": None},
        {"status": "sent", "bank_reference": None, "reason": None},
        {"status": "failed", "bank_reference": None, "reason": "RETUR REKENING TIDAK DITEMUKAN"},
        {"status": "sent", "bank_reference": None, "reason": None}]

    recorded = events_recorded(grants)
    again = reconcile(grants, TR2, statement)
    assert again["repeated"] and again["lines"] == result["lines"] and again["statement_id"] == result["statement_id"]
    assert events_recorded(grants) == recorded
    assert [payment_state(grants, ref) for ref in refs] == states


def test_the_treasurer_who_instructed_a_payment_does_not_confirm_it_by_uploading_the_statement(grants):
    ref = instructed_payment(grants, 1)
    grants.take_batch(cmd.TakeBatch(actor=TR, payments=[ref]))
    result = reconcile(grants, TR, mt940(("D", TRANCHE_1, payment_reference(ref["payment_id"]), "BRI1", "TRF")))
    assert [(line["verdict"], line["awaits_decision"]) for line in result["lines"]] == [("refused", True)]
    assert "another treasurer" in result["lines"][0]["detail"]
    assert payment_state(grants, ref)["status"] == "sent"


def test_another_regions_treasurer_finds_no_payment_of_theirs_in_the_statement(grants):
    ref = instructed_payment(grants, 1)
    grants.take_batch(cmd.TakeBatch(actor=TR, payments=[ref]))
    statement = mt940(("D", TRANCHE_1, payment_reference(ref["payment_id"]), "BRI1", "T"))
    result = reconcile(grants, TR_OTHER, statement)
    assert [line["verdict"] for line in result["lines"]] == ["unknown_reference"]
    assert payment_state(grants, ref)["status"] == "sent"

    # Reconciled in its own region, the same statement confirms the payment; uploaded again from the other region it
    # does not answer with what it did here (whose payment, which proposal), nor change anything.
    ours = reconcile(grants, TR2, statement)
    assert [line["verdict"] for line in ours["lines"]] == ["confirm"] and not ours["repeated"]
    recorded = events_recorded(grants)
    theirs = reconcile(grants, TR_OTHER, statement)
    assert theirs["repeated"] and theirs["lines"] == result["lines"]
    assert ref["payment_id"] not in str(theirs) and ref["proposal_id"] not in str(theirs)
    assert events_recorded(grants) == recorded and payment_state(grants, ref)["status"] == "confirmed"


def test_only_a_treasurer_takes_a_batch_or_reconciles_a_statement_checked_in_grants_itself(grants):
    ref = instructed_payment(grants, 1)
    recorded = events_recorded(grants)
    with pytest.raises(NotYours) as batch_refusal:
        grants.take_batch(cmd.TakeBatch(actor=OP1, payments=[ref]))
    with pytest.raises(NotYours) as statement_refusal:
        reconcile(grants, OP1, mt940(("D", TRANCHE_1, payment_reference(ref["payment_id"]), "BRI1", "TRF")))
    assert batch_refusal.value.rule == statement_refusal.value.rule == "role.forbidden"
    assert events_recorded(grants) == recorded
    assert payment_state(grants, ref)["status"] == "instructed"
