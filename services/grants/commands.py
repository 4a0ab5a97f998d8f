"""Grants commands as they arrive at the edge, checked for shape; amounts are integer rupiah (strict)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, StrictInt

from shared.actor_assertion import SignedActor
from shared.edge import Command, PositiveRupiah, Rupiah, Text, UserRegion, Uuid
from shared.vocabulary import BUDGET_SOURCES, BUSINESS_STATUSES, DOCUMENT_KINDS, FORMS


class Acting(Command):
    actor: SignedActor  # verified at the edge: signed by the gateway or the operators' CLI


class GroupGrants(Acting):
    """A read: a KUBE's proposals and grants, for someone whose region covers the group (a person's export)."""

    group_id: Uuid


class SetBudgetCeiling(Acting):
    fiscal_year: int = Field(ge=2000, le=2100)
    source: Literal[BUDGET_SOURCES]  # type: ignore[valid-type]
    region: UserRegion = ""  # '' national, '18' a province, '18.01' a regency
    ceiling_rp: Rupiah


class BudgetLineIn(Command):
    item: str = Field(min_length=1, max_length=200)
    quantity: StrictInt = Field(ge=1, le=1_000_000)
    unit: str = Field(min_length=1, max_length=50)
    unit_price_rp: PositiveRupiah


class DraftProposal(Acting):
    group_id: Uuid
    business_plan: Text
    budget_lines: list[BudgetLineIn] = Field(min_length=1, max_length=200)
    form: Literal[FORMS]  # type: ignore[valid-type]


class ProposalAction(Acting):
    proposal_id: Uuid


class ReasonedAction(ProposalAction):
    reason: Text


class Resubmit(ProposalAction):
    business_plan: str | None = Field(default=None, min_length=1, max_length=2000)
    budget_lines: list[BudgetLineIn] | None = Field(default=None, min_length=1, max_length=200)
    form: Literal[FORMS] | None = None  # type: ignore[valid-type]


class Approve(ProposalAction):
    amount_rp: PositiveRupiah
    form: Literal[FORMS]  # type: ignore[valid-type]
    fiscal_year: int = Field(ge=2000, le=2100)
    source: Literal[BUDGET_SOURCES]  # type: ignore[valid-type]
    decree_number: str = Field(default="", max_length=100)  # the regent's decree (SK Bupati) of an APBD-kabupaten grant


class Instruct(Acting):
    proposal_id: Uuid
    tranche: int = Field(ge=1, le=10)
    idempotency_key: str = Field(min_length=8, max_length=200)


class PaymentAction(Acting):
    proposal_id: Uuid
    payment_id: Uuid


class Confirm(PaymentAction):
    bank_reference: str = Field(min_length=1, max_length=100)


class Fail(PaymentAction):
    reason: Text


class HandoverItemIn(Command):
    item: str = Field(min_length=1, max_length=200)
    quantity: StrictInt = Field(ge=1, le=1_000_000)
    value_rp: PositiveRupiah


class Deliver(Acting):
    proposal_id: Uuid
    tranche: int = Field(ge=1, le=10)
    idempotency_key: str = Field(min_length=8, max_length=200)
    items: list[HandoverItemIn] = Field(min_length=1, max_length=200)
    handover_date: date
    receiver: str = Field(min_length=1, max_length=200)


class SpendingLineIn(Command):
    description: str = Field(min_length=1, max_length=300)
    receipt_number: str = Field(min_length=1, max_length=100)
    receipt_date: date
    amount_rp: PositiveRupiah


class SubmitLpj(Acting):
    proposal_id: Uuid
    tranche: int = Field(ge=1, le=10)
    lines: list[SpendingLineIn] = Field(min_length=1, max_length=500)


class ReviewLpj(Acting):
    proposal_id: Uuid
    tranche: int = Field(ge=1, le=10)
    accept: bool
    reason: str = Field(default="", max_length=2000)
    # an unspent balance: returned (the reference of its refund) or explained
    refund_reference: str = Field(default="", max_length=100)
    explanation: str = Field(default="", max_length=2000)


class RecordVisit(Acting):
    proposal_id: Uuid
    visit_date: date
    business_status: Literal[BUSINESS_STATUSES]  # type: ignore[valid-type]
    monthly_revenue_rp: Rupiah
    members_active: StrictInt = Field(ge=0)  # member households still active in the business
    savings_rp: Rupiah
    iuran_rp: Rupiah  # iuran kesetiakawanan sosial paid since the last visit
    notes: str = Field(default="", max_length=2000)


class RecordRefund(Acting):
    proposal_id: Uuid
    amount_rp: PositiveRupiah
    reason: Text
    reference: str = Field(min_length=1, max_length=100)


class PaymentRef(Command):
    proposal_id: Uuid
    payment_id: Uuid


class TakeBatch(Acting):
    """Instructed payments into one bulk-transfer file, in a bank's layout (None: the office's default)."""

    payments: list[PaymentRef] = Field(min_length=1, max_length=500)
    layout: str | None = Field(default=None, max_length=50)


class ReconcileStatement(Acting):
    """The bank's statement, its bytes as uploaded (base64, so its hash is the file's)."""

    format: Literal["mt940", "csv"]
    content_base64: str = Field(min_length=4, max_length=8_000_000)


class AttachDocument(Acting):
    """Evidence for a proposal or its grant, its bytes as uploaded (base64: the content decides its type)."""

    proposal_id: Uuid
    kind: Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]
    content_base64: str = Field(min_length=4, max_length=14_000_000)  # 10 MB, base64
    payment_id: Uuid | None = None  # a BAST's or delivery photo's equipment delivery
    tranche: int | None = Field(default=None, ge=1, le=10)  # a receipt's LPJ
