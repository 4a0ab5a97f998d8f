"""The HTTP API's shapes (pydantic): request bodies, query strings, path parameters and responses.

They are the gateway's public contract and generate /openapi.json. Request bodies are the services' commands less
what the gateway fills in from the token (``actor``: the user, role and region). Shapes are checked here
(strictly: JSON types, no unknown fields); vocabularies and programme rules are checked by the service that owns
them, whose refusal comes back as a 400/409 naming the field and the rule. In answers, a NIK or KK is in full for
the operator and the verifier only; every other role gets it masked, ``1801 06•• •••• 0001`` (masking.py).

Longer than ~400 lines because it is the whole public contract of the API in one place (one model per body,
query and answer), the way the route table is one table.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

from shared import edge
from shared.contracts import CATALOG
from shared.edge import PositiveRupiah, Rupiah, Text, UserRegion, Uuid
from shared.vocabulary import (
    ATTENDANCE,
    BDT_STATUSES,
    BUDGET_SOURCES,
    BUSINESS_STATUSES,
    DOCUMENT_KINDS,
    ENROLMENT_STATUSES,
    FORMS,
    GRIEVANCE_CATEGORIES,
    GRIEVANCE_OUTCOMES,
    GRIEVANCE_STATUSES,
    GROUP_DOCUMENT_KINDS,
    GROUP_ROLES,
    PROPOSAL_STATUSES,
    ROLES,
    SEXES,
)

# The shapes every service checks at its edge (shared.edge), with examples for the OpenAPI document.
Nik = Annotated[edge.Nik, Field(examples=["1801064506900001"])]
Kk = Annotated[edge.Kk, Field(examples=["1801060101200001"])]
# A household in a path: its KK, or its id (the console's links carry the id, never the KK).
HouseholdKey = Annotated[edge.HouseholdKey,
                         Field(examples=["1801060101200001", "0b5d2a3e-8c1f-4d2a-9e3b-5f6a7b8c9d0e"])]
VillageCode = Annotated[edge.VillageCode, Field(examples=["18.01.06.2001"])]
RegionCode = Annotated[edge.RegionCode, Field(examples=["18.01"])]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Word = Annotated[str, Field(min_length=1, max_length=100)]
Tranche = Annotated[int, Field(ge=1, le=10)]
BudgetSource = Literal[BUDGET_SOURCES]  # type: ignore[valid-type]
EventType = Literal[tuple(sorted({event_type for event_type, _ in CATALOG}))]  # type: ignore[valid-type]
ContractVersion = Annotated[int, Field(ge=1, le=99)]
GrantForm = Literal[FORMS]  # type: ignore[valid-type]
Attendance = Literal[ATTENDANCE]  # type: ignore[valid-type]
FiscalYear = Annotated[int, Field(ge=2000, le=2100)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
DocumentKind = Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]


class Body(BaseModel):
    """A request body: JSON types are not coerced ("5" is not 5) and unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Params(BaseModel):
    """Query strings and path parameters: text, converted to the declared types; unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Empty(Body):
    """No fields (an empty body is the same as ``{}``)."""


# --- auth and users ----------------------------------------------------------------------------------------

class TokenRequest(Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    role: str
    region: str


class UserIn(Body):
    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._@-]{1,63}$")]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    role: Literal[ROLES]  # type: ignore[valid-type]
    region: UserRegion


class UserOut(BaseModel):
    username: str
    role: str
    region: str
    disabled: bool
    must_change_password: bool = Field(description="an administrator set the password: the user changes it at the "
                                                   "next login (POST /api/v1/auth/password) before anything else")


class Me(UserOut):
    """Who the credential belongs to, as the gateway's database says now."""


class PasswordIn(Body):
    password: Annotated[str, Field(min_length=8, max_length=200)]


class PasswordChange(TokenRequest):
    """The user, their current password, and the new one."""

    new_password: Annotated[str, Field(min_length=8, max_length=200)]


class UserChangeQuery(Params):
    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._@-]{1,63}$")] | None = None


class UserChangeOut(BaseModel):
    username: str
    change: Literal["added", "disabled", "enabled", "password_reset", "password_changed", "identifier_search_granted",
                    "identifier_search_revoked", "public_key_registered", "public_key_replaced"] = Field(
        description="of a DCI client also: identifier_search_granted / _revoked (search by NIK or KK), "
                    "public_key_registered / _replaced (the key its messages are signed with)")
    role: str | None = Field(description="of an added user")
    region: str | None = Field(description="of an added user")
    by: str
    at: str


# --- lists ---------------------------------------------------------------------------------------------------

Item = TypeVar("Item")


class Paging(Params):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    size: Annotated[int, Field(ge=1, le=200)] = 50


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    page: int
    size: int
    total: int


class Open(BaseModel):
    """A response object whose listed fields are guaranteed; services may add more."""

    model_config = ConfigDict(extra="allow")


# --- registry: households ------------------------------------------------------------------------------------

class MemberIn(Body):
    nik: Nik
    name: Name
    sex: Literal[SEXES]  # type: ignore[valid-type]
    birth_date: date
    relation: Word
    marital_status: Annotated[str, Field(max_length=100)] = ""
    occupation: Annotated[str, Field(max_length=100)] = ""


class RegisterHousehold(Body):
    kk: Kk
    dtks_id: Annotated[str, Field(min_length=1, max_length=64)]
    village_code: VillageCode
    address: Annotated[str, Field(max_length=500)] = ""
    decile: Annotated[StrictInt, Field(ge=1, le=10)]
    members: Annotated[list[MemberIn], Field(min_length=1, max_length=30)]


class AddMember(Body):
    member: MemberIn
    reason: Word


class RemoveMember(Body):
    reason: Word
    new_head_nik: Nik | None = None


class MemberChanges(Body):
    name: Name | None = None
    sex: Literal[SEXES] | None = None  # type: ignore[valid-type]
    birth_date: date | None = None
    relation: Word | None = None
    marital_status: Word | None = None
    occupation: Annotated[str, Field(max_length=100)] | None = None


class CorrectMember(Body):
    changes: MemberChanges
    reason: Reason


class ChangeStatus(Body):
    status: Literal[BDT_STATUSES]  # type: ignore[valid-type]
    reason: Reason


class ChangeDecile(Body):
    decile: Annotated[StrictInt, Field(ge=1, le=10)]


class HouseholdSearch(Paging):
    village: VillageCode | None = None
    name: Annotated[str, Field(min_length=2, max_length=100)] | None = None


class Member(Open):
    nik: str
    name: str
    sex: str
    birth_date: str
    relation: str


class Household(Open):
    household_id: str
    kk: str
    dtks_id: str
    village_code: str
    address: str
    decile: int
    bdt_status: str
    members: list[Member]
    active_group: dict[str, Any] | None


class GrantBenefit(Open):
    grant_id: str
    amount_rp: int = Field(description="approved")
    disbursed_rp: int
    refunded_rp: int
    tranches: int
    tranches_paid: int


class ProposalBenefit(Open):
    proposal_id: str
    status: Literal[PROPOSAL_STATUSES]  # type: ignore[valid-type]
    requested_rp: int
    approved_rp: int | None
    fiscal_year: int | None
    source: Literal[BUDGET_SOURCES] | None  # type: ignore[valid-type]
    grant: GrantBenefit | None


class GroupBenefit(Open):
    group_id: str
    village_code: str
    kind: str
    status: str
    proposals: list[ProposalBenefit]


class HouseholdBenefits(Open):
    """What a household already receives from the KUBE programme, for another programme's double-aid check: ids,
    statuses and amounts, no personal data."""

    household_id: str
    village_code: str
    programme: Literal["KUBE"]
    enrolment: Literal[ENROLMENT_STATUSES] = Field(  # type: ignore[valid-type]
        description="receiving: a grant approved; applying: a proposal under way; member: in a KUBE not dissolved")
    groups: list[GroupBenefit]


class HouseholdCreated(BaseModel):
    household_id: str
    kk: str


class HouseholdRow(Open):
    kk: str
    village_code: str


class HistoryEntry(Open):
    event: str
    version: int
    at: str
    by: str | None
    details: dict[str, Any]


class Person(Open):
    nik: str
    name: str
    kk: str
    village_code: str


class AccessLogEntry(Open):
    read_at: str
    username: str
    role: str
    region: str
    purpose: str
    route: str
    read: str
    returned: int


class AccessLog(Open):
    nik: str
    village_code: str
    reads: list[AccessLogEntry]


class AskErasure(Body):
    reason: Reason  # why, never who: kept with the request
    whole_household: bool = False  # the person's whole household; without, the person alone (the household stays)


class ErasureRequest(Open):
    request_id: str
    household_id: str
    person_id: str
    person_only: bool  # the person alone, their household staying (else the whole household)
    reason: str
    requested_by: str
    requested_at: str
    approved_by: str | None
    approved_at: str | None


class ErasureQuery(Params):
    region: RegionCode | None = None


class PendingErasure(Open):
    """A request awaiting a second admin: ids, who asked, when and why — no name, NIK or KK."""

    request_id: str
    household_id: str
    village_code: str
    reason: str
    requested_by: str
    requested_at: str


class PeopleQuery(Paging):
    q: Annotated[str, Field(min_length=2, max_length=100, description="a NIK or KK (16 digits), or any part of a "
                                                                      "name")]
    region: RegionCode | None = None


class PersonFound(Open):
    nik: str
    name: str
    kk: str
    village_code: str
    decile: int
    bdt_status: str


# --- registry: regions ---------------------------------------------------------------------------------------

class RegionRowIn(Body):
    code: RegionCode
    name: Name
    level: Annotated[StrictInt, Field(ge=1, le=4)]


class ImportRegions(Body):
    rows: Annotated[list[RegionRowIn], Field(min_length=1, max_length=100_000)]
    source: Annotated[str, Field(min_length=1, max_length=300)]


class RegionImported(Open):
    codes: int
    sha256: str
    total_codes: int


class RegionQuery(Paging):
    prefix: RegionCode | None = None


class RegionRow(BaseModel):
    code: str
    name: str
    level: int


# --- registry: groups ----------------------------------------------------------------------------------------

class GroupMemberIn(Body):
    kk: Kk
    representative_nik: Nik


class BankAccountIn(Body):
    bank: Word
    number: Annotated[str, Field(pattern=r"^[0-9][0-9 .-]{4,30}$")]
    holder: Name


class FormGroup(Body):
    name: Name
    village_code: VillageCode
    business_type: Word
    kind: Word = "perempuan"
    members: Annotated[list[GroupMemberIn], Field(min_length=1, max_length=40)]
    roles: dict[Literal[GROUP_ROLES], Nik]  # type: ignore[valid-type]
    bank_account: BankAccountIn
    sk_kades: Word


class ChangeGroupMember(Body):
    removed_kk: Kk | None = None
    added: GroupMemberIn | None = None
    reason: Reason


class Dissolve(Body):
    reason: Reason


class GroupQuery(Paging):
    region: RegionCode | None = None
    status: Word | None = None


class GroupRow(Open):
    group_id: str
    name: str
    village_code: str
    status: str


class Group(Open):
    group_id: str
    name: str
    village_code: str
    business_type: str
    kind: str
    status: str
    members: list[dict[str, Any]]


class GroupCreated(BaseModel):
    group_id: str


class CandidateQuery(Params):
    village: VillageCode
    kind: Word = "perempuan"


class Candidate(Open):
    """A household of the village, whether it may join a KUBE of that kind, and who may represent it."""

    kk: str
    decile: int
    bdt_status: str
    members: list[dict[str, Any]]
    eligible: list[dict[str, Any]]
    excluded: dict[str, Any] | None


# --- grants --------------------------------------------------------------------------------------------------

class BudgetLineIn(Body):
    item: Name
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    unit: Annotated[str, Field(min_length=1, max_length=50)]
    unit_price_rp: PositiveRupiah


class DraftProposal(Body):
    group_id: Uuid
    business_plan: Text
    budget_lines: Annotated[list[BudgetLineIn], Field(min_length=1, max_length=200)]
    form: GrantForm


class Reasoned(Body):
    reason: Text


class Resubmit(Body):
    business_plan: Text | None = None
    budget_lines: Annotated[list[BudgetLineIn], Field(min_length=1, max_length=200)] | None = None
    form: GrantForm | None = None


class Approve(Body):
    amount_rp: PositiveRupiah
    form: GrantForm
    fiscal_year: FiscalYear
    source: BudgetSource
    decree_number: Annotated[str, Field(max_length=100, description="the regent's decree (SK Bupati) approving "
                                                                    "an APBD-kabupaten grant")] = ""


class ProposalQuery(Paging):
    region: RegionCode | None = None
    status: Word | None = None
    order: Literal["newest", "oldest"] = Field("newest", description="oldest: the one waiting longest first "
                                                                     "(a reviewer's queue)")


class RegionFilter(Params):
    region: RegionCode | None = None


class ProposalRow(Open):
    proposal_id: str
    group_id: str
    village_code: str
    status: str
    requested_rp: int


class Proposal(Open):
    proposal_id: str
    group_id: str
    group_name: str
    village_code: str
    status: str
    form: str
    requested_rp: int
    budget_lines: list[dict[str, Any]]
    flags: list[str]
    approval: dict[str, Any] | None
    history: list[HistoryEntry]


class ProposalCreated(BaseModel):
    proposal_id: str


class BudgetCeiling(Body):
    ceiling_rp: Rupiah
    region: Annotated[UserRegion, Field(description="'' national (APBN), a province '18' (an APBN allotment or "
                                                    "APBD-provinsi), a regency '18.01' (APBD-kabupaten)")] = ""


class BudgetQuery(Params):
    fiscal_year: FiscalYear | None = None


class Budget(Open):
    budget_id: str
    fiscal_year: int
    source: str
    region: str
    ceiling_rp: int
    committed_rp: int
    available_rp: int


class TrancheOut(Open):
    number: int
    amount_rp: int
    status: str
    lpj: str | None
    lpj_spent_rp: int | None = Field(description="the latest LPJ's receipts, summed")
    lpj_balance_rp: int | None = Field(description="the tranche less the receipts: unspent (negative: receipts "
                                                   "above the tranche)")
    lpj_refund_reference: str | None
    lpj_explanation: str | None


class RefundOut(Open):
    reference: str
    amount_rp: int


class Grant(Open):
    grant_id: str
    proposal_id: str
    group_id: str
    village_code: str
    amount_rp: int
    form: str
    disbursed_rp: int
    family_school_gate_open: bool
    tranches: list[TrancheOut]
    refunds: list[RefundOut]
    payments: list[dict[str, Any]]
    history: list[HistoryEntry]


class Payment(Open):
    payment_id: str


class PayableTranche(Open):
    number: int
    amount_rp: int
    status: str
    payment_id: str | None
    started_by: str | None = Field(description="who instructed the payment or recorded its handover: another user "
                                               "confirms or accepts it")
    payable: bool
    blocked_by: str | None


class Payable(Open):
    """A grant with a tranche the treasurer can pay, is paying, or waits to pay (and what it waits for)."""

    proposal_id: str
    group_name: str
    village_code: str
    amount_rp: int
    tranches: list[PayableTranche]


class PaymentRef(Body):
    proposal_id: Uuid
    payment_id: Uuid


class TakeBatch(Body):
    payments: Annotated[list[PaymentRef], Field(min_length=1, max_length=500)]
    layout: Annotated[str, Field(max_length=50)] | None = Field(default=None, description="a layout of "
                                                                "services/grants/bank_layouts.yaml; none: the default")


class TransferBatch(Open):
    """The bulk-transfer file (CSV text) to upload to the bank; its payments are sent by taking it."""

    batch_id: str
    file_name: str
    content: str
    count: int
    total_rp: int
    repeated: bool = Field(description="the same selection was taken before: the same file, nothing sent again")


class AttachTo(Params):
    """What an uploaded file proves: its kind, and for a BAST or delivery photo its delivery's payment, for a
    receipt its tranche."""

    kind: DocumentKind
    payment_id: Uuid | None = None
    tranche: Tranche | None = None


class Document(Open):
    """A file attached to a proposal or its grant: its SHA-256 is in the event that attached it (the ledger)."""

    kind: DocumentKind
    sha256: Sha256
    size: int
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    by: str
    attached_at: datetime
    payment_id: str | None
    tranche: int | None


class AttachToGroup(Params):
    """Which of a KUBE's own papers an uploaded file is."""

    kind: Literal[GROUP_DOCUMENT_KINDS]  # type: ignore[valid-type]


class GroupDocument(Open):
    """A KUBE's own paper: its SHA-256 is in the registry's event that attached it."""

    kind: Literal[GROUP_DOCUMENT_KINDS]  # type: ignore[valid-type]
    sha256: Sha256
    size: int
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    by: str
    attached_at: datetime


class StatementFormat(Params):
    format: Literal["mt940", "csv"]


class StatementLine(Open):
    line: int
    reference: str | None
    amount_rp: int
    bank_reference: str
    verdict: str = Field(description="confirm, fail, recorded_before; or, waiting for a person: amount_differs, "
                                     "unknown_reference, duplicate, not_awaiting, no_bank_reference, refused")
    detail: str
    payment_id: str | None
    proposal_id: str | None
    awaits_decision: bool


class Reconciliation(Open):
    """What a bank statement did: each line's verdict; uploaded again, the same answer and nothing changed."""

    statement_id: str
    sha256: str
    repeated: bool
    applied: int
    awaiting: int
    lines: list[StatementLine]


class LpjDue(Open):
    proposal_id: str
    group_name: str
    village_code: str
    tranche: int
    paid_on: str
    days_since_paid: int
    lpj: str | None
    overdue: bool


class Confirm(Body):
    bank_reference: Word


class HandoverItemIn(Body):
    item: Name
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    value_rp: PositiveRupiah


class Deliver(Body):
    items: Annotated[list[HandoverItemIn], Field(min_length=1, max_length=200)]
    handover_date: date
    receiver: Name


class SpendingLineIn(Body):
    description: Annotated[str, Field(min_length=1, max_length=300)]
    receipt_number: Word
    receipt_date: date
    amount_rp: PositiveRupiah


class SubmitLpj(Body):
    lines: Annotated[list[SpendingLineIn], Field(min_length=1, max_length=500)]


class ReviewLpj(Body):
    accept: StrictBool
    reason: Annotated[str, Field(max_length=2000)] = ""
    # Accepting an LPJ whose receipts leave part of the tranche unspent: the balance returned (its refund's
    # reference) or explained.
    refund_reference: Annotated[str, Field(max_length=100)] = ""
    explanation: Annotated[str, Field(max_length=2000)] = ""


class RecordVisit(Body):
    visit_date: date
    business_status: Literal[BUSINESS_STATUSES]  # type: ignore[valid-type]
    monthly_revenue_rp: Rupiah
    members_active: Annotated[StrictInt, Field(ge=0, description="member households still active in the business")]
    savings_rp: Rupiah
    iuran_rp: Annotated[Rupiah, Field(description="iuran kesetiakawanan sosial paid since the last visit")]
    notes: Annotated[str, Field(max_length=2000)] = ""


class VisitDue(Open):
    proposal_id: str
    group_name: str
    village_code: str
    stage: str | None = Field(description="the stage the latest visit placed the group in (tumbuh, berkembang, maju)")
    last_visit: str | None
    next_visit_due: str
    days_overdue: int = Field(description="0: due today")
    overdue: bool


class AssignFacilitator(Body):
    facilitator: Word


class RecordRefund(Body):
    amount_rp: PositiveRupiah
    reason: Text
    reference: Word


# --- training ------------------------------------------------------------------------------------------------

class OpenCohort(Body):
    village_code: VillageCode
    facilitator: Word
    name: Annotated[str, Field(max_length=200)] = ""


# People in the Family School by the registry's person id (GET /people/{nik} answers it): training keeps no NIK.
class Enrol(Body):
    person_id: Uuid


class ScheduleSession(Body):
    module: Annotated[str, Field(min_length=1, max_length=50)]
    session_date: date
    place: Name


class RecordAttendance(Body):
    marks: Annotated[dict[Uuid, Attendance], Field(min_length=1, max_length=200)]


class CorrectAttendance(Body):
    person_id: Uuid
    status: Attendance
    reason: Reason


class CohortQuery(Paging):
    region: RegionCode | None = None


class CohortRow(Open):
    cohort_id: str
    village_code: str
    name: str
    facilitator: str


class Cohort(Open):
    cohort_id: str
    village_code: str
    name: str
    facilitator: str
    sessions: list[dict[str, Any]]
    participants: list[dict[str, Any]]


class CohortCreated(BaseModel):
    cohort_id: str


class SessionCreated(BaseModel):
    session_id: str


class Completions(BaseModel):
    completed: list[dict[str, Any]]


class GateOut(Open):
    group_id: str
    open: bool
    completed: int
    representatives: int


class Participant(Open):
    person_id: str
    person: dict[str, Any] | None
    enrolments: list[dict[str, Any]]
    attendance: list[dict[str, Any]]


class Curriculum(Open):
    modules: dict[str, Any] | list[Any]
    active: list[str]


# --- imports and operations ----------------------------------------------------------------------------------

class RejectedRow(Open):
    line: int
    no_kk: str
    reason: str


class BdtReport(Open):
    households_imported: int
    individuals_imported: int
    households_rejected: int
    unchanged: int
    rejected_rows: list[RejectedRow]
    households_changed: int = Field(description="known households the file changed, or whose change is held")
    changes: dict[str, int] = Field(description="the changes applied, by kind (member_added, decile_changed, …)")
    held_for_review: int = Field(description="changes that touch a KUBE's money, held for a person to confirm")


class HeldChange(Open):
    change_id: str
    household_id: str
    kk: str
    village_code: str
    kind: str = Field(description="decile_changed, status_changed or member_removed")
    detail: dict = Field(description="the new decile, the new BDT status and why, or the leaving member's id")
    rule: str = Field(description="why it is held: kube.decile, kube.bdt_active or kube.representative_left")
    file_name: str
    file_date: str
    held_at: str
    decile: int
    bdt_status: str
    group_name: str | None
    person_name: str | None = Field(description="the leaving member's name (member_removed)")


class HeldDecision(Open):
    change_id: str
    decision: str


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
# The programme's records lie well inside; the bounds keep every moment convertible to any time zone (WIB).
ERA = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))


def rfc3339_moment(value: Any) -> datetime:
    """An RFC 3339 date-time with its offset, nothing looser (no bare dates, no Unix seconds)."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("give an RFC 3339 moment with its offset, e.g. 2026-06-30T23:59:59+07:00")
    moment = datetime.fromisoformat(value.upper())
    if not ERA[0] <= moment < ERA[1]:
        raise ValueError("give a moment between the years 2000 and 2100")
    return moment


Moment = Annotated[AwareDatetime, BeforeValidator(rfc3339_moment)]


class AuditQuery(Params):
    as_of: Moment | None = Field(None, description="only events up to this moment (RFC 3339 with its offset); "
                                                   "left out: everything", examples=["2026-06-30T23:59:59+07:00"])


class AuditProblem(BaseModel):
    service: str
    position: int | None
    kind: str
    detail: str


class AuditSkip(Open):
    """An upstream event a consumer never applied, by an operator's decision: listed, not a problem by itself."""

    service: str
    upstream: str
    position: int
    reason: str
    by: str


class AuditMirror(Open):
    """A read model of another service's facts, rebuilt from that service's log: compared once its consumer caught
    up with that log (before, a difference would only be lag)."""

    service: str
    table: str
    upstream: str
    compared: bool


class AuditVerification(Open):
    ok: bool
    events_checked: int
    ledger_entries_checked: int
    documents_checked: int  # attached files hashed again as stored
    ledger_head: str
    read_models_compared: bool
    mirrors: list[AuditMirror]
    problems: list[AuditProblem]
    skipped: list[AuditSkip]


class DocumentCheck(Open):
    """A printout's code checked against the ledger (or the event log): what the paper must show, and nothing
    personal — the KUBE or cohort, its village, the amount or certificate number, the date and the status now."""

    code: str
    matches: bool
    event: str
    group: str
    village_code: str
    date: str
    status: str | None
    amount_rp: int | None = None
    tranche: int | None = None
    certificate: str | None = None


class AuditRun(BaseModel):
    """A verification run through the gateway, as recorded when it finished."""

    at: str
    by: str
    as_of: str | None
    ok: bool
    events_checked: int
    ledger_entries_checked: int
    ledger_head: str
    problems: int


class LedgerHead(Open):
    seq: int
    hash: str
    recorded_at: str | None


class ReplayQuery(Params):
    as_of: Moment = Field(description="the moment (RFC 3339 with its offset)", examples=["2026-06-30T23:59:59+07:00"])


class Replayed(Open):
    as_of: str
    budgets: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    groups: list[dict[str, Any]]


# --- grievances (pengaduan): the resident and every word of it only in the one grievance, to its region's staff ---

GrievanceText = Annotated[str, Field(min_length=1, max_length=4000)]


class RecordGrievance(Body):
    village_code: VillageCode
    category: Literal[GRIEVANCE_CATEGORIES]  # type: ignore[valid-type]
    description: GrievanceText
    complainant_name: Annotated[str, Field(max_length=200)] | None = None  # none: an anonymous misuse report
    complainant_contact: Annotated[str, Field(max_length=200)] | None = None
    household_kk: HouseholdKey | None = None  # what it is about, where known
    group_id: Uuid | None = None
    proposal_id: Uuid | None = None
    # The day the office received it, when typed in later (a letter): the deadline runs from it. Default: today.
    received_on: date | None = None


class GrievanceCreated(BaseModel):
    grievance_id: str


class AssignGrievance(Body):
    assignee: Annotated[str, Field(min_length=1, max_length=64)]  # a verifier's username


class NoteGrievance(Body):
    text: GrievanceText


class ResolveGrievance(Body):
    outcome: Literal[GRIEVANCE_OUTCOMES]  # type: ignore[valid-type]
    resolution: GrievanceText


class GrievanceQuery(RegionFilter):
    status: Literal[GRIEVANCE_STATUSES] | None = None  # type: ignore[valid-type]
    overdue: bool = False
    assigned_to: Annotated[str, Field(max_length=64)] | None = None


class GrievanceRow(Open):
    grievance_id: str
    village_code: str
    category: str
    status: str
    anonymous: bool
    received_on: str
    due_on: str
    assigned_to: str | None
    outcome: str | None
    resolved_on: str | None
    overdue: bool


class GrievanceNote(BaseModel):
    by: str
    on: str
    text: str


class Grievance(GrievanceRow):
    description: str
    complainant_name: str | None
    complainant_contact: str | None
    resolution: str | None
    notes: list[GrievanceNote]


class DashboardRow(BaseModel):
    """One area (a district, or a village when the region is a district): what the head of the office follows."""

    code: str
    households: int
    groups: dict[str, int]
    proposals: dict[str, int]
    approved_rp: int
    disbursed_rp: int
    lpj_overdue: int
    visits_overdue: int = Field(description="active groups whose monitoring visit is overdue")
    participants: int
    completed: int
    grievances: int  # recorded
    grievances_open: int
    grievances_overdue: int
    grievances_resolved: int
    grievance_days_to_resolve: float | None  # the mean over the resolved ones


class Dashboard(BaseModel):
    region: str
    level: Literal["district", "village"]
    rows: list[DashboardRow]
    budgets: list[Budget]


class Dependency(Open):
    ok: bool


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    dependencies: dict[str, Dependency]


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    rule: str | None = None
    details: dict[str, Any] | None = Field(None, description="the values a refusal names (ids, numbers, limits)")


class ErrorOut(BaseModel):
    error: ErrorDetail
