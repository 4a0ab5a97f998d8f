"""Grants public events: each domain event mapped to its public contract (``shared.contracts.grants``), the only
form in which grants' history leaves the service.

A pure field map: since class_version 2 (``shared.versioning``) each domain event carries
what its public event needs (the proposal's group and village, the grant's proposal, group and village, a
confirmation's tranche and amount, an approval's tranches, a ceiling's year and source; since v3 a ceiling's
region, an approval's budget region and decree, an LPJ's reconciliation — read as national, decree-less and
unreconciled from events stored before), so mapping an event reads nothing and the relay builds a page of
envelopes without replaying a single aggregate.

Events stored before v2: the upcaster reads them with those fields None, and for them alone (``versioning.carried``)
``_stored_before_v2`` reads the aggregate as the event left it (what every event cost before v2: one replay each).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from services.grants.banking import APPLIED, BankStatement, TransferBatch
from services.grants.domain import Budget, Grant, LedgerSeal, Proposal
from shared import versioning
from shared.contracts import EventData
from shared.contracts import grants as public

if TYPE_CHECKING:
    from services.grants.application import GrantsApplication


def _stored_before_v2(app: GrantsApplication, e, names: Sequence[str]) -> list[Any]:
    """The legacy path, for events stored before v2: ``names`` as the aggregate held them when the event happened
    (an approval's tranches: its grant's, as opened with it; a confirmation's tranche and amount: its payment's)."""
    aggregate = app.repository.get(e.originator_id, version=e.originator_version)

    def value(name: str) -> Any:
        if name == "tranches":
            return app.repository.get(Grant.create_id(e.originator_id), version=1).tranches
        if isinstance(e, Grant.Confirmed) and name in ("tranche", "amount_rp"):
            return aggregate.payments[e.payment_id][name]
        return getattr(aggregate, name)

    return [value(name) for name in names]


def _proposal_fields(app: GrantsApplication | None, e) -> dict:
    group_id, village_code = versioning.carried(e, ("group_id", "village_code"), partial(_stored_before_v2, app, e))
    return {"proposal_id": e.originator_id, "group_id": group_id, "village_code": village_code}


def _grant_fields(app: GrantsApplication | None, e) -> dict:
    proposal_id, group_id, village_code = versioning.carried(e, ("proposal_id", "group_id", "village_code"),
                                                             partial(_stored_before_v2, app, e))
    return {"grant_id": e.originator_id, "proposal_id": proposal_id, "group_id": group_id,
            "village_code": village_code}


def _tranches(tranches) -> list[public.TrancheV1]:
    return [public.TrancheV1(number=t.number, amount_rp=t.amount_rp) for t in tranches]


def _handover(e) -> dict:
    return {"payment_id": e.payment_id, "by": e.by, "tranche": e.tranche, "amount_rp": e.amount_rp,
            "items": [public.HandoverItemV1(item=i.item, quantity=i.quantity, value_rp=i.value_rp) for i in e.items],
            "handover_date": e.handover_date, "receiver": e.receiver}


def _attachment(e) -> dict:
    return {"kind": e.kind, "sha256": e.sha256, "size": e.size, "media_type": e.media_type, "by": e.by}


def _budget_ceiling(app: GrantsApplication | None, e) -> EventData:
    fiscal_year, source = versioning.carried(e, ("fiscal_year", "source"), partial(_stored_before_v2, app, e))
    return public.BudgetCeilingSetV2(budget_id=e.originator_id, fiscal_year=fiscal_year, source=source,
                                     region=e.region, ceiling_rp=e.ceiling_rp, set_by=e.set_by)


def _approved(app: GrantsApplication | None, e) -> EventData:
    group_id, village_code, tranches = versioning.carried(e, ("group_id", "village_code", "tranches"),
                                                          partial(_stored_before_v2, app, e))
    return public.ProposalApprovedV2(proposal_id=e.originator_id, group_id=group_id, village_code=village_code,
                                     by=e.by, amount_rp=e.amount_rp, form=e.form, fiscal_year=e.fiscal_year,
                                     source=e.source, budget_region=e.budget_region, decree_number=e.decree_number,
                                     tranches=_tranches(tranches))


def _confirmed(app: GrantsApplication | None, e) -> EventData:
    proposal_id, group_id, village_code, tranche, amount_rp = versioning.carried(
        e, ("proposal_id", "group_id", "village_code", "tranche", "amount_rp"), partial(_stored_before_v2, app, e))
    return public.DisbursementConfirmedV1(grant_id=e.originator_id, proposal_id=proposal_id, group_id=group_id,
                                          village_code=village_code, payment_id=e.payment_id, by=e.by,
                                          tranche=tranche, amount_rp=amount_rp, bank_reference=e.bank_reference)


PUBLIC_EVENTS: dict[type, Callable[[GrantsApplication | None, object], EventData]] = {
    Budget.Opened: _budget_ceiling,
    Budget.CeilingSet: _budget_ceiling,
    Budget.Committed: lambda app, e: public.BudgetCommittedV1(budget_id=e.originator_id, proposal_id=e.proposal_id,
                                                              amount_rp=e.amount_rp),
    Budget.Released: lambda app, e: public.BudgetReleasedV1(budget_id=e.originator_id, proposal_id=e.proposal_id,
                                                            amount_rp=e.amount_rp, reason=e.reason),
    Proposal.Drafted: lambda app, e: public.ProposalDraftedV1(
        proposal_id=e.originator_id, group_id=e.group_id, village_code=e.village_code, by=e.drafted_by,
        requested_rp=e.requested_rp, form=e.form, member_households=e.member_households),
    Proposal.Submitted: lambda app, e: public.ProposalSubmittedV1(**_proposal_fields(app, e), by=e.by),
    Proposal.Resubmitted: lambda app, e: public.ProposalResubmittedV1(**_proposal_fields(app, e), by=e.by,
                                                                      requested_rp=e.requested_rp, form=e.form),
    Proposal.Verified: lambda app, e: public.ProposalVerifiedV1(**_proposal_fields(app, e), by=e.by),
    Proposal.Recommended: lambda app, e: public.ProposalRecommendedV1(**_proposal_fields(app, e), by=e.by),
    Proposal.Approved: _approved,
    Proposal.Returned: lambda app, e: public.ProposalReturnedV1(**_proposal_fields(app, e), by=e.by, level=e.level,
                                                                reason=e.reason),
    Proposal.Rejected: lambda app, e: public.ProposalRejectedV1(**_proposal_fields(app, e), by=e.by, level=e.level,
                                                                reason=e.reason),
    Proposal.Flagged: lambda app, e: public.ProposalFlaggedV1(**_proposal_fields(app, e), by="system",
                                                              reason=e.reason),
    Proposal.Cancelled: lambda app, e: public.ProposalCancelledV1(**_proposal_fields(app, e), by=e.by,
                                                                  reason=e.reason),
    Grant.Opened: lambda app, e: public.GrantOpenedV1(
        grant_id=e.originator_id, proposal_id=e.proposal_id, group_id=e.group_id, village_code=e.village_code,
        amount_rp=e.amount_rp, form=e.form,
        tranches=_tranches(e.tranches)),
    Grant.Instructed: lambda app, e: public.DisbursementInstructedV1(
        **_grant_fields(app, e), payment_id=e.payment_id, by=e.by, tranche=e.tranche, amount_rp=e.amount_rp),
    Grant.Sent: lambda app, e: public.DisbursementSentV1(**_grant_fields(app, e), payment_id=e.payment_id, by=e.by),
    Grant.Confirmed: _confirmed,
    Grant.Failed: lambda app, e: public.DisbursementFailedV1(**_grant_fields(app, e), payment_id=e.payment_id,
                                                             by=e.by, reason=e.reason),
    Grant.PaymentCancelled: lambda app, e: public.DisbursementCancelledV1(
        **_grant_fields(app, e), payment_id=e.payment_id, by=e.by, reason=e.reason),
    Grant.DeliveryRecorded: lambda app, e: public.DeliveryRecordedV1(**_grant_fields(app, e), **_handover(e)),
    Grant.Delivered: lambda app, e: public.DisbursementDeliveredV1(**_grant_fields(app, e), **_handover(e)),
    Grant.LpjSubmitted: lambda app, e: public.LpjSubmittedV1(**_grant_fields(app, e), tranche=e.tranche,
                                                             total_rp=e.total_rp, lines=len(e.lines), by=e.by),
    Grant.LpjAccepted: lambda app, e: public.LpjAcceptedV2(
        **_grant_fields(app, e), tranche=e.tranche, by=e.by, spent_rp=e.spent_rp, tranche_rp=e.tranche_rp,
        refund_reference=e.refund_reference, explanation=e.explanation),
    Grant.LpjReturned: lambda app, e: public.LpjReturnedV1(**_grant_fields(app, e), tranche=e.tranche,
                                                           reason=e.reason, by=e.by),
    Grant.Visited: lambda app, e: public.MonitoringRecordedV1(
        **_grant_fields(app, e), visit_date=e.visit_date, business_status=e.business_status,
        monthly_revenue_rp=e.monthly_revenue_rp, by=e.by),
    Grant.Monitored: lambda app, e: public.MonitoringRecordedV2(
        **_grant_fields(app, e), visit_date=e.visit_date, business_status=e.business_status,
        monthly_revenue_rp=e.monthly_revenue_rp, members_active=e.members_active,
        member_households=e.member_households, savings_rp=e.savings_rp, iuran_rp=e.iuran_rp, trend=e.trend,
        stage=e.stage, by=e.by),
    Proposal.DocumentAttached: lambda app, e: public.DocumentAttachedV1(
        proposal_id=e.originator_id, grant_id=None, group_id=e.group_id, village_code=e.village_code,
        **_attachment(e), payment_id=None, tranche=None),
    Grant.DocumentAttached: lambda app, e: public.DocumentAttachedV1(
        **_grant_fields(app, e), **_attachment(e), payment_id=e.payment_id, tranche=e.tranche),
    LedgerSeal.Sealed: lambda app, e: public.LedgerSealedV1(seq=e.seq, head_hash=e.head_hash, by=e.by),
    LedgerSeal.Resealed: lambda app, e: public.LedgerSealedV1(seq=e.seq, head_hash=e.head_hash, by=e.by),
    Grant.Cancelled: lambda app, e: public.GrantCancelledV1(**_grant_fields(app, e), reason=e.reason, by=e.by),
    Grant.Refunded: lambda app, e: public.RefundRecordedV1(**_grant_fields(app, e), amount_rp=e.amount_rp,
                                                           reason=e.reason, reference=e.reference, by=e.by),
    TransferBatch.Taken: lambda app, e: public.TransferBatchTakenV1(
        batch_id=e.originator_id, payment_ids=e.payment_ids, total_rp=e.total_rp, layout=e.layout, by=e.by),
    BankStatement.Reconciled: lambda app, e: public.StatementReconciledV1(
        statement_id=e.originator_id, sha256=e.sha256, region=e.region, format=e.form, lines=len(e.verdicts),
        applied=sum(1 for v in e.verdicts if v.verdict in APPLIED),
        awaiting=sum(1 for v in e.verdicts if v.awaits_decision), by=e.by),
}
