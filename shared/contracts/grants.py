"""Public events of the grants service. Amounts are integer rupiah."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.contracts import EventData, contract
from shared.vocabulary import BUDGET_SOURCES, BUSINESS_STATUSES, DOCUMENT_KINDS, FORMS, KUBE_STAGES, REVENUE_TRENDS

BudgetSource = Literal[BUDGET_SOURCES]  # type: ignore[valid-type]
Form = Literal[FORMS]  # type: ignore[valid-type]
Rupiah = Annotated[StrictInt, Field(ge=0)]


class TrancheV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    number: int = Field(ge=1)
    amount_rp: Rupiah


class HandoverItemV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    item: str
    quantity: int = Field(ge=1)
    value_rp: Rupiah


# --- budgets ---------------------------------------------------------------------------------------------

@contract("grants.budget.ceiling_set", 1)
class BudgetCeilingSetV1(EventData):
    """The ministry set (or changed) the budget ceiling (pagu) of a fiscal year and source."""

    budget_id: uuid.UUID
    fiscal_year: int = Field(ge=2000, le=2100)
    source: BudgetSource
    ceiling_rp: Rupiah
    set_by: str


@contract("grants.budget.ceiling_set", 2)
class BudgetCeilingSetV2(BudgetCeilingSetV1):
    """Whoever pays set (or changed) the ceiling of a fiscal year, source and region: APBN by the ministry, national
    ('') or allotted to a province; APBD-provinsi by a province for itself; APBD-kabupaten by a regency's head of
    office for itself. A ceiling set before budgets had regions is national."""

    region: str = Field(pattern=r"^$|^[0-9]{2}(\.[0-9]{2})?$")


class BudgetMovement(EventData):
    budget_id: uuid.UUID
    proposal_id: uuid.UUID
    amount_rp: Rupiah


@contract("grants.budget.committed", 1)
class BudgetCommittedV1(BudgetMovement):
    """An approval committed part of a budget."""


@contract("grants.budget.released", 1)
class BudgetReleasedV1(BudgetMovement):
    """A cancellation released committed budget."""

    reason: str


# --- proposals -------------------------------------------------------------------------------------------

class ProposalEvent(EventData):
    proposal_id: uuid.UUID
    group_id: uuid.UUID
    village_code: str
    by: str


@contract("grants.proposal.drafted", 1)
class ProposalDraftedV1(ProposalEvent):
    """An operator drafted a group's proposal: its requested amount and form."""

    requested_rp: Rupiah
    form: Form
    member_households: int = Field(ge=1)


@contract("grants.proposal.submitted", 1)
class ProposalSubmittedV1(ProposalEvent):
    """The operator submitted the proposal to the district."""


@contract("grants.proposal.resubmitted", 1)
class ProposalResubmittedV1(ProposalEvent):
    """A returned proposal came back, revised."""

    requested_rp: Rupiah
    form: Form


@contract("grants.proposal.verified", 1)
class ProposalVerifiedV1(ProposalEvent):
    """The district verified the proposal and sent it to the province."""


@contract("grants.proposal.recommended", 1)
class ProposalRecommendedV1(ProposalEvent):
    """The province recommended the proposal to the ministry."""


@contract("grants.proposal.approved", 1)
class ProposalApprovedV1(ProposalEvent):
    """The ministry approved the grant: amount, form, budget, and its tranches."""

    amount_rp: Rupiah
    form: Form
    fiscal_year: int
    source: BudgetSource
    tranches: list[TrancheV1]


@contract("grants.proposal.approved", 2)
class ProposalApprovedV2(ProposalApprovedV1):
    """Whoever pays approved the grant — the ministry (APBN), the province (APBD-provinsi) or the regency's head of
    office on the regent's decree (APBD-kabupaten) —: amount, form, the budget (year, source, region) it commits,
    the decree's number (APBD-kabupaten only), and its tranches."""

    budget_region: str
    decree_number: str | None


@contract("grants.proposal.returned", 1)
class ProposalReturnedV1(ProposalEvent):
    """A level returned the proposal for revision, with its reason."""

    level: str
    reason: str


@contract("grants.proposal.rejected", 1)
class ProposalRejectedV1(ProposalEvent):
    """A level rejected the proposal (final), with its reason."""

    level: str
    reason: str


@contract("grants.proposal.flagged", 1)
class ProposalFlaggedV1(ProposalEvent):
    """The group or one of its households changed before approval; a reviewer must look again."""

    reason: str


@contract("grants.proposal.cancelled", 1)
class ProposalCancelledV1(ProposalEvent):
    """An approved grant was cancelled before any money left; its budget was released."""

    reason: str


# --- the grant's money -----------------------------------------------------------------------------------

class GrantEvent(EventData):
    grant_id: uuid.UUID
    proposal_id: uuid.UUID
    group_id: uuid.UUID
    village_code: str


@contract("grants.grant.opened", 1)
class GrantOpenedV1(GrantEvent):
    """An approved proposal became a grant with its tranches (default 70 % / 30 %)."""

    amount_rp: Rupiah
    form: Form
    tranches: list[TrancheV1]


@contract("grants.grant.cancelled", 1)
class GrantCancelledV1(GrantEvent):
    """The grant of a cancelled approval: nothing is paid on it any more (its budget was released, see
    grants.budget.released)."""

    reason: str
    by: str


class PaymentEvent(GrantEvent):
    payment_id: str
    by: str


@contract("grants.disbursement.instructed", 1)
class DisbursementInstructedV1(PaymentEvent):
    """The treasurer instructed a cash transfer of one tranche."""

    tranche: int = Field(ge=1)
    amount_rp: Rupiah


@contract("grants.disbursement.sent", 1)
class DisbursementSentV1(PaymentEvent):
    """The instruction went to the bank."""


@contract("grants.disbursement.confirmed", 1)
class DisbursementConfirmedV1(PaymentEvent):
    """The bank confirmed the transfer: the tranche is paid."""

    tranche: int = Field(ge=1)
    amount_rp: Rupiah
    bank_reference: str


@contract("grants.disbursement.failed", 1)
class DisbursementFailedV1(PaymentEvent):
    """The bank refused or returned the transfer; the tranche may be instructed again."""

    reason: str


@contract("grants.disbursement.cancelled", 1)
class DisbursementCancelledV1(PaymentEvent):
    """An instruction was cancelled before it was paid."""

    reason: str


class HandoverEvent(PaymentEvent):
    tranche: int = Field(ge=1)
    amount_rp: Rupiah
    items: list[HandoverItemV1]
    handover_date: date
    receiver: str


@contract("grants.disbursement.handover_recorded", 1)
class DeliveryRecordedV1(HandoverEvent):
    """Equipment was handed over instead of a transfer and its BAST recorded; the tranche is paid when another person
    accepts the handover (grants.disbursement.delivered)."""


@contract("grants.disbursement.delivered", 1)
class DisbursementDeliveredV1(HandoverEvent):
    """Another person than who recorded it accepted the handover of equipment (its BAST): the tranche is paid. A
    delivery stored before there was an acceptance step has no handover_recorded event before this one (then by is
    who recorded it)."""


@contract("grants.lpj.submitted", 1)
class LpjSubmittedV1(GrantEvent):
    """The group's accountability report (LPJ) for a tranche was submitted."""

    tranche: int = Field(ge=1)
    total_rp: Rupiah
    lines: int = Field(ge=1)
    by: str


@contract("grants.lpj.accepted", 1)
class LpjAcceptedV1(GrantEvent):
    """The LPJ of a tranche was accepted."""

    tranche: int = Field(ge=1)
    by: str


@contract("grants.lpj.accepted", 2)
class LpjAcceptedV2(LpjAcceptedV1):
    """The LPJ of a tranche was accepted, reconciled: its receipts' total, never above the tranche; a balance left
    unspent returned (the reference of its grants.refund.recorded) or explained. Accepted before LPJs were reconciled:
    all four null."""

    spent_rp: Rupiah | None
    tranche_rp: Rupiah | None
    refund_reference: str | None
    explanation: str | None


@contract("grants.lpj.returned", 1)
class LpjReturnedV1(GrantEvent):
    """The LPJ of a tranche was returned, with the reason."""

    tranche: int = Field(ge=1)
    reason: str
    by: str


@contract("grants.monitoring.recorded", 1)
class MonitoringRecordedV1(GrantEvent):
    """A monitoring visit: the business's status and monthly revenue."""

    visit_date: date
    business_status: Literal[BUSINESS_STATUSES]  # type: ignore[valid-type]
    monthly_revenue_rp: Rupiah
    by: str


@contract("grants.monitoring.recorded", 2)
class MonitoringRecordedV2(MonitoringRecordedV1):
    """A monitoring visit with what the facilitator counted and the ministry's stage it places the group in
    (services/grants/monitoring.yaml); version 1 is a visit recorded before visits were classified."""

    members_active: int = Field(ge=0)
    member_households: int = Field(ge=0)
    savings_rp: Rupiah
    iuran_rp: Rupiah = Field(description="iuran kesetiakawanan sosial paid since the last visit")
    trend: Literal[REVENUE_TRENDS]  # type: ignore[valid-type]
    stage: Literal[KUBE_STAGES]  # type: ignore[valid-type]


@contract("grants.refund.recorded", 1)
class RefundRecordedV1(GrantEvent):
    """Misused funds reclaimed from the group."""

    amount_rp: Rupiah
    reason: str
    reference: str
    by: str


@contract("grants.document.attached", 1)
class DocumentAttachedV1(EventData):
    """Evidence was attached to a proposal (grant_id null) or its grant: the SHA-256 of the file grants stores, so
    the money ledger anchors it; a BAST or delivery photo names its delivery's payment, a receipt its tranche. The
    file itself never leaves grants."""

    proposal_id: uuid.UUID
    grant_id: uuid.UUID | None
    group_id: uuid.UUID
    village_code: str
    kind: Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=1)
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    payment_id: str | None
    tranche: int | None = Field(ge=1)
    by: str


@contract("grants.ledger.sealed", 1)
class LedgerSealedV1(EventData):
    """Today's head of the money ledger's hash chain: keep it outside berdaya (see docs/audit.md)."""

    seq: int = Field(ge=0)
    head_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    by: str


@contract("grants.batch.taken", 1)
class TransferBatchTakenV1(EventData):
    """A treasurer took a bulk-transfer file for instructed payments (each is sent by it: grants.disbursement.sent)."""

    batch_id: uuid.UUID
    payment_ids: list[str]
    total_rp: Rupiah
    layout: str
    by: str


@contract("grants.statement.reconciled", 1)
class StatementReconciledV1(EventData):
    """A bank statement was reconciled once in a region (its SHA-256, the region's treasurers): how many lines it
    had, how many were applied (confirmed or failed payments, each with its own event) and how many wait for a person
    to decide."""

    statement_id: uuid.UUID
    sha256: str
    region: str
    format: Literal["mt940", "csv"]
    lines: int = Field(ge=1)
    applied: int = Field(ge=0)
    awaiting: int = Field(ge=0)
    by: str
