"""Grants application: the commands on proposals, budgets and grants — each loads its aggregates, lets the domain
decide and records the events with the read-model rows they change (the read model and the projections of upstream
events: readmodel.py; the reads: queries.py; the public events: public.py).

Commands that change more than one aggregate (approval: proposal + budget + grant) record them in one
transaction; concurrent commands on the same aggregate collide on its version and are retried from a fresh load,
so two approvals can never both spend the last of a budget and two instructions never both pay a tranche.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.grants import commands as cmd
from services.grants.attachments import DOCUMENT_READS, DOCUMENTS_DDL, GrantsAttachments
from services.grants.banking import LineVerdict
from services.grants.documents import GrantsDocuments
from services.grants.domain import (
    BUDGET_REGIONS,
    Budget,
    BudgetLine,
    Grant,
    GrantRules,
    HandoverItem,
    LedgerSeal,
    Proposal,
    SpendingLine,
    Tranche,
    region_at,
)
from services.grants.facts import Kube, SqlGrantsFacts
from services.grants.monitoring import MonitoringRules, VisitFindings, load_monitoring
from services.grants.public import PUBLIC_EVENTS
from services.grants.queries import GrantsQueries
from services.grants.readmodel import (
    AUDITED_TABLES,
    MIRRORED_TABLES,
    READ_MODEL_DDL,
    UPSERT_BUDGET,
    UPSERT_GRANT,
    UPSERT_PROPOSAL,
    GrantsReadModel,
    budget_row,
    grant_row,
    proposal_row,
)
from services.grants.treasury import GrantsTreasury
from shared.anchors import DocumentAnchors
from shared.contracts import EventData
from shared.document_store import DOCUMENTS
from shared.edge import known_id
from shared.errors import Conflict, NotFound, RuleViolated
from shared.ids import jakarta_today
from shared.jsonable import jsonable
from shared.keys import stable_id
from shared.store import ReadModelWrites, ServiceApplication
from shared.vocabulary import CLOSED_GROUP_STATUSES


class GrantsApplication(GrantsReadModel, GrantsQueries, GrantsTreasury, GrantsDocuments, GrantsAttachments,
                        DocumentAnchors, ServiceApplication):
    service_name = "grants"
    upstreams = ("registry", "training")
    value_objects = (BudgetLine, Tranche, HandoverItem, SpendingLine, LineVerdict)
    ledger_events = (Proposal.Approved, Proposal.Cancelled, Grant.Instructed, Grant.Sent, Grant.Confirmed,
                     Grant.Failed, Grant.PaymentCancelled, Grant.DeliveryRecorded, Grant.Delivered, Grant.Refunded,
                     Grant.Cancelled, Proposal.DocumentAttached, Grant.DocumentAttached)  # evidence: its hash chained
    read_model_ddl = (*READ_MODEL_DDL, *DOCUMENTS_DDL)
    append_only_tables = (DOCUMENTS, DOCUMENT_READS)
    audited_tables = AUDITED_TABLES
    mirrored_tables = MIRRORED_TABLES
    facts_class = SqlGrantsFacts

    def __init__(self, database_url: str | None, rules: GrantRules | None = None,
                 setup_url: str | None = None, monitoring: MonitoringRules | None = None) -> None:
        super().__init__(database_url, setup_url)
        self.rules = rules or GrantRules()
        self.monitoring = monitoring or load_monitoring()

    # --- recording with retries ---------------------------------------------------------------------------

    def _get(self, aggregate_id: uuid.UUID, kind: type, label: str):
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {label} {aggregate_id}", field=f"{label}_id") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {label} {aggregate_id}", field=f"{label}_id")
        return aggregate

    def _proposal(self, proposal_id: str) -> Proposal:
        return self._get(known_id(proposal_id, "proposal"), Proposal, "proposal")

    def _grant(self, proposal_id: str) -> Grant:
        return self._get(Grant.create_id(known_id(proposal_id, "grant")), Grant, "grant")

    # --- budgets ------------------------------------------------------------------------------------------

    def set_budget_ceiling(self, command: cmd.SetBudgetCeiling) -> str:
        actor = command.actor
        budget_id = Budget.create_id(command.fiscal_year, command.source, command.region)

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            try:
                budget = self.repository.get(budget_id)
                budget.set_ceiling(command.ceiling_rp, actor)
            except AggregateNotFoundError:
                budget = Budget.open(command.fiscal_year, command.source, command.ceiling_rp, actor, command.region)
            writes.add(UPSERT_BUDGET, budget_row(budget))
            return [budget]

        self.record_retrying(attempt)
        return str(budget_id)

    # --- proposals ----------------------------------------------------------------------------------------

    def draft_proposal(self, command: cmd.DraftProposal) -> str:
        kube = self._eligible_kube(command.group_id)
        self._check_none_open(command.group_id, kube)
        proposal = Proposal.draft(
            group_id=uuid.UUID(command.group_id), group_name=kube.name, village_code=kube.village_code,
            member_households=len(kube.households), business_plan=command.business_plan,
            budget_lines=[BudgetLine(**line.model_dump()) for line in command.budget_lines], form=command.form,
            actor=command.actor,
        )
        writes = ReadModelWrites()
        writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
        try:
            self.record(proposal, writes=writes)
        except IntegrityError:  # another draft for this group committed first
            self._check_none_open(command.group_id, kube)
            raise Conflict(f"another proposal for KUBE {kube.name} was drafted at the same moment; look again",
                           rule="proposal.one_open") from None
        return str(proposal.id)

    def _check_none_open(self, group_id: str, kube: Kube) -> None:
        """A second proposal in progress for a group would let it be funded twice (a retried draft, say)."""
        open_proposals = self.facts.open_proposals(group_id)
        if open_proposals:
            raise Conflict(f"KUBE {kube.name} already has a proposal in progress ({', '.join(open_proposals)}): "
                           "continue that one", rule="proposal.one_open", proposal_id=open_proposals[0])

    def _eligible_kube(self, group_id: str) -> Kube:
        """A proposal is for a formed group whose households are all still active in BDT, decile ≤ limit."""
        kube = self.facts.kube(group_id)
        if kube is None:
            raise NotFound(f"grants knows no KUBE {group_id} (yet)", field="group_id", group_id=group_id)
        if kube.status != "formed":
            raise RuleViolated("proposal.group_status", f"KUBE {kube.name} is {kube.status}: only a formed "
                                                        "group can propose", group_id=group_id)
        standings = self.facts.standings(kube.households)
        for household_id in kube.households:
            standing = standings.get(household_id)
            if standing is None or standing.bdt_status != "active" or standing.decile > self.rules.max_decile:
                state = "unknown" if standing is None else f"{standing.bdt_status}, decile {standing.decile}"
                raise RuleViolated("proposal.household_eligible", f"household {household_id} of KUBE {kube.name} "
                                                                  f"is not eligible ({state})",
                                   household_id=household_id, group_id=group_id)
        return kube

    def submit(self, command: cmd.ProposalAction) -> None:
        self._proposal_step(command, lambda p: p.submit(command.actor))

    def verify(self, command: cmd.ProposalAction) -> None:
        self._proposal_step(command, lambda p: p.verify(command.actor))

    def recommend(self, command: cmd.ProposalAction) -> None:
        self._proposal_step(command, lambda p: p.recommend(command.actor))

    def return_for_revision(self, command: cmd.ReasonedAction) -> None:
        self._proposal_step(command, lambda p: p.return_for_revision(command.actor, command.reason))

    def reject(self, command: cmd.ReasonedAction) -> None:
        self._proposal_step(command, lambda p: p.reject(command.actor, command.reason))

    def resubmit(self, command: cmd.Resubmit) -> None:
        def change(proposal: Proposal) -> None:
            kube = self._eligible_kube(str(proposal.group_id))  # a returned proposal is checked again, as it is now
            lines = ([BudgetLine(**line.model_dump()) for line in command.budget_lines]
                     if command.budget_lines is not None else None)
            proposal.resubmit(command.actor, member_households=len(kube.households),
                              business_plan=command.business_plan, budget_lines=lines, form=command.form)

        self._proposal_step(command, change)

    def _proposal_step(self, command: cmd.ProposalAction, change: Callable[[Proposal], None]) -> None:
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            proposal = self._proposal(command.proposal_id)
            change(proposal)
            writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
            return [proposal]

        self.record_retrying(attempt)

    def approve(self, command: cmd.Approve) -> None:
        actor = command.actor

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            proposal = self._proposal(command.proposal_id)
            budget = self._paying_budget(command.fiscal_year, command.source, proposal.village_code)
            proposal.approve(actor, command.amount_rp, command.form, budget, self.rules, command.decree_number)
            grant = Grant.open(proposal, self.rules)
            writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
            writes.add(UPSERT_BUDGET, budget_row(budget))
            writes.add(UPSERT_GRANT, grant_row(grant))
            return [proposal, budget, grant]

        self.record_retrying(attempt)

    def _paying_budget(self, fiscal_year: int, source: str, village_code: str) -> Budget:
        """The budget of ``source`` that funds a group of ``village_code``: its province's or regency's — for APBN
        the allotment to its province if the ministry made one, else the national ceiling."""
        for level in reversed(BUDGET_REGIONS[source]):  # the narrowest region first
            try:
                return self._get(Budget.create_id(fiscal_year, source, region_at(level, village_code)), Budget,
                                 "budget")
            except NotFound:
                continue
        raise NotFound(f"no {fiscal_year} {source} budget funds a group of {village_code}: its owner sets a ceiling "
                       "first", field="source", rule="budget.none")

    def cancel(self, command: cmd.ReasonedAction) -> None:
        actor = command.actor

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            proposal = self._proposal(command.proposal_id)
            grant = self._grant(command.proposal_id)
            approval = proposal.approval or {}
            budget = self._get(Budget.create_id(approval["fiscal_year"], approval["source"], approval["region"]),
                               Budget, "budget")
            proposal.cancel(actor, command.reason, budget)
            grant.cancel(command.reason, actor.user)
            writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
            writes.add(UPSERT_BUDGET, budget_row(budget))
            writes.add(UPSERT_GRANT, grant_row(grant))
            return [proposal, budget, grant]

        self.record_retrying(attempt)

    # --- the ledger's head ---------------------------------------------------------------------------------

    def seal_ledger(self, by: str) -> dict:
        """Publish today's head of the money ledger as an event (and return it)."""
        head = self.facts.ledger_head()
        try:
            seal: LedgerSeal = self.repository.get(LedgerSeal.ID)
            seal.reseal(head.seq, head.hash, by)
        except AggregateNotFoundError:
            seal = LedgerSeal(seq=head.seq, head_hash=head.hash, by=by)
        self.record(seal)
        return {"seq": head.seq, "hash": head.hash}

    # --- the grant's money --------------------------------------------------------------------------------

    def instruct(self, command: cmd.Instruct) -> dict:
        """Instruct a tranche's transfer. The same idempotency key again is the same payment, never a second."""
        return self._pay(command, lambda grant, payment_id: grant.instruct(
            command.tranche, payment_id, command.actor, self.facts.gate_open(grant.group_id)))

    def deliver(self, command: cmd.Deliver) -> dict:
        items = [HandoverItem(**item.model_dump()) for item in command.items]
        return self._pay(command, lambda grant, payment_id: grant.deliver(
            command.tranche, payment_id, items, command.handover_date, command.receiver, command.actor,
            self.facts.gate_open(grant.group_id), jakarta_today()))

    def _pay(self, command: cmd.Instruct | cmd.Deliver, pay: Callable[[Grant, str], None]) -> dict:
        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], dict]:
            grant = self._grant(command.proposal_id)
            payment_id = str(stable_id("payment", grant.id, command.idempotency_key))
            if payment_id in grant.payments:
                existing = grant.payments[payment_id]
                if existing["tranche"] != command.tranche:
                    raise Conflict(f"idempotency key already used for tranche {existing['tranche']}",
                                   rule="idempotency.key_reused", field="idempotency_key")
                return [], payment_result(existing, repeated=True)
            pay(grant, payment_id)
            writes.add(UPSERT_GRANT, grant_row(grant))
            return [grant], payment_result(grant.payments[payment_id], repeated=False)

        return self.decide_retrying(attempt)

    def mark_sent(self, command: cmd.PaymentAction) -> None:
        self._grant_step(command, lambda g: g.mark_sent(command.payment_id, command.actor))

    def confirm(self, command: cmd.Confirm) -> None:
        self._grant_step(command, lambda g: g.confirm(command.payment_id, command.bank_reference, command.actor))

    def fail(self, command: cmd.Fail) -> None:
        self._grant_step(command, lambda g: g.fail(command.payment_id, command.reason, command.actor))

    def cancel_payment(self, command: cmd.Fail) -> None:
        self._grant_step(command, lambda g: g.cancel_payment(command.payment_id, command.reason, command.actor))

    def accept_handover(self, command: cmd.PaymentAction) -> None:
        self._grant_step(command, lambda g: g.accept_handover(command.payment_id, command.actor))

    def submit_lpj(self, command: cmd.SubmitLpj) -> None:
        lines = [SpendingLine(**line.model_dump()) for line in command.lines]
        self._grant_step(command, lambda g: g.submit_lpj(command.tranche, lines, command.actor, jakarta_today()))

    def review_lpj(self, command: cmd.ReviewLpj) -> None:
        self._grant_step(command, lambda g: g.review_lpj(command.tranche, command.accept, command.actor,
                                                         command.reason, command.refund_reference,
                                                         command.explanation))

    def record_visit(self, command: cmd.RecordVisit) -> str:
        """Record a monitoring visit; answers the stage it places the group in."""
        findings = VisitFindings(command.monthly_revenue_rp, command.members_active, command.savings_rp,
                                 command.iuran_rp)
        stages = []

        def visit(grant: Grant) -> None:
            kube = self.facts.kube(str(grant.group_id))
            if kube is None or kube.status in CLOSED_GROUP_STATUSES:
                raise RuleViolated("visit.group_closed", "the group has graduated or was dissolved: its monitoring "
                                                         "has ended", status=kube.status if kube else None)
            stages.append(grant.record_visit(command.visit_date, command.business_status, findings, command.notes,
                                             command.actor, jakarta_today(), len(kube.households), self.monitoring))

        self._grant_step(command, visit)
        return stages[-1]

    def record_refund(self, command: cmd.RecordRefund) -> None:
        self._grant_step(command, lambda g: g.record_refund(command.amount_rp, command.reason, command.reference,
                                                            command.actor))

    def _grant_step(self, command: cmd.Acting, change: Callable[[Grant], None]) -> None:
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            grant = self._grant(command.proposal_id)
            change(grant)
            writes.add(UPSERT_GRANT, grant_row(grant))
            return [grant]

        self.record_retrying(attempt)

    # --- public events ------------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        mapper = PUBLIC_EVENTS.get(type(domain_event))
        if mapper is None:
            raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
        return mapper(self, domain_event)


def payment_result(payment: dict, repeated: bool) -> dict:
    return {**jsonable(payment), "repeated": repeated}
