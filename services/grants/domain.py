"""Grants domain: proposals, budgets, grants with their tranches, payments, LPJ and refunds. Pure: no I/O.

Every amount is an integer number of rupiah. The invariants that protect the money live here:
- a proposal climbs operator → district (verify) → province (recommend) → ministry (approve), each level may
  return it for revision or reject it, and nobody acts on two consecutive steps (maker–checker);
- whoever pays approves: a budget is a ceiling per fiscal year, source and region, set by its owner (APBN: the
  ministry, nationally or allotted to a province; APBD-provinsi: the province; APBD-kabupaten: the regency's head
  of office, approving on the regent's decree) — a province or regency approves a proposal its district verified;
- approval is ≤ requested and ≤ Rp 2,000,000 × member households, and commits budget that never exceeds its
  ceiling; cancellation releases it;
- a tranche is paid at most once, the total disbursed never exceeds the approved amount, and tranche 2 needs an
  accepted LPJ for tranche 1 and the Family School gate;
- segregation of duties: the treasurer who instructed a transfer does not confirm it, and whoever recorded an
  equipment delivery does not accept its handover (the tranche is paid when another person does);
- an LPJ is accepted only when its receipts are no more than the tranche, and a balance is returned or explained.

Longer than the house's ~400 lines on purpose: the four aggregates share the money's rules (actor checks,
maker–checker, tranche order), and one file keeps every invariant an auditor must read in one place.

Events carry what their public event needs (class_version 2): every proposal event its group and village, every
grant event its proposal, group and village, a confirmation its tranche and amount, an approval the tranches its
grant gets, a new ceiling its year and source. So services/grants/public.py maps an event without replaying its
aggregate. Events stored before (class_version 1) are read with those fields None: see ``shared.versioning``.
Version 3: a budget's events carry its region, an approval its budget's region and decree, an LPJ's acceptance its
reconciliation; events stored before are read as national, decree-less and unreconciled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from eventsourcing.domain import Aggregate, event

from services.grants.monitoring import MonitoringRules, VisitFindings, check_findings, classify, revenue_trend
from shared.actor import Actor, check_region, check_role, covers
from shared.attachments import Attachment, check_attachment
from shared.errors import Conflict, NotFound, NotYours, RuleViolated, ValidationFailed
from shared.ids import WIB
from shared.keys import stable_id
from shared.versioning import VersionedEvent
from shared.vocabulary import (
    APPROVED_AFTER,
    BUDGET_OWNERS,
    BUDGET_SOURCES,
    BUSINESS_STATUSES,
    DECREED_SOURCES,
    FORMS,
)

PAID = ("confirmed", "delivered")  # a payment's states in which its tranche is paid
HANDOVER_ROLES = ("operator", "treasurer")  # who records an equipment delivery, and who (another person) accepts it

# The evidence attached to what it proves (docs/documents.md): kind → who attaches it. A proposal's are attached to
# the proposal, the rest to its grant (a BAST or a delivery photo to its delivery, a receipt to its tranche's LPJ).
PROPOSAL_DOCUMENTS = {"signed_proposal": ("operator",), "rab": ("operator",),
                      "decision_letter": ("operator", *BUDGET_OWNERS.values())}
GRANT_DOCUMENTS = {"bast": HANDOVER_ROLES, "delivery_photo": HANDOVER_ROLES, "receipt": ("operator",),
                   "visit_photo": ("facilitator", "operator")}
TIME_AND_PLACE_KEPT = ("visit_photo",)  # a monitoring photo proves when and where it was taken


@dataclass(frozen=True)
class GrantRules:
    """Programme numbers (domain.md); provinces differ, so each is a setting with this default."""

    cap_per_household_rp: int = 2_000_000
    tranche_percentages: tuple[int, ...] = (70, 30)
    max_decile: int = 4
    lpj_due_days: int = 30  # a paid tranche's LPJ is overdue after this many days


@dataclass(frozen=True)
class BudgetLine:
    """A line of the RAB (rencana anggaran biaya)."""

    item: str
    quantity: int
    unit: str
    unit_price_rp: int

    @property
    def total_rp(self) -> int:
        return self.quantity * self.unit_price_rp


@dataclass(frozen=True)
class HandoverItem:
    """A line of a BAST (berita acara serah terima): equipment handed to the group."""

    item: str
    quantity: int
    value_rp: int


@dataclass(frozen=True)
class SpendingLine:
    """A line of an LPJ (laporan pertanggungjawaban), with its receipt."""

    description: str
    receipt_number: str
    receipt_date: date
    amount_rp: int


def check_rupiah(field: str, amount: object, *, positive: bool = False) -> int:
    # bool is an int in Python: refuse it explicitly, money is never True.
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < (1 if positive else 0):
        rule = "rupiah.positive_integer" if positive else "rupiah.non_negative_integer"
        raise ValidationFailed(field, rule, f"{field} must be whole rupiah {'> 0' if positive else '≥ 0'}: {amount!r}")
    return amount


def check_member_households(member_households: int) -> None:
    if isinstance(member_households, bool) or not isinstance(member_households, int) or not (
            5 <= member_households <= 20):
        raise ValidationFailed("member_households", "proposal.member_households",
                               f"a KUBE has 5–20 member households, not {member_households!r}")


def check_lines(lines: list[BudgetLine]) -> int:
    if not lines:
        raise ValidationFailed("budget_lines", "rab.empty", "a proposal needs at least one budget line")
    for index, line in enumerate(lines):
        if not line.item.strip() or not line.unit.strip():
            raise ValidationFailed(f"budget_lines.{index}", "rab.line", "each line needs an item and a unit")
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            raise ValidationFailed(f"budget_lines.{index}.quantity", "rab.quantity", "quantity must be ≥ 1")
        check_rupiah(f"budget_lines.{index}.unit_price_rp", line.unit_price_rp, positive=True)
    return sum(line.total_rp for line in lines)


# --- budget -------------------------------------------------------------------------------------------------

# The region a source's ceiling is set for: APBN nationally or allotted to a province ('18'), an APBD for the
# province or regency ('18.01') that pays it.
BUDGET_REGIONS = {"APBN": ("national", "province"), "APBD-provinsi": ("province",),
                  "APBD-kabupaten": ("regency",)}


def region_level(code: str) -> str | None:
    parts = code.split(".") if code else []
    if not all(len(part) == 2 and part.isdigit() for part in parts):
        return None
    return {0: "national", 1: "province", 2: "regency"}.get(len(parts))


def region_at(level: str, village_code: str) -> str:
    """The code of the region at ``level`` (national, province, regency) that ``village_code`` lies in."""
    return ".".join(village_code.split(".")[: {"national": 0, "province": 1, "regency": 2}[level]])


class Budget(Aggregate):
    """The ceiling (pagu) of one fiscal year, source and region, and what approvals have committed of it. Whoever
    pays sets it (``BUDGET_OWNERS``) for their own region and approves the grants it funds."""

    class Event(VersionedEvent):
        class_version = 3
        ADDED_IN_V2 = ("fiscal_year", "source")
        ADDED_IN_V3 = {"region": ""}  # a budget from before regions was the ministry's national one

    @staticmethod
    def create_id(fiscal_year: int, source: str, region: str = "") -> uuid.UUID:
        # A national budget keeps the id it had before budgets had regions.
        return stable_id("budget", fiscal_year, source, *([region] if region else []))

    @classmethod
    def open(cls, fiscal_year: int, source: str, ceiling_rp: int, actor: Actor, region: str = "") -> Budget:
        if source not in BUDGET_SOURCES:
            raise ValidationFailed("source", "budget.source", f"budget source must be one of {BUDGET_SOURCES}: "
                                                              f"{source!r}")
        if region_level(region) not in BUDGET_REGIONS[source]:
            raise ValidationFailed("region", "budget.region", f"an {source} ceiling is set for a "
                                                              f"{' or '.join(BUDGET_REGIONS[source])}, not "
                                                              f"{region or 'the whole country'!r}")
        check_owner(actor, source, region, "set its ceiling")
        if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not 2000 <= fiscal_year <= 2100:
            raise ValidationFailed("fiscal_year", "budget.fiscal_year", f"fiscal year {fiscal_year!r} is not valid")
        check_rupiah("ceiling_rp", ceiling_rp)
        return cls(fiscal_year=fiscal_year, source=source, region=region, ceiling_rp=ceiling_rp, set_by=actor.user)

    @event("Opened")
    def __init__(self, fiscal_year: int, source: str, ceiling_rp: int, set_by: str, region: str) -> None:
        self.fiscal_year = fiscal_year
        self.source = source
        self.region = region
        self.ceiling_rp = ceiling_rp
        self.committed_rp = 0

    @property
    def available_rp(self) -> int:
        return self.ceiling_rp - self.committed_rp

    @property
    def label(self) -> str:
        return f"{self.fiscal_year} {self.source} {self.region or 'national'}"

    def check_owner(self, actor: Actor, action: str) -> None:
        check_owner(actor, self.source, self.region, action)

    def set_ceiling(self, ceiling_rp: int, actor: Actor) -> None:
        self.check_owner(actor, "set its ceiling")
        check_rupiah("ceiling_rp", ceiling_rp)
        if ceiling_rp < self.committed_rp:
            raise RuleViolated("budget.ceiling_below_committed",
                               f"Rp {self.committed_rp:,} is committed: the ceiling cannot be Rp {ceiling_rp:,}")
        self._ceiling_set(ceiling_rp=ceiling_rp, set_by=actor.user, fiscal_year=self.fiscal_year, source=self.source,
                          region=self.region)

    @event("CeilingSet")
    def _ceiling_set(self, ceiling_rp: int, set_by: str, fiscal_year: int | None, source: str | None,
                     region: str) -> None:
        self.ceiling_rp = ceiling_rp

    def commit(self, proposal_id: uuid.UUID, amount_rp: int) -> None:
        check_rupiah("amount_rp", amount_rp, positive=True)
        if amount_rp > self.available_rp:
            raise RuleViolated("budget.ceiling", f"Rp {amount_rp:,} exceeds what is left of the {self.label} "
                                                 f"ceiling (Rp {self.available_rp:,} of Rp {self.ceiling_rp:,})",
                               available_rp=self.available_rp)
        self._committed(proposal_id=proposal_id, amount_rp=amount_rp)

    @event("Committed")
    def _committed(self, proposal_id: uuid.UUID, amount_rp: int) -> None:
        self.committed_rp += amount_rp

    def release(self, proposal_id: uuid.UUID, amount_rp: int, reason: str) -> None:
        check_rupiah("amount_rp", amount_rp, positive=True)
        if amount_rp > self.committed_rp:
            raise RuleViolated("budget.release", f"cannot release Rp {amount_rp:,}: only Rp {self.committed_rp:,} "
                                                 "is committed")
        self._released(proposal_id=proposal_id, amount_rp=amount_rp, reason=reason)

    @event("Released")
    def _released(self, proposal_id: uuid.UUID, amount_rp: int, reason: str) -> None:
        self.committed_rp -= amount_rp


def check_owner(actor: Actor, source: str, region: str, action: str) -> None:
    """Only whoever pays acts on a budget: the ministry (national) on APBN, a province or regency on its own."""
    owner = BUDGET_OWNERS[source]
    check_role(actor, (owner,), f"act on an {source} budget ({action})")
    own_region = "" if source == "APBN" else region  # the ministry allots APBN to provinces, nationally
    if actor.region != own_region:
        raise NotYours("budget.owner", f"{actor.user} acts for {actor.region or 'the whole country'}, not for "
                                       f"{own_region or 'the whole country'}, whose {source} budget it is: may not "
                                       f"{action}", user=actor.user, region=region)


# --- proposal -----------------------------------------------------------------------------------------------

# status → (action, role allowed, status after)
ROUTE = {
    "submitted": ("verify", "verifier", "verified"),
    "verified": ("recommend", "province", "recommended"),
    "recommended": ("approve", "ministry", "approved"),
}
REVIEWERS = {"submitted": "verifier", "verified": "province", "recommended": "ministry"}


class Proposal(Aggregate):
    """A group's proposal (usulan) for a productive business, on its way to approval."""

    class Event(VersionedEvent):
        class_version = 3
        ADDED_IN_V2 = ("group_id", "village_code", "tranches", "member_households")
        # an approval from before budgets had regions: of the national budget, on no decree
        ADDED_IN_V3 = {"budget_region": "", "decree_number": None}

    @classmethod
    def draft(
        cls, *, group_id: uuid.UUID, group_name: str, village_code: str, member_households: int, business_plan: str,
        budget_lines: list[BudgetLine], form: str, actor: Actor,
    ) -> Proposal:
        check_role(actor, ("operator",), "draft a proposal")
        check_region(actor, village_code, "draft a proposal")
        if form not in FORMS:
            raise ValidationFailed("form", "proposal.form", f"form must be one of {FORMS}: {form!r}")
        check_member_households(member_households)
        if not business_plan.strip():
            raise ValidationFailed("business_plan", "proposal.business_plan", "the business plan is required")
        requested = check_lines(budget_lines)
        return cls(group_id=group_id, group_name=group_name, village_code=village_code,
                   member_households=member_households, business_plan=business_plan, budget_lines=budget_lines,
                   requested_rp=requested, form=form, drafted_by=actor.user)

    @event("Drafted")
    def __init__(
        self, group_id: uuid.UUID, group_name: str, village_code: str, member_households: int, business_plan: str,
        budget_lines: list[BudgetLine], requested_rp: int, form: str, drafted_by: str,
    ) -> None:
        self.group_id = group_id
        self.group_name = group_name
        self.village_code = village_code
        self.member_households = member_households
        self.business_plan = business_plan
        self.budget_lines = list(budget_lines)
        self.requested_rp = requested_rp
        self.form = form
        self.status = "draft"
        self.last_actor = drafted_by
        self.flags: list[str] = []
        self.approval: dict | None = None
        self.times_returned = 0
        self.documents: list[Attachment] = []

    def _where(self) -> dict:
        """What every proposal event carries besides its own fields (``Event.ADDED_IN_V2``)."""
        return {"group_id": self.group_id, "village_code": self.village_code}

    def cap_rp(self, rules: GrantRules) -> int:
        return rules.cap_per_household_rp * self.member_households

    def check_status(self, *allowed: str, action: str) -> None:
        if self.status not in allowed:
            raise Conflict(f"cannot {action} a proposal that is {self.status}", rule="proposal.transition",
                           status=self.status, proposal_id=str(self.id))

    def check_maker_checker(self, actor: Actor) -> None:
        if actor.user == self.last_actor:
            raise NotYours("proposal.maker_checker", f"{actor.user} performed the previous step on this "
                                                         "proposal and may not perform the next one", user=actor.user)

    def submit(self, actor: Actor) -> None:
        self.check_status("draft", action="submit")
        check_role(actor, ("operator",), "submit a proposal")
        check_region(actor, self.village_code, "submit a proposal")
        self._submitted(by=actor.user, **self._where())

    @event("Submitted")
    def _submitted(self, by: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.status, self.last_actor = "submitted", by

    def resubmit(self, actor: Actor, member_households: int, business_plan: str | None = None,
                 budget_lines: list[BudgetLine] | None = None, form: str | None = None) -> None:
        """Resubmit a returned proposal for the group as it is now: the cap follows its ``member_households`` (a
        group that shrank while its proposal was returned is capped for the households it still has)."""
        self.check_status("returned", action="resubmit")
        check_role(actor, ("operator",), "resubmit a proposal")
        check_region(actor, self.village_code, "resubmit a proposal")
        self.check_maker_checker(actor)
        lines = budget_lines if budget_lines is not None else self.budget_lines
        requested = check_lines(lines)
        form = form or self.form
        if form not in FORMS:
            raise ValidationFailed("form", "proposal.form", f"form must be one of {FORMS}: {form!r}")
        check_member_households(member_households)
        self._resubmitted(by=actor.user, business_plan=business_plan or self.business_plan, budget_lines=lines,
                          requested_rp=requested, form=form, member_households=member_households, **self._where())

    @event("Resubmitted")
    def _resubmitted(self, by: str, business_plan: str, budget_lines: list[BudgetLine], requested_rp: int,
                     form: str, group_id: uuid.UUID | None, village_code: str | None,
                     member_households: int | None) -> None:
        self.status, self.last_actor = "submitted", by
        if member_households is not None:  # None: stored before v2, when the count was the draft's
            self.member_households = member_households
        self.business_plan, self.budget_lines, self.requested_rp, self.form = (
            business_plan, list(budget_lines), requested_rp, form)
        self.flags = []  # resubmission re-checks eligibility (the application refuses if still not eligible)

    def verify(self, actor: Actor) -> None:
        self._review("verify", actor)
        self._verified(by=actor.user, **self._where())

    @event("Verified")
    def _verified(self, by: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.status, self.last_actor = "verified", by

    def recommend(self, actor: Actor) -> None:
        self._review("recommend", actor)
        self._recommended(by=actor.user, **self._where())

    @event("Recommended")
    def _recommended(self, by: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.status, self.last_actor = "recommended", by

    def approve(self, actor: Actor, amount_rp: int, form: str, budget: Budget, rules: GrantRules,
                decree_number: str = "") -> None:
        """Approve and commit the budget: both aggregates change, and are recorded, together. Whoever pays decides:
        the owner of the budget (``BUDGET_OWNERS``), once the proposal has reached them (``APPROVED_AFTER``)."""
        self.check_approver(actor, budget)
        check_rupiah("amount_rp", amount_rp, positive=True)
        if form not in FORMS:
            raise ValidationFailed("form", "proposal.form", f"form must be one of {FORMS}: {form!r}")
        decreed = budget.source in DECREED_SOURCES
        if decreed and not decree_number.strip():
            raise ValidationFailed("decree_number", "approval.decree", f"an {budget.source} grant is approved on the "
                                                                       "regent's decree: give its number")
        if amount_rp > self.requested_rp:
            raise RuleViolated("approval.above_requested", f"Rp {amount_rp:,} is more than the Rp "
                                                           f"{self.requested_rp:,} requested")
        cap = self.cap_rp(rules)
        if amount_rp > cap:
            raise RuleViolated("approval.above_cap", f"Rp {amount_rp:,} is more than the cap of Rp {cap:,} "
                                                     f"(Rp {rules.cap_per_household_rp:,} × {self.member_households} "
                                                     "households)")
        if self.flags:
            raise RuleViolated("proposal.flagged", f"the proposal is flagged ({'; '.join(self.flags)}): return it "
                                                   "for revision first")
        budget.commit(self.id, amount_rp)
        # The tranches are the grant's (Grant.open splits the approved amount by the same rules): carried here so
        # that the approval's public event names them without reading the grant.
        self._approved(by=actor.user, amount_rp=amount_rp, form=form, fiscal_year=budget.fiscal_year,
                       source=budget.source, budget_region=budget.region,
                       decree_number=decree_number.strip() if decreed else None,
                       tranches=split_tranches(amount_rp, rules.tranche_percentages), **self._where())

    def check_approver(self, actor: Actor, budget: Budget) -> None:
        budget.check_owner(actor, "approve a grant from it")
        after = APPROVED_AFTER[budget.source]
        if self.status != after:
            raise Conflict(f"cannot approve an {budget.source} grant for a proposal that is {self.status}: its "
                           f"{BUDGET_OWNERS[budget.source]} decides once it is {after}", rule="proposal.transition",
                           status=self.status)
        if not covers(budget.region, self.village_code):
            raise RuleViolated("budget.region", f"the {budget.label} budget does not fund a group of "
                                                f"{self.village_code}", region=budget.region)
        self.check_maker_checker(actor)

    @event("Approved")
    def _approved(self, by: str, amount_rp: int, form: str, fiscal_year: int, source: str,
                  tranches: list[Tranche] | None, group_id: uuid.UUID | None, village_code: str | None,
                  budget_region: str, decree_number: str | None) -> None:
        self.status, self.last_actor = "approved", by
        self.approval = {"amount_rp": amount_rp, "form": form, "fiscal_year": fiscal_year, "source": source,
                         "region": budget_region, "decree_number": decree_number}

    def return_for_revision(self, actor: Actor, reason: str) -> None:
        self._review("return", actor, reason=reason)
        self._returned(by=actor.user, level=actor.role, reason=reason, **self._where())

    @event("Returned")
    def _returned(self, by: str, level: str, reason: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.status, self.last_actor = "returned", by
        self.times_returned += 1

    def reject(self, actor: Actor, reason: str) -> None:
        self._review("reject", actor, reason=reason)
        self._rejected(by=actor.user, level=actor.role, reason=reason, **self._where())

    @event("Rejected")
    def _rejected(self, by: str, level: str, reason: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.status, self.last_actor = "rejected", by

    def flag(self, reason: str) -> None:
        """The group or one of its households changed before approval: a reviewer must look again."""
        if self.status in ("approved", "rejected", "cancelled") or reason in self.flags:
            return
        self._flagged(reason=reason, **self._where())

    @event("Flagged")
    def _flagged(self, reason: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.flags = [*self.flags, reason]

    def cancel(self, actor: Actor, reason: str, budget: Budget) -> None:
        """Cancel an approved grant before any money left (whoever pays it decides): its budget is released."""
        self.check_status("approved", action="cancel")
        budget.check_owner(actor, "cancel a grant it funds")
        self.check_maker_checker(actor)
        if not reason.strip():
            raise ValidationFailed("reason", "proposal.reason", "a cancellation needs a reason")
        budget.release(self.id, self.approval["amount_rp"], reason)
        self._cancelled(by=actor.user, reason=reason, **self._where())

    @event("Cancelled")
    def _cancelled(self, by: str, reason: str, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.status, self.last_actor = "cancelled", by

    def attach_document(self, kind: str, sha256: str, size: int, media_type: str, actor: Actor) -> None:
        """The signed proposal or its RAB, any time; the decision letter once approved."""
        check_attachment(kind, PROPOSAL_DOCUMENTS, actor, self.village_code, self.documents, sha256)
        if kind == "decision_letter" and self.status != "approved":
            raise RuleViolated("evidence.not_yet", f"a decision letter is attached to an approved proposal, not a "
                                                   f"{self.status} one")
        self._document_attached(kind=kind, sha256=sha256, size=size, media_type=media_type, by=actor.user,
                                **self._where())

    @event("DocumentAttached")
    def _document_attached(self, kind: str, sha256: str, size: int, media_type: str, by: str,
                           group_id: uuid.UUID | None, village_code: str | None,
                           timestamp: datetime | None = None) -> None:
        self.documents = [*self.documents, Attachment(kind, sha256, size, media_type, by, timestamp)]

    def _review(self, action: str, actor: Actor, reason: str | None = None) -> None:
        self.check_status(*REVIEWERS, action=action)
        if action in ("verify", "recommend") and ROUTE[self.status][0] != action:
            raise Conflict(f"cannot {action} a proposal that is {self.status}: it needs to be "
                           f"{ROUTE[self.status][0]}d first", rule="proposal.transition", status=self.status)
        check_role(actor, (REVIEWERS[self.status],), f"{action} a {self.status} proposal")
        check_region(actor, self.village_code, f"{action} this proposal")
        self.check_maker_checker(actor)
        if reason is not None and not reason.strip():
            raise ValidationFailed("reason", "proposal.reason", f"to {action} a proposal, give a reason")


# --- the grant: tranches, payments, deliveries, LPJ, monitoring, refunds -----------------------------------

@dataclass(frozen=True)
class Tranche:
    number: int
    amount_rp: int


@dataclass(frozen=True)
class TrancheProgress:
    """What paying a later tranche needs to know of an earlier one (a grant knows it; so does its read model)."""

    number: int
    paid: bool
    lpj: str | None  # the status of its latest LPJ


def check_tranche_order(number: int, earlier: list[TrancheProgress], gate_open: bool) -> None:
    """Tranche ``number`` may be paid once every earlier tranche is paid with its LPJ accepted, and — after the
    first — the group's Family School gate is open."""
    for tranche in earlier:
        if not tranche.paid:
            raise RuleViolated("tranche.order", f"tranche {tranche.number} is not paid yet", tranche=number)
        if tranche.lpj != "accepted":
            raise RuleViolated("tranche.lpj", f"tranche {number} needs an accepted LPJ for tranche "
                                              f"{tranche.number}", tranche=number)
    if number > 1 and not gate_open:
        raise RuleViolated("tranche.family_school", f"tranche {number} needs the Family School gate: not enough "
                                                    "of the group's representatives have completed it",
                           tranche=number)


def split_tranches(amount_rp: int, percentages: tuple[int, ...]) -> list[Tranche]:
    """70 % / 30 % by default, in whole rupiah; the last tranche takes the rounding, so the sum is exact."""
    if sum(percentages) != 100:
        raise ValueError(f"tranche percentages must add up to 100: {percentages}")
    amounts = [amount_rp * p // 100 for p in percentages[:-1]]
    amounts.append(amount_rp - sum(amounts))
    return [Tranche(number, amount) for number, amount in enumerate(amounts, start=1)]


class Grant(Aggregate):
    """An approved proposal's money: its tranches and every payment, delivery, LPJ, visit and refund."""

    class Event(VersionedEvent):
        class_version = 3
        ADDED_IN_V2 = ("proposal_id", "group_id", "village_code", "tranche", "amount_rp")
        # an LPJ accepted before LPJs were reconciled: its sums and how a balance was settled were not recorded
        ADDED_IN_V3 = dict.fromkeys(("spent_rp", "tranche_rp", "refund_reference", "explanation"))

    @staticmethod
    def create_id(proposal_id: uuid.UUID) -> uuid.UUID:
        return stable_id("grant", proposal_id)

    @classmethod
    def open(cls, proposal: Proposal, rules: GrantRules) -> Grant:
        if proposal.status != "approved" or proposal.approval is None:
            raise Conflict("only an approved proposal becomes a grant", status=proposal.status)
        return cls(proposal_id=proposal.id, group_id=proposal.group_id, village_code=proposal.village_code,
                   amount_rp=proposal.approval["amount_rp"], form=proposal.approval["form"],
                   tranches=split_tranches(proposal.approval["amount_rp"], rules.tranche_percentages))

    @event("Opened")
    def __init__(self, proposal_id: uuid.UUID, group_id: uuid.UUID, village_code: str, amount_rp: int, form: str,
                 tranches: list[Tranche]) -> None:
        self.proposal_id = proposal_id
        self.group_id = group_id
        self.village_code = village_code
        self.amount_rp = amount_rp
        self.form = form
        self.tranches = list(tranches)
        self.payments: dict[str, dict] = {}  # payment id → state
        self.lpj: dict[int, dict] = {}  # tranche number → latest LPJ
        self.refunded_rp = 0
        self.refunds: dict[str, int] = {}  # refund reference → rupiah returned under it
        self.visits = 0
        self.last_visit: dict | None = None  # its date, monthly revenue and stage (none before stages)
        self.cancelled = False
        self.documents: list[Attachment] = []

    def _where(self) -> dict:
        """What every grant event carries besides its own fields (``Event.ADDED_IN_V2``)."""
        return {"proposal_id": self.proposal_id, "group_id": self.group_id, "village_code": self.village_code}

    # --- derived state -----------------------------------------------------------------------------------

    def tranche(self, number: int) -> Tranche:
        for tranche in self.tranches:
            if tranche.number == number:
                return tranche
        raise NotFound(f"the grant has no tranche {number}", field="tranche", tranche=number)

    def payments_of(self, number: int) -> list[dict]:
        return [p for p in self.payments.values() if p["tranche"] == number]

    def live_payment(self, number: int) -> dict | None:
        """The tranche's payment under way or done (not failed, not cancelled), if any."""
        live = [p for p in self.payments_of(number) if p["status"] not in ("failed", "cancelled")]
        return live[-1] if live else None

    def tranche_status(self, number: int) -> str:
        """pending, or the state of its live payment: instructed, sent, paid (confirmed or delivered)."""
        payment = self.live_payment(number)
        return payment["status"] if payment else "pending"

    def is_paid(self, number: int) -> bool:
        return self.tranche_status(number) in PAID

    def progress(self, number: int) -> TrancheProgress:
        return TrancheProgress(number, self.is_paid(number), self.lpj.get(number, {}).get("status"))

    @property
    def first_paid_on(self) -> date | None:
        """The day tranche 1 was paid: the group became active, and its monitoring schedule counts from it."""
        payment = self.live_payment(1) if self.is_paid(1) else None
        return date.fromisoformat(payment["paid_on"]) if payment and payment.get("paid_on") else None

    @property
    def disbursed_rp(self) -> int:
        return sum(p["amount_rp"] for p in self.payments.values() if p["status"] in PAID)

    @property
    def committed_payments_rp(self) -> int:
        """Paid, or on its way to the bank: what may not be instructed again."""
        return sum(p["amount_rp"] for p in self.payments.values() if p["status"] not in ("failed", "cancelled"))

    def payment(self, payment_id: str) -> dict:
        if payment_id not in self.payments:
            raise NotFound(f"no payment {payment_id} on this grant", field="payment_id", payment_id=payment_id)
        return self.payments[payment_id]

    # --- paying ------------------------------------------------------------------------------------------

    def check_new_payment(self, payment_id: str) -> None:
        if payment_id in self.payments:
            raise Conflict(f"payment {payment_id} exists already: a payment id is never reused",
                           rule="payment.id_reused", payment_id=payment_id)

    def check_can_pay(self, number: int, gate_open: bool) -> Tranche:
        if self.cancelled:
            raise RuleViolated("grant.cancelled", "the grant was cancelled: nothing more is paid", tranche=number)
        tranche = self.tranche(number)
        status = self.tranche_status(number)
        if status != "pending":
            raise Conflict(f"tranche {number} is already {status}: a tranche is paid at most once",
                           rule="tranche.once", tranche=number, status=status)
        check_tranche_order(number, [self.progress(t.number) for t in self.tranches[: number - 1]], gate_open)
        if self.committed_payments_rp + tranche.amount_rp > self.amount_rp:  # cannot happen with exact tranches
            raise RuleViolated("grant.above_approved", "this payment would exceed the approved amount")
        return tranche

    def instruct(self, number: int, payment_id: str, actor: Actor, gate_open: bool) -> None:
        check_role(actor, ("treasurer",), "instruct a disbursement")
        check_region(actor, self.village_code, "instruct a disbursement")
        if self.form == "equipment":
            raise RuleViolated("tranche.form", "an equipment grant is delivered with a BAST, not transferred")
        self.check_new_payment(payment_id)
        tranche = self.check_can_pay(number, gate_open)
        self._instructed(payment_id=payment_id, tranche=number, amount_rp=tranche.amount_rp, by=actor.user,
                         **self._where())

    @event("Instructed")
    def _instructed(self, payment_id: str, tranche: int, amount_rp: int, by: str, proposal_id: uuid.UUID | None,
                    group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.payments = {**self.payments, payment_id: {"payment_id": payment_id, "tranche": tranche,
                                                       "amount_rp": amount_rp, "status": "instructed",
                                                       "kind": "cash", "instructed_by": by}}

    def _payment_step(self, payment_id: str, actor: Actor, expected: tuple[str, ...], action: str) -> dict:
        check_role(actor, ("treasurer",), action)
        check_region(actor, self.village_code, action)
        payment = self.payment(payment_id)
        if payment["status"] not in expected:
            raise Conflict(f"cannot {action}: payment {payment_id} is {payment['status']}",
                           rule="payment.transition", status=payment["status"])
        return payment

    def mark_sent(self, payment_id: str, actor: Actor) -> None:
        self._payment_step(payment_id, actor, ("instructed",), "send a payment to the bank")
        self._sent(payment_id=payment_id, by=actor.user, **self._where())

    @event("Sent")
    def _sent(self, payment_id: str, by: str, proposal_id: uuid.UUID | None, group_id: uuid.UUID | None,
              village_code: str | None) -> None:
        self._set_payment(payment_id, status="sent")

    def confirm(self, payment_id: str, bank_reference: str, actor: Actor) -> None:
        payment = self._payment_step(payment_id, actor, ("sent",), "confirm a payment")
        if payment["instructed_by"] == actor.user:
            raise NotYours("payment.maker_checker", f"{actor.user} instructed payment {payment_id} and may not "
                                                    "confirm it: another treasurer records the bank's confirmation",
                           user=actor.user, payment_id=payment_id)
        if not bank_reference.strip():
            raise ValidationFailed("bank_reference", "payment.bank_reference", "the bank's reference is required")
        self._confirmed(payment_id=payment_id, bank_reference=bank_reference, by=actor.user,
                        tranche=payment["tranche"], amount_rp=payment["amount_rp"], **self._where())

    # ``timestamp`` is the event's own: the library passes a method every event attribute it names, when the
    # event happens and when it is replayed, so the paid date is the same both times. (It sets ``modified_on``
    # only after the method has run.)
    @event("Confirmed")
    def _confirmed(self, payment_id: str, bank_reference: str, by: str, tranche: int | None, amount_rp: int | None,
                   proposal_id: uuid.UUID | None, group_id: uuid.UUID | None, village_code: str | None,
                   timestamp: datetime | None = None) -> None:
        self._set_payment(payment_id, status="confirmed", bank_reference=bank_reference, paid_on=paid_on(timestamp))

    def fail(self, payment_id: str, reason: str, actor: Actor) -> None:
        self._payment_step(payment_id, actor, ("instructed", "sent"), "record a failed payment")
        if not reason.strip():
            raise ValidationFailed("reason", "payment.reason", "a failure needs the bank's reason")
        self._failed(payment_id=payment_id, reason=reason, by=actor.user, **self._where())

    @event("Failed")
    def _failed(self, payment_id: str, reason: str, by: str, proposal_id: uuid.UUID | None,
                group_id: uuid.UUID | None, village_code: str | None) -> None:
        self._set_payment(payment_id, status="failed", reason=reason)

    def cancel_payment(self, payment_id: str, reason: str, actor: Actor) -> None:
        self._payment_step(payment_id, actor, ("instructed", "failed"), "cancel a payment")
        if not reason.strip():
            raise ValidationFailed("reason", "payment.reason", "a cancellation needs a reason")
        self._payment_cancelled(payment_id=payment_id, reason=reason, by=actor.user, **self._where())

    @event("PaymentCancelled")
    def _payment_cancelled(self, payment_id: str, reason: str, by: str, proposal_id: uuid.UUID | None,
                           group_id: uuid.UUID | None, village_code: str | None) -> None:
        self._set_payment(payment_id, status="cancelled", reason=reason)

    def deliver(self, number: int, payment_id: str, items: list[HandoverItem], handover_date: date, receiver: str,
                actor: Actor, gate_open: bool, today: date) -> None:
        """Record equipment handed over instead of a transfer, with its BAST: items, quantities, values, date,
        receiver. The tranche is paid when another person accepts the handover (``accept_handover``)."""
        check_role(actor, HANDOVER_ROLES, "record an equipment delivery")
        check_region(actor, self.village_code, "record an equipment delivery")
        if self.form == "cash":
            raise RuleViolated("tranche.form", "a cash grant is transferred, not delivered")
        self.check_new_payment(payment_id)
        tranche = self.check_can_pay(number, gate_open)
        if not items:
            raise ValidationFailed("items", "bast.items", "a handover record lists at least one item")
        for index, item in enumerate(items):
            check_rupiah(f"items.{index}.value_rp", item.value_rp, positive=True)
            if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) or item.quantity < 1:
                raise ValidationFailed(f"items.{index}.quantity", "bast.quantity", "quantity must be ≥ 1")
        value = sum(item.value_rp for item in items)
        if value > tranche.amount_rp:
            raise RuleViolated("grant.above_approved", f"the handover is worth Rp {value:,}, more than tranche "
                                                       f"{number}'s Rp {tranche.amount_rp:,}")
        if handover_date > today:
            raise ValidationFailed("handover_date", "bast.date_future", f"handover date {handover_date} is in the "
                                                                       "future")
        if not receiver.strip():
            raise ValidationFailed("receiver", "bast.receiver", "the handover record names its receiver")
        self._delivery_recorded(payment_id=payment_id, tranche=number, amount_rp=value, items=items,
                                handover_date=handover_date, receiver=receiver, by=actor.user, **self._where())

    @event("DeliveryRecorded")
    def _delivery_recorded(self, payment_id: str, tranche: int, amount_rp: int, items: list[HandoverItem],
                           handover_date: date, receiver: str, by: str, proposal_id: uuid.UUID | None,
                           group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.payments = {**self.payments, payment_id: {"payment_id": payment_id, "tranche": tranche,
                                                       "amount_rp": amount_rp, "status": "recorded",
                                                       "kind": "equipment", "items": list(items),
                                                       "handover_date": handover_date, "receiver": receiver,
                                                       "recorded_by": by}}

    def accept_handover(self, payment_id: str, actor: Actor) -> None:
        """Another person than the one who recorded the delivery accepts its BAST: the tranche is paid."""
        check_role(actor, HANDOVER_ROLES, "accept an equipment handover")
        check_region(actor, self.village_code, "accept an equipment handover")
        payment = self.payment(payment_id)
        if payment["status"] != "recorded":
            raise Conflict(f"cannot accept the handover: payment {payment_id} is {payment['status']}",
                           rule="payment.transition", status=payment["status"])
        if payment["recorded_by"] == actor.user:
            raise NotYours("bast.maker_checker", f"{actor.user} recorded this delivery and may not accept its "
                                                 "handover: another person does", user=actor.user,
                           payment_id=payment_id)
        self._delivered(payment_id=payment_id, tranche=payment["tranche"], amount_rp=payment["amount_rp"],
                        items=payment["items"], handover_date=payment["handover_date"], receiver=payment["receiver"],
                        by=actor.user, **self._where())

    # Before accept_handover, one Delivered event recorded a delivery and paid its tranche at once: such a stored
    # event still replays to a paid, delivered payment (without the DeliveryRecorded before it).
    @event("Delivered")
    def _delivered(self, payment_id: str, tranche: int, amount_rp: int, items: list[HandoverItem],
                   handover_date: date, receiver: str, by: str, proposal_id: uuid.UUID | None,
                   group_id: uuid.UUID | None, village_code: str | None, timestamp: datetime | None = None) -> None:
        self.payments = {**self.payments, payment_id: {**self.payments.get(payment_id, {}),
                                                       "payment_id": payment_id, "tranche": tranche,
                                                       "amount_rp": amount_rp, "status": "delivered",
                                                       "kind": "equipment", "items": list(items),
                                                       "handover_date": handover_date, "receiver": receiver,
                                                       "paid_on": paid_on(timestamp)}}

    def _set_payment(self, payment_id: str, **changes: object) -> None:
        self.payments = {**self.payments, payment_id: {**self.payments[payment_id], **changes}}

    # --- accountability ----------------------------------------------------------------------------------

    def submit_lpj(self, number: int, lines: list[SpendingLine], actor: Actor, today: date) -> None:
        check_role(actor, ("operator",), "submit an LPJ")
        check_region(actor, self.village_code, "submit an LPJ")
        if not self.is_paid(number):
            raise RuleViolated("lpj.after_payment", f"tranche {number} is not paid yet: nothing to account for")
        if self.lpj.get(number, {}).get("status") in ("submitted", "accepted"):
            raise Conflict(f"the LPJ of tranche {number} is already {self.lpj[number]['status']}",
                           rule="lpj.transition")
        if not lines:
            raise ValidationFailed("lines", "lpj.lines", "an LPJ lists at least one spending line")
        for index, line in enumerate(lines):
            check_rupiah(f"lines.{index}.amount_rp", line.amount_rp, positive=True)
            if not line.receipt_number.strip():
                raise ValidationFailed(f"lines.{index}.receipt_number", "lpj.receipt", "each line needs its receipt")
            if line.receipt_date > today:
                raise ValidationFailed(f"lines.{index}.receipt_date", "lpj.receipt_date", "a receipt from the future")
        self._lpj_submitted(tranche=number, lines=lines, total_rp=sum(line.amount_rp for line in lines),
                            by=actor.user, **self._where())

    @event("LpjSubmitted")
    def _lpj_submitted(self, tranche: int, lines: list[SpendingLine], total_rp: int, by: str,
                       proposal_id: uuid.UUID | None, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.lpj = {**self.lpj, tranche: {"status": "submitted", "total_rp": total_rp, "by": by}}

    def review_lpj(self, number: int, accept: bool, actor: Actor, reason: str = "", refund_reference: str = "",
                   explanation: str = "") -> None:
        check_role(actor, ("operator",), "review an LPJ")
        check_region(actor, self.village_code, "review an LPJ")
        current = self.lpj.get(number)
        if current is None or current["status"] != "submitted":
            raise Conflict(f"no submitted LPJ for tranche {number}", rule="lpj.transition")
        if current["by"] == actor.user:
            raise NotYours("lpj.maker_checker", f"{actor.user} submitted this LPJ and may not review it")
        if not accept and not reason.strip():
            raise ValidationFailed("reason", "lpj.reason", "returning an LPJ needs a reason")
        if accept:
            spent, tranche_rp = current["total_rp"], self.tranche(number).amount_rp
            self.check_reconciled(number, spent, tranche_rp, refund_reference.strip(), explanation.strip())
            self._lpj_accepted(tranche=number, by=actor.user, spent_rp=spent, tranche_rp=tranche_rp,
                               refund_reference=refund_reference.strip() or None,
                               explanation=explanation.strip() or None, **self._where())
        else:
            self._lpj_returned(tranche=number, reason=reason, by=actor.user, **self._where())

    def check_reconciled(self, number: int, spent_rp: int, tranche_rp: int, refund_reference: str,
                         explanation: str) -> None:
        """An LPJ is accepted when its receipts account for the tranche: never more than it (the group cannot have
        spent the programme's money it never got), and a balance left unspent either returned — a refund recorded
        against the grant (``record_refund``), named by its reference — or explained."""
        if spent_rp > tranche_rp:
            raise RuleViolated("lpj.above_tranche", f"the receipts total Rp {spent_rp:,}, Rp {spent_rp - tranche_rp:,} "
                                                    f"more than tranche {number}'s Rp {tranche_rp:,}: return the LPJ "
                                                    "for correction", spent_rp=spent_rp, tranche_rp=tranche_rp,
                               difference_rp=spent_rp - tranche_rp)
        balance = tranche_rp - spent_rp
        returned = 0
        if refund_reference:
            if refund_reference not in self.refunds:
                raise RuleViolated("lpj.refund_unknown", f"no refund {refund_reference} is recorded against this "
                                                         "grant: the treasurer records it first",
                                   field="refund_reference")
            if refund_reference in {lpj.get("refund_reference") for lpj in self.lpj.values()}:
                raise Conflict(f"refund {refund_reference} already settled another LPJ", rule="lpj.refund_used",
                               field="refund_reference")
            returned = self.refunds[refund_reference]
        if balance > returned and not explanation:
            raise RuleViolated("lpj.balance_unsettled", f"Rp {balance - returned:,} of tranche {number} is not "
                                                        "accounted for: record its refund or explain it",
                               balance_rp=balance - returned, spent_rp=spent_rp, tranche_rp=tranche_rp)

    @event("LpjAccepted")
    def _lpj_accepted(self, tranche: int, by: str, proposal_id: uuid.UUID | None, group_id: uuid.UUID | None,
                      village_code: str | None, spent_rp: int | None, tranche_rp: int | None,
                      refund_reference: str | None, explanation: str | None) -> None:
        self.lpj = {**self.lpj, tranche: {**self.lpj[tranche], "status": "accepted",
                                          "refund_reference": refund_reference, "explanation": explanation}}

    @event("LpjReturned")
    def _lpj_returned(self, tranche: int, reason: str, by: str, proposal_id: uuid.UUID | None,
                      group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.lpj = {**self.lpj, tranche: {**self.lpj[tranche], "status": "returned"}}

    def record_visit(self, visit_date: date, business_status: str, findings: VisitFindings, notes: str,
                     actor: Actor, today: date, member_households: int, rules: MonitoringRules) -> str:
        """A monitoring visit after tranche 1 was paid, in date order, and the stage it places the group in."""
        check_role(actor, ("facilitator", "operator"), "record a monitoring visit")
        check_region(actor, self.village_code, "record a monitoring visit")
        for field in ("monthly_revenue_rp", "savings_rp", "iuran_rp"):
            check_rupiah(field, getattr(findings, field))
        if visit_date > today:
            raise ValidationFailed("visit_date", "visit.date_future", f"visit date {visit_date} is in the future")
        if business_status not in BUSINESS_STATUSES:
            raise ValidationFailed("business_status", "visit.status", "business status: running, struggling or "
                                                                       "stopped")
        check_findings(findings, member_households)
        first_paid = self.first_paid_on
        if first_paid is None or visit_date < first_paid:
            raise RuleViolated("visit.before_payment", "monitoring starts when tranche 1 is paid",
                               field="visit_date")
        if self.last_visit is not None and visit_date < self.last_visit["visit_date"]:
            raise RuleViolated("visit.order", f"a visit on {self.last_visit['visit_date']} is recorded already: "
                                              "visits are recorded in date order", field="visit_date")
        previous = self.last_visit["monthly_revenue_rp"] if self.last_visit else None
        trend = revenue_trend(findings.monthly_revenue_rp, previous, rules.revenue_tolerance_pct)
        stage = classify(findings, member_households, trend, rules)
        self._monitored(visit_date=visit_date, business_status=business_status,
                        monthly_revenue_rp=findings.monthly_revenue_rp, members_active=findings.members_active,
                        member_households=member_households, savings_rp=findings.savings_rp,
                        iuran_rp=findings.iuran_rp, trend=trend, stage=stage, notes=notes, by=actor.user,
                        **self._where())
        return stage

    # A visit recorded before visits were classified: its revenue is the next visit's trend's baseline.
    @event("Visited")
    def _visited(self, visit_date: date, business_status: str, monthly_revenue_rp: int, notes: str,
                 by: str, proposal_id: uuid.UUID | None, group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.visits += 1
        self.last_visit = {"visit_date": visit_date, "monthly_revenue_rp": monthly_revenue_rp, "stage": None}

    @event("Monitored")
    def _monitored(self, visit_date: date, business_status: str, monthly_revenue_rp: int, members_active: int,
                   member_households: int, savings_rp: int, iuran_rp: int, trend: str, stage: str, notes: str,
                   by: str, proposal_id: uuid.UUID, group_id: uuid.UUID, village_code: str) -> None:
        self.visits += 1
        self.last_visit = {"visit_date": visit_date, "monthly_revenue_rp": monthly_revenue_rp, "stage": stage}

    def attach_document(self, kind: str, sha256: str, size: int, media_type: str, actor: Actor,
                        payment_id: str | None = None, tranche: int | None = None) -> None:
        """A BAST or delivery photo to its equipment delivery, a receipt to a tranche's LPJ, a photo to a grant
        visited: evidence of what was recorded, so never before it was."""
        check_attachment(kind, GRANT_DOCUMENTS, actor, self.village_code, self.documents, sha256)
        if kind in ("bast", "delivery_photo"):
            if payment_id is None or self.payment(payment_id)["kind"] != "equipment":
                raise RuleViolated("evidence.not_yet", f"a {kind} is attached to a recorded equipment delivery: "
                                                       "name its payment", field="payment_id")
            tranche = None
        elif kind == "receipt":
            if tranche is None or tranche not in self.lpj:
                raise RuleViolated("evidence.not_yet", "a receipt is attached to a tranche whose LPJ was submitted",
                                   field="tranche")
            payment_id = None
        else:
            if not self.visits:
                raise RuleViolated("evidence.not_yet", "a monitoring photo is attached once a visit is recorded")
            payment_id = tranche = None
        self._grant_document_attached(kind=kind, sha256=sha256, size=size, media_type=media_type, by=actor.user,
                                      payment_id=payment_id, tranche=tranche, **self._where())

    @event("DocumentAttached")
    def _grant_document_attached(self, kind: str, sha256: str, size: int, media_type: str, by: str,
                                 payment_id: str | None, tranche: int | None, proposal_id: uuid.UUID | None,
                                 group_id: uuid.UUID | None, village_code: str | None,
                                 timestamp: datetime | None = None) -> None:
        self.documents = [*self.documents, Attachment(kind, sha256, size, media_type, by, timestamp, payment_id,
                                                      tranche)]

    def cancel(self, reason: str, by: str) -> None:
        """The approval was cancelled before any money left: nothing is paid after this (the proposal's
        cancellation and this one are recorded together, so a payment racing it collides with it)."""
        if self.committed_payments_rp:
            raise RuleViolated("grant.cancel_after_payment", "money is on its way or paid: record a refund instead "
                                                              "of cancelling")
        self._cancelled(reason=reason, by=by, **self._where())

    @event("Cancelled")
    def _cancelled(self, reason: str, by: str, proposal_id: uuid.UUID | None, group_id: uuid.UUID | None,
                   village_code: str | None) -> None:
        self.cancelled = True

    def record_refund(self, amount_rp: int, reason: str, reference: str, actor: Actor) -> None:
        """Money returned by the group — misused funds reclaimed, or a tranche's unspent balance (its LPJ names
        the refund's reference): never more than was disbursed."""
        check_role(actor, ("treasurer",), "record a refund")
        check_region(actor, self.village_code, "record a refund")
        check_rupiah("amount_rp", amount_rp, positive=True)
        if self.refunded_rp + amount_rp > self.disbursed_rp:
            raise RuleViolated("refund.above_disbursed", f"Rp {amount_rp:,} would refund more than the Rp "
                                                         f"{self.disbursed_rp - self.refunded_rp:,} still disbursed")
        if not reason.strip() or not reference.strip():
            raise ValidationFailed("reason", "refund.reason", "a refund needs its reason and a reference")
        self._refunded(amount_rp=amount_rp, reason=reason, reference=reference, by=actor.user, **self._where())

    @event("Refunded")
    def _refunded(self, amount_rp: int, reason: str, reference: str, by: str, proposal_id: uuid.UUID | None,
                  group_id: uuid.UUID | None, village_code: str | None) -> None:
        self.refunded_rp += amount_rp
        self.refunds = {**self.refunds, reference: self.refunds.get(reference, 0) + amount_rp}


def paid_on(timestamp: datetime) -> str:
    """The day a payment was confirmed or delivered, in Asia/Jakarta (ISO date): LPJ deadlines count from it."""
    return timestamp.astimezone(WIB).date().isoformat()


class LedgerSeal(Aggregate):
    """The money ledger's head, sealed and published (grants.ledger.sealed) so auditors can keep it elsewhere:
    whoever rewrites history later cannot also rewrite the heads already taken away."""

    ID = stable_id("ledger-seal", "grants")

    @staticmethod
    def create_id() -> uuid.UUID:
        return LedgerSeal.ID

    @event("Sealed")
    def __init__(self, seq: int, head_hash: str, by: str) -> None:
        self.seq, self.head_hash = seq, head_hash

    def reseal(self, seq: int, head_hash: str, by: str) -> None:
        if seq == self.seq:
            raise Conflict(f"the ledger has not moved since it was sealed at entry {seq}", rule="ledger.unchanged")
        self._resealed(seq=seq, head_hash=head_hash, by=by)

    @event("Resealed")
    def _resealed(self, seq: int, head_hash: str, by: str) -> None:
        self.seq, self.head_hash = seq, head_hash
