"""Grants public events: each domain event mapped to its public contract (``shared.contracts.grants``), the only
form in which grants' history leaves the service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from services.grants.domain import Budget, Grant, LedgerSeal, Proposal
from shared.contracts import EventData
from shared.contracts import grants as public

if TYPE_CHECKING:
    from services.grants.application import GrantsApplication


def _at(app: GrantsApplication, e) -> Aggregate:
    """The aggregate as this event left it."""
    return app.repository.get(e.originator_id, version=e.originator_version)


def _proposal_fields(app: GrantsApplication, e) -> dict:
    proposal = _at(app, e)
    return {"proposal_id": proposal.id, "group_id": proposal.group_id, "village_code": proposal.village_code}


def _grant_fields(app: GrantsApplication, e) -> dict:
    grant = _at(app, e)
    return {"grant_id": grant.id, "proposal_id": grant.proposal_id, "group_id": grant.group_id,
            "village_code": grant.village_code}


def _budget_ceiling(app: GrantsApplication, e) -> EventData:
    budget = _at(app, e)
    return public.BudgetCeilingSetV1(budget_id=budget.id, fiscal_year=budget.fiscal_year, source=budget.source,
                                     ceiling_rp=e.ceiling_rp, set_by=e.set_by)


def _approved(app: GrantsApplication, e) -> EventData:
    grant_tranches = [public.TrancheV1(number=t.number, amount_rp=t.amount_rp)
                      for t in app.repository.get(Grant.create_id(e.originator_id), version=1).tranches]
    return public.ProposalApprovedV1(**_proposal_fields(app, e), by=e.by, amount_rp=e.amount_rp, form=e.form,
                                     fiscal_year=e.fiscal_year, source=e.source, tranches=grant_tranches)


def _payment(app: GrantsApplication, e) -> dict:
    return _at(app, e).payments[e.payment_id]


PUBLIC_EVENTS: dict[type, Callable[[GrantsApplication, object], EventData]] = {
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
        tranches=[public.TrancheV1(number=t.number, amount_rp=t.amount_rp) for t in e.tranches]),
    Grant.Instructed: lambda app, e: public.DisbursementInstructedV1(
        **_grant_fields(app, e), payment_id=e.payment_id, by=e.by, tranche=e.tranche, amount_rp=e.amount_rp),
    Grant.Sent: lambda app, e: public.DisbursementSentV1(**_grant_fields(app, e), payment_id=e.payment_id, by=e.by),
    Grant.Confirmed: lambda app, e: public.DisbursementConfirmedV1(
        **_grant_fields(app, e), payment_id=e.payment_id, by=e.by, tranche=_payment(app, e)["tranche"],
        amount_rp=_payment(app, e)["amount_rp"], bank_reference=e.bank_reference),
    Grant.Failed: lambda app, e: public.DisbursementFailedV1(**_grant_fields(app, e), payment_id=e.payment_id,
                                                             by=e.by, reason=e.reason),
    Grant.PaymentCancelled: lambda app, e: public.DisbursementCancelledV1(
        **_grant_fields(app, e), payment_id=e.payment_id, by=e.by, reason=e.reason),
    Grant.Delivered: lambda app, e: public.DisbursementDeliveredV1(
        **_grant_fields(app, e), payment_id=e.payment_id, by=e.by, tranche=e.tranche, amount_rp=e.amount_rp,
        items=[public.HandoverItemV1(item=i.item, quantity=i.quantity, value_rp=i.value_rp) for i in e.items],
        handover_date=e.handover_date, receiver=e.receiver),
    Grant.LpjSubmitted: lambda app, e: public.LpjSubmittedV1(**_grant_fields(app, e), tranche=e.tranche,
                                                             total_rp=e.total_rp, lines=len(e.lines), by=e.by),
    Grant.LpjAccepted: lambda app, e: public.LpjAcceptedV1(**_grant_fields(app, e), tranche=e.tranche, by=e.by),
    Grant.LpjReturned: lambda app, e: public.LpjReturnedV1(**_grant_fields(app, e), tranche=e.tranche,
                                                           reason=e.reason, by=e.by),
    Grant.Visited: lambda app, e: public.MonitoringRecordedV1(
        **_grant_fields(app, e), visit_date=e.visit_date, business_status=e.business_status,
        monthly_revenue_rp=e.monthly_revenue_rp, by=e.by),
    LedgerSeal.Sealed: lambda app, e: public.LedgerSealedV1(seq=e.seq, head_hash=e.head_hash, by=e.by),
    LedgerSeal.Resealed: lambda app, e: public.LedgerSealedV1(seq=e.seq, head_hash=e.head_hash, by=e.by),
    Grant.Cancelled: lambda app, e: public.GrantCancelledV1(**_grant_fields(app, e), reason=e.reason, by=e.by),
    Grant.Refunded: lambda app, e: public.RefundRecordedV1(**_grant_fields(app, e), amount_rp=e.amount_rp,
                                                           reason=e.reason, reference=e.reference, by=e.by),
}
