"""Grants application: proposals, budgets and grants; and what grants knows of households, groups and the Family
School from upstream events (its own read models — never another service's database).

Commands that change more than one aggregate (approval: proposal + budget + grant) record them in one
transaction; concurrent commands on the same aggregate collide on its version and are retried from a fresh load,
so two approvals can never both spend the last of a budget and two instructions never both pay a tranche.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from psycopg.types.json import Jsonb

from services.grants import commands as cmd
from services.grants.domain import (
    PAID,
    Actor,
    Budget,
    BudgetLine,
    Grant,
    GrantRules,
    HandoverItem,
    LedgerSeal,
    Proposal,
    SpendingLine,
    Tranche,
    TrancheProgress,
    check_tranche_order,
)
from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, EventData, training
from shared.contracts import grants as public
from shared.contracts import registry as upstream
from shared.errors import Conflict, NotFound, RuleViolated
from shared.ids import jakarta_today
from shared.jsonable import event_record, jsonable
from shared.keys import stable_id
from shared.ledger import GENESIS
from shared.store import AuditedTable, ReadModelWrites, ServiceApplication, added_column, in_region

CHANGE_MEMBER_COUNT = """
    UPDATE households SET member_count = member_count + %s, projected_at = clock_timestamp() WHERE kk = %s"""
UPSERT_GROUP = """
    INSERT INTO groups (group_id, name, village_code, kind, status, members) VALUES (%s, %s, %s, %s, 'formed', %s)
    ON CONFLICT (group_id) DO UPDATE SET members = EXCLUDED.members"""
OPEN_PROPOSAL = "status NOT IN ('rejected', 'cancelled')"
# status_since: when the proposal entered its status (a flag changes the proposal, not how long it has waited).
UPSERT_PROPOSAL = """
    INSERT INTO proposals (proposal_id, group_id, group_name, village_code, status, requested_rp, approved_rp,
                           form, flagged, fiscal_year, source, times_returned, updated_at, status_since)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now())
    ON CONFLICT (proposal_id) DO UPDATE SET status = EXCLUDED.status, requested_rp = EXCLUDED.requested_rp,
        approved_rp = EXCLUDED.approved_rp, form = EXCLUDED.form, flagged = EXCLUDED.flagged,
        fiscal_year = EXCLUDED.fiscal_year, source = EXCLUDED.source, times_returned = EXCLUDED.times_returned,
        updated_at = now(), status_since = CASE WHEN proposals.status = EXCLUDED.status
                                                THEN proposals.status_since ELSE now() END"""
UPSERT_BUDGET = """
    INSERT INTO budgets (budget_id, fiscal_year, source, ceiling_rp, committed_rp) VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (budget_id) DO UPDATE SET ceiling_rp = EXCLUDED.ceiling_rp, committed_rp = EXCLUDED.committed_rp"""
UPSERT_GRANT = """
    INSERT INTO grants (grant_id, proposal_id, group_id, village_code, amount_rp, form, disbursed_rp, refunded_rp,
                        state)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (grant_id) DO UPDATE SET disbursed_rp = EXCLUDED.disbursed_rp,
        refunded_rp = EXCLUDED.refunded_rp, state = EXCLUDED.state"""


def actor_of(command: cmd.Acting) -> Actor:
    return Actor(user=command.actor.user, role=command.actor.role, region=command.actor.region)


class GrantsApplication(ServiceApplication):
    service_name = "grants"
    upstreams = ("registry", "training")
    value_objects = (BudgetLine, Tranche, HandoverItem, SpendingLine)
    ledger_events = (Proposal.Approved, Proposal.Cancelled, Grant.Instructed, Grant.Sent, Grant.Confirmed,
                     Grant.Failed, Grant.PaymentCancelled, Grant.Delivered, Grant.Refunded, Grant.Cancelled)
    read_model_ddl = (
        """CREATE TABLE IF NOT EXISTS households (
            kk text PRIMARY KEY, household_id uuid NOT NULL, village_code text NOT NULL, decile int NOT NULL,
            bdt_status text NOT NULL, member_count int NOT NULL,
            registered_at timestamptz NOT NULL, projected_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
        "CREATE INDEX IF NOT EXISTS households_village ON households (village_code)",
        """CREATE TABLE IF NOT EXISTS village_households (
            village_code text PRIMARY KEY, households int NOT NULL, members int NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS groups (
            group_id uuid PRIMARY KEY, name text NOT NULL, village_code text NOT NULL, kind text NOT NULL,
            status text NOT NULL, members jsonb NOT NULL)""",
        # The Family School gate per group, from training's events (closed until training says otherwise).
        """CREATE TABLE IF NOT EXISTS family_school_gates (
            group_id uuid PRIMARY KEY, open boolean NOT NULL, completed int NOT NULL, representatives int NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE IF NOT EXISTS proposals (
            proposal_id uuid PRIMARY KEY, group_id uuid NOT NULL, group_name text NOT NULL,
            village_code text NOT NULL, status text NOT NULL, requested_rp bigint NOT NULL, approved_rp bigint,
            form text NOT NULL, flagged boolean NOT NULL, fiscal_year int, source text, times_returned int NOT NULL,
            updated_at timestamptz NOT NULL, status_since timestamptz NOT NULL)""",
        # An older table's proposals: since their last change (only a flag changes one without its status).
        added_column("proposals", "status_since", "timestamptz", "UPDATE proposals SET status_since = updated_at"),
        "CREATE INDEX IF NOT EXISTS proposals_region ON proposals (village_code, status)",
        "CREATE INDEX IF NOT EXISTS proposals_group ON proposals (group_id)",
        # One proposal in progress per group, also when two drafts race (the second transaction fails here).
        f"CREATE UNIQUE INDEX IF NOT EXISTS proposals_one_open ON proposals (group_id) WHERE {OPEN_PROPOSAL}",
        """CREATE TABLE IF NOT EXISTS budgets (
            budget_id uuid PRIMARY KEY, fiscal_year int NOT NULL, source text NOT NULL, ceiling_rp bigint NOT NULL,
            committed_rp bigint NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS grants (
            grant_id uuid PRIMARY KEY, proposal_id uuid NOT NULL UNIQUE, group_id uuid NOT NULL,
            village_code text NOT NULL, amount_rp bigint NOT NULL, form text NOT NULL, disbursed_rp bigint NOT NULL,
            refunded_rp bigint NOT NULL, state jsonb NOT NULL)""",
    )

    def __init__(self, database_url: str, rules: GrantRules | None = None, setup_url: str | None = None) -> None:
        super().__init__(database_url, setup_url)
        self.rules = rules or GrantRules()
        self._project_stale_grants_again()

    def _project_stale_grants_again(self) -> None:
        """Grant rows projected by a release before the treasurer's list — no approval time, live payment or paid
        date in their state — are projected again from their grants, once (idempotent: replicas may race)."""
        writes = ReadModelWrites()
        for row in self.query("SELECT grant_id FROM grants WHERE NOT state ? 'approved_at'"):
            writes.add(UPSERT_GRANT, grant_row(self._get(row["grant_id"], Grant, "grant")))
        if len(writes):
            with self.transaction() as cursor:
                writes.apply(cursor)

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
        return self._get(uuid.UUID(proposal_id), Proposal, "proposal")

    def _grant(self, proposal_id: str) -> Grant:
        return self._get(Grant.create_id(uuid.UUID(proposal_id)), Grant, "grant")

    # --- budgets ------------------------------------------------------------------------------------------

    def set_budget_ceiling(self, command: cmd.SetBudgetCeiling) -> str:
        actor = actor_of(command)
        budget_id = Budget.create_id(command.fiscal_year, command.source)

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            try:
                budget = self.repository.get(budget_id)
                budget.set_ceiling(command.ceiling_rp, actor)
            except AggregateNotFoundError:
                budget = Budget.open(command.fiscal_year, command.source, command.ceiling_rp, actor)
            writes.add(UPSERT_BUDGET, budget_row(budget))
            return [budget]

        self.record_retrying(attempt)
        return str(budget_id)

    # --- proposals ----------------------------------------------------------------------------------------

    def draft_proposal(self, command: cmd.DraftProposal) -> str:
        group = self._eligible_group(command.group_id)
        if group["open_proposals"]:
            raise self._one_open(group)
        proposal = Proposal.draft(
            group_id=uuid.UUID(command.group_id), group_name=group["name"], village_code=group["village_code"],
            member_households=len(group["members"]), business_plan=command.business_plan,
            budget_lines=[BudgetLine(**line.model_dump()) for line in command.budget_lines], form=command.form,
            actor=actor_of(command),
        )
        writes = ReadModelWrites()
        writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
        try:
            self.record(proposal, writes=writes)
        except IntegrityError:  # another draft for this group committed first
            raise self._one_open(self._eligible_group(command.group_id)) from None
        return str(proposal.id)

    @staticmethod
    def _one_open(group: dict) -> Conflict:
        """A second proposal in progress for a group would let it be funded twice (a retried draft, say)."""
        return Conflict(f"KUBE {group['name']} already has a proposal in progress "
                        f"({', '.join(group['open_proposals'])}): continue that one", rule="proposal.one_open",
                        proposal_id=group["open_proposals"][0] if group["open_proposals"] else None)

    def _eligible_group(self, group_id: str) -> dict:
        """A proposal is for a formed group whose households are all still active in BDT, decile ≤ limit."""
        rows = self.query("SELECT name, village_code, status, members FROM groups WHERE group_id = %s", (group_id,))
        if not rows:
            raise NotFound(f"grants knows no KUBE {group_id} (yet)", field="group_id", group_id=group_id)
        group = rows[0]
        if group["status"] != "formed":
            raise RuleViolated("proposal.group_status", f"KUBE {group['name']} is {group['status']}: only a formed "
                                                        "group can propose", group_id=group_id)
        open_proposals = self.query(f"SELECT proposal_id FROM proposals WHERE group_id = %s AND {OPEN_PROPOSAL}",
                                    (group_id,))
        kks = [member["kk"] for member in group["members"]]
        households = {row["kk"]: row for row in self.query(
            "SELECT kk, bdt_status, decile FROM households WHERE kk = ANY(%s)", (kks,))}
        for kk in kks:
            household = households.get(kk)
            if household is None or household["bdt_status"] != "active" or household["decile"] > self.rules.max_decile:
                state = "unknown" if household is None else f"{household['bdt_status']}, decile {household['decile']}"
                raise RuleViolated("proposal.household_eligible", f"household {kk} of KUBE {group['name']} is not "
                                                                  f"eligible ({state})", kk=kk, group_id=group_id)
        group["open_proposals"] = [str(row["proposal_id"]) for row in open_proposals]
        return group

    def submit(self, command: cmd.ProposalAction) -> None:
        self._proposal_step(command, lambda p: p.submit(actor_of(command)))

    def verify(self, command: cmd.ProposalAction) -> None:
        self._proposal_step(command, lambda p: p.verify(actor_of(command)))

    def recommend(self, command: cmd.ProposalAction) -> None:
        self._proposal_step(command, lambda p: p.recommend(actor_of(command)))

    def return_for_revision(self, command: cmd.ReasonedAction) -> None:
        self._proposal_step(command, lambda p: p.return_for_revision(actor_of(command), command.reason))

    def reject(self, command: cmd.ReasonedAction) -> None:
        self._proposal_step(command, lambda p: p.reject(actor_of(command), command.reason))

    def resubmit(self, command: cmd.Resubmit) -> None:
        def change(proposal: Proposal) -> None:
            self._eligible_group(str(proposal.group_id))  # a returned proposal is checked again before it climbs
            lines = ([BudgetLine(**line.model_dump()) for line in command.budget_lines]
                     if command.budget_lines is not None else None)
            proposal.resubmit(actor_of(command), business_plan=command.business_plan, budget_lines=lines,
                              form=command.form)

        self._proposal_step(command, change)

    def _proposal_step(self, command: cmd.ProposalAction, change: Callable[[Proposal], None]) -> None:
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            proposal = self._proposal(command.proposal_id)
            change(proposal)
            writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
            return [proposal]

        self.record_retrying(attempt)

    def approve(self, command: cmd.Approve) -> None:
        actor = actor_of(command)

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            proposal = self._proposal(command.proposal_id)
            budget = self._get(Budget.create_id(command.fiscal_year, command.source), Budget, "budget")
            proposal.approve(actor, command.amount_rp, command.form, budget, self.rules)
            grant = Grant.open(proposal, self.rules)
            writes.add(UPSERT_PROPOSAL, proposal_row(proposal))
            writes.add(UPSERT_BUDGET, budget_row(budget))
            writes.add(UPSERT_GRANT, grant_row(grant))
            return [proposal, budget, grant]

        self.record_retrying(attempt)

    def cancel(self, command: cmd.ReasonedAction) -> None:
        actor = actor_of(command)

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            proposal = self._proposal(command.proposal_id)
            grant = self._grant(command.proposal_id)
            approval = proposal.approval or {}
            budget = self._get(Budget.create_id(approval["fiscal_year"], approval["source"]), Budget, "budget")
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
        rows = self.query("SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")
        seq, head = (rows[0]["seq"], rows[0]["entry_hash"]) if rows else (0, GENESIS)
        try:
            seal: LedgerSeal = self.repository.get(LedgerSeal.ID)
            seal.reseal(seq, head, by)
        except AggregateNotFoundError:
            seal = LedgerSeal(seq=seq, head_hash=head, by=by)
        self.record(seal)
        return {"seq": seq, "hash": head}

    # --- the grant's money --------------------------------------------------------------------------------

    def gate_open(self, group_id: uuid.UUID) -> bool:
        rows = self.query("SELECT open FROM family_school_gates WHERE group_id = %s", (group_id,))
        return bool(rows and rows[0]["open"])

    def instruct(self, command: cmd.Instruct) -> dict:
        """Instruct a tranche's transfer. The same idempotency key again is the same payment, never a second."""
        return self._pay(command, lambda grant, payment_id: grant.instruct(
            command.tranche, payment_id, actor_of(command), self.gate_open(grant.group_id)))

    def deliver(self, command: cmd.Deliver) -> dict:
        items = [HandoverItem(**item.model_dump()) for item in command.items]
        return self._pay(command, lambda grant, payment_id: grant.deliver(
            command.tranche, payment_id, items, command.handover_date, command.receiver, actor_of(command),
            self.gate_open(grant.group_id), jakarta_today()))

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
        self._grant_step(command, lambda g: g.mark_sent(command.payment_id, actor_of(command)))

    def confirm(self, command: cmd.Confirm) -> None:
        self._grant_step(command, lambda g: g.confirm(command.payment_id, command.bank_reference, actor_of(command)))

    def fail(self, command: cmd.Fail) -> None:
        self._grant_step(command, lambda g: g.fail(command.payment_id, command.reason, actor_of(command)))

    def cancel_payment(self, command: cmd.Fail) -> None:
        self._grant_step(command, lambda g: g.cancel_payment(command.payment_id, command.reason, actor_of(command)))

    def submit_lpj(self, command: cmd.SubmitLpj) -> None:
        lines = [SpendingLine(**line.model_dump()) for line in command.lines]
        self._grant_step(command, lambda g: g.submit_lpj(command.tranche, lines, actor_of(command), jakarta_today()))

    def review_lpj(self, command: cmd.ReviewLpj) -> None:
        self._grant_step(command, lambda g: g.review_lpj(command.tranche, command.accept, actor_of(command),
                                                         command.reason))

    def record_visit(self, command: cmd.RecordVisit) -> None:
        self._grant_step(command, lambda g: g.record_visit(command.visit_date, command.business_status,
                                                           command.monthly_revenue_rp, command.notes,
                                                           actor_of(command), jakarta_today()))

    def record_refund(self, command: cmd.RecordRefund) -> None:
        self._grant_step(command, lambda g: g.record_refund(command.amount_rp, command.reason, command.reference,
                                                            actor_of(command)))

    def _grant_step(self, command: cmd.Acting, change: Callable[[Grant], None]) -> None:
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            grant = self._grant(command.proposal_id)
            change(grant)
            writes.add(UPSERT_GRANT, grant_row(grant))
            return [grant]

        self.record_retrying(attempt)

    # --- registry events ----------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: upstream.HouseholdRegisteredV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.insert("households", {
            "kk": data.kk, "household_id": data.household_id, "village_code": data.village_code,
            "decile": data.decile, "bdt_status": data.bdt_status, "member_count": len(data.members),
            "registered_at": envelope.time})
        # Counted, not recomputed: applying an event twice would show here (the tests rely on it).
        unit.writes.increment("village_households", {"village_code": data.village_code},
                              {"households": 1, "members": len(data.members)})

    @handles("registry.household.member_added")
    def on_member_added(self, data: upstream.HouseholdMemberAddedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(CHANGE_MEMBER_COUNT, (1, data.kk))
        unit.writes.increment("village_households", {"village_code": data.village_code},
                              {"households": 0, "members": 1})

    @handles("registry.household.member_removed")
    def on_member_removed(self, data: upstream.HouseholdMemberRemovedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add(CHANGE_MEMBER_COUNT, (-1, data.kk))
        unit.writes.add("UPDATE village_households SET members = members - 1 WHERE village_code = "
                        "(SELECT village_code FROM households WHERE kk = %s)", (data.kk,))

    @handles("registry.household.status_changed")
    def on_status_changed(self, data: upstream.HouseholdStatusChangedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE households SET bdt_status = %s, projected_at = clock_timestamp() WHERE kk = %s",
                        (data.bdt_status, data.kk))
        if data.bdt_status != "active":
            self._flag_proposals_of_household(data.kk, f"household {data.kk} is now {data.bdt_status} in BDT", unit)

    @handles("registry.household.decile_changed")
    def on_decile_changed(self, data: upstream.HouseholdDecileChangedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE households SET decile = %s, projected_at = clock_timestamp() WHERE kk = %s",
                        (data.decile, data.kk))
        if data.decile > self.rules.max_decile:
            self._flag_proposals_of_household(data.kk, f"household {data.kk} moved to decile {data.decile}", unit)

    @handles("registry.group.formed")
    def on_group_formed(self, data: upstream.GroupFormedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_GROUP, (data.group_id, data.name, data.village_code, data.kind,
                                       Jsonb([m.model_dump() for m in data.members])))

    @handles("registry.group.member_changed")
    def on_group_member_changed(self, data: upstream.GroupMemberChangedV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET members = %s WHERE group_id = %s",
                        (Jsonb([m.model_dump() for m in data.members]), data.group_id))
        self._flag_proposals(data.group_id, f"the group's membership changed: {data.reason}", unit)

    @handles("registry.group.funded")
    def on_group_funded(self, data: upstream.GroupFundedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'funded' WHERE group_id = %s", (data.group_id,))

    @handles("registry.group.dissolved")
    def on_group_dissolved(self, data: upstream.GroupDissolvedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'dissolved' WHERE group_id = %s", (data.group_id,))
        self._flag_proposals(data.group_id, f"the group was dissolved: {data.reason}", unit)

    def _flag_proposals_of_household(self, kk: str, reason: str, unit: UnitOfWork) -> None:
        for row in self.query("SELECT group_id FROM groups WHERE members @> %s::jsonb AND status = 'formed'",
                              (Jsonb([{"kk": kk}]),)):
            self._flag_proposals(row["group_id"], reason, unit)

    def _flag_proposals(self, group_id: uuid.UUID, reason: str, unit: UnitOfWork) -> None:
        for row in self.query("SELECT proposal_id FROM proposals WHERE group_id = %s AND status IN "
                              "('draft', 'submitted', 'verified', 'recommended', 'returned')", (group_id,)):
            proposal: Proposal = unit.get(row["proposal_id"])
            proposal.flag(reason)
            unit.writes.add(UPSERT_PROPOSAL, proposal_row(proposal))

    # --- training events ----------------------------------------------------------------------------------

    @handles("training.gate.changed")
    def on_gate_changed(self, data: training.GateChangedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(
            "INSERT INTO family_school_gates (group_id, open, completed, representatives) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (group_id) DO UPDATE SET open = EXCLUDED.open, completed = EXCLUDED.completed, "
            "representatives = EXCLUDED.representatives, updated_at = now()",
            (data.group_id, data.open, data.completed, data.representatives))

    # --- queries ------------------------------------------------------------------------------------------

    def household(self, kk: str) -> dict | None:
        rows = self.query(
            "SELECT kk, household_id::text, village_code, decile, bdt_status, member_count FROM households "
            "WHERE kk = %s", (kk,))
        return rows[0] if rows else None

    def households_summary(self) -> dict:
        row = self.query("SELECT count(*) AS households, coalesce(sum(member_count), 0) AS members, "
                         "count(*) FILTER (WHERE decile <= 4) AS decile_1_to_4 FROM households")[0]
        return {key: int(value) for key, value in row.items()}

    def households_by_village(self) -> dict[str, int]:
        rows = self.query("SELECT village_code, households FROM village_households ORDER BY village_code")
        return {row["village_code"]: row["households"] for row in rows}

    def group(self, group_id: str) -> dict | None:
        rows = self.query("SELECT group_id::text, name, village_code, kind, status, members FROM groups "
                          "WHERE group_id = %s", (group_id,))
        return rows[0] if rows else None

    def proposals(self, status: str | None = None, region: str | None = None, page: int = 1, size: int = 50,
                  oldest_first: bool = False) -> dict:
        """Newest change first; or, for a reviewer's queue, the proposal waiting longest in its status first."""
        where, params = in_region("village_code", region)
        sql = ("SELECT proposal_id::text, group_id::text, group_name, village_code, status, requested_rp, "
               "approved_rp, form, flagged, fiscal_year, source, times_returned, updated_at, status_since "
               f"FROM proposals WHERE {where}")
        if status:
            sql, params = sql + " AND status = %s", (*params, status)
        order = "status_since, proposal_id" if oldest_first else "updated_at DESC, proposal_id"
        listed = self.page(f"{sql} ORDER BY {order}", params, page, size)
        listed["items"] = [{**row, "updated_at": utc_iso(row["updated_at"]),
                            "status_since": utc_iso(row["status_since"])} for row in listed["items"]]
        return listed

    def proposal_counts(self, region: str | None = None) -> dict[str, int]:
        where, params = in_region("village_code", region)
        return {row["status"]: row["n"] for row in self.query(
            f"SELECT status, count(*) AS n FROM proposals WHERE {where} GROUP BY status", params)}

    def proposal(self, proposal_id: str) -> dict:
        proposal = self._proposal(proposal_id)
        return {
            "proposal_id": str(proposal.id), "group_id": str(proposal.group_id), "group_name": proposal.group_name,
            "village_code": proposal.village_code, "status": proposal.status, "form": proposal.form,
            "requested_rp": proposal.requested_rp, "member_households": proposal.member_households,
            "cap_rp": proposal.cap_rp(self.rules), "budget_lines": jsonable(proposal.budget_lines),
            "business_plan": proposal.business_plan, "flags": proposal.flags, "approval": proposal.approval,
            "history": [event_record(e) for e in self.events.get(proposal.id)],
        }

    def grant(self, proposal_id: str) -> dict:
        grant = self._grant(proposal_id)
        return {
            "grant_id": str(grant.id), "proposal_id": str(grant.proposal_id), "group_id": str(grant.group_id),
            "village_code": grant.village_code, "amount_rp": grant.amount_rp, "form": grant.form,
            "disbursed_rp": grant.disbursed_rp, "refunded_rp": grant.refunded_rp,
            "family_school_gate_open": self.gate_open(grant.group_id),
            "tranches": [{"number": t.number, "amount_rp": t.amount_rp, "status": grant.tranche_status(t.number),
                          "lpj": grant.lpj.get(t.number, {}).get("status")} for t in grant.tranches],
            "payments": list(grant.payments.values()), "visits": grant.visits,
            "history": [event_record(e) for e in self.events.get(grant.id)],
        }

    def budgets(self, fiscal_year: int | None = None) -> list[dict]:
        sql, params = "SELECT budget_id::text, fiscal_year, source, ceiling_rp, committed_rp FROM budgets", ()
        if fiscal_year:
            sql, params = sql + " WHERE fiscal_year = %s", (fiscal_year,)
        rows = self.query(sql + " ORDER BY fiscal_year, source", params)
        return [{**row, "available_rp": row["ceiling_rp"] - row["committed_rp"]} for row in rows]

    def payables(self, region: str | None = None) -> list[dict]:
        """The treasurer's list: each grant with a tranche not paid yet, oldest approval first; for each tranche,
        whether it can be paid now and, if the rules block it, which rule (check_tranche_order decides)."""
        where, params = in_region("g.village_code", region)
        rows = self.query(
            "SELECT g.proposal_id::text, g.group_id::text, p.group_name, g.village_code, g.amount_rp, g.form, "
            "g.disbursed_rp, g.state, coalesce(f.open, false) AS gate_open FROM grants g "
            "JOIN proposals p USING (proposal_id) LEFT JOIN family_school_gates f ON f.group_id = g.group_id "
            f"WHERE p.status = 'approved' AND {where} AND EXISTS (SELECT FROM jsonb_each(g.state -> 'tranches') "
            "AS t(number, tranche) WHERE t.tranche ->> 'status' <> ALL(%s)) "
            "ORDER BY (g.state ->> 'approved_at')::timestamptz, g.proposal_id", (*params, list(PAID)))
        listed = []
        for row in rows:
            state, gate_open = row.pop("state"), row.pop("gate_open")
            tranches = sorted((int(number), tranche) for number, tranche in state["tranches"].items())
            progress = [TrancheProgress(number, t["status"] in PAID, t["lpj"]) for number, t in tranches]
            listed.append({**row, "approved_at": state["approved_at"], "tranches": [
                {"number": number, "amount_rp": t["amount_rp"], "status": t["status"], "payment_id": t["payment_id"],
                 "failed": t["failed"], "lpj": t["lpj"],
                 **payable(number, t["status"], progress[: number - 1], gate_open)}
                for number, t in tranches]})
        return listed

    def lpj_due(self, region: str | None = None) -> list[dict]:
        """Paid tranches whose LPJ is not accepted yet, longest paid first; overdue after lpj_due_days."""
        where, params = in_region("g.village_code", region)
        rows = self.query(
            "SELECT g.proposal_id::text, p.group_name, g.village_code, t.number::int AS tranche, "
            "(t.tranche ->> 'paid_on')::date AS paid_on, t.tranche ->> 'lpj' AS lpj FROM grants g "
            "JOIN proposals p USING (proposal_id), jsonb_each(g.state -> 'tranches') AS t(number, tranche) "
            f"WHERE t.tranche ->> 'status' = ANY(%s) AND t.tranche ->> 'lpj' IS DISTINCT FROM 'accepted' AND {where} "
            "ORDER BY paid_on, g.proposal_id, tranche", (list(PAID), *params))
        today = jakarta_today()
        return [{**row, "paid_on": row["paid_on"].isoformat(), "days_since_paid": (today - row["paid_on"]).days,
                 "overdue": (today - row["paid_on"]).days > self.rules.lpj_due_days} for row in rows]

    def dashboard(self, region: str | None = None) -> dict:
        """Per village of the region with a proposal: proposals by status, money approved (grants not cancelled)
        and disbursed, overdue LPJ; and the budgets (national: not split by region)."""
        where, params = in_region("village_code", region)
        grants_where, _ = in_region("g.village_code", region)
        villages: dict[str, dict] = {}
        for row in self.query(f"SELECT village_code, status, count(*) AS n FROM proposals WHERE {where} "
                              "GROUP BY village_code, status", params):
            village = villages.setdefault(row["village_code"], {
                "village_code": row["village_code"], "proposals": {}, "approved_rp": 0, "disbursed_rp": 0,
                "lpj_overdue": 0})
            village["proposals"][row["status"]] = row["n"]
        for row in self.query(
                "SELECT g.village_code, coalesce(sum(g.amount_rp) FILTER (WHERE p.status = 'approved'), 0) AS "
                "approved_rp, sum(g.disbursed_rp) AS disbursed_rp FROM grants g JOIN proposals p USING (proposal_id) "
                f"WHERE {grants_where} GROUP BY g.village_code", params):
            villages[row["village_code"]].update(approved_rp=int(row["approved_rp"]),
                                                 disbursed_rp=int(row["disbursed_rp"]))
        for due in self.lpj_due(region):
            villages[due["village_code"]]["lpj_overdue"] += due["overdue"]
        return {"villages": [villages[code] for code in sorted(villages)], "budgets": self.budgets()}

    def totals(self) -> dict:
        """Read back from the read models, for the demo and operators: the programme at a glance."""
        proposals = {row["status"]: row["n"] for row in self.query(
            "SELECT status, count(*) AS n FROM proposals GROUP BY status")}
        returned = self.query("SELECT count(*) AS n FROM proposals WHERE times_returned > 0")[0]["n"]
        money = self.query("SELECT coalesce(sum(amount_rp), 0) AS approved, coalesce(sum(disbursed_rp), 0) AS "
                           "disbursed, coalesce(sum(refunded_rp), 0) AS refunded FROM grants")[0]
        retried = self.query(
            "SELECT count(*) AS n FROM grants g, jsonb_each(g.state -> 'tranches') AS t(number, tranche) "
            "WHERE (t.tranche ->> 'failed')::int > 0 AND t.tranche ->> 'status' IN ('confirmed', 'delivered')")
        return {
            "approved": proposals.get("approved", 0), "returned": int(returned),
            "rejected": proposals.get("rejected", 0),
            "proposals_by_status": proposals, "approved_rp": int(money["approved"]),
            "disbursed_rp": int(money["disbursed"]), "refunded_rp": int(money["refunded"]),
            "failed_then_retried": int(retried[0]["n"]),
        }

    # --- public events ------------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        mapper = PUBLIC_EVENTS.get(type(domain_event))
        if mapper is None:
            raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
        return mapper(self, domain_event)


# --- read-model rows ------------------------------------------------------------------------------------------

def proposal_row(proposal: Proposal) -> tuple:
    approval = proposal.approval or {}
    return (proposal.id, proposal.group_id, proposal.group_name, proposal.village_code, proposal.status,
            proposal.requested_rp, approval.get("amount_rp"), approval.get("form", proposal.form), bool(proposal.flags),
            approval.get("fiscal_year"), approval.get("source"), proposal.times_returned)


def budget_row(budget: Budget) -> tuple:
    return (budget.id, budget.fiscal_year, budget.source, budget.ceiling_rp, budget.committed_rp)


def grant_row(grant: Grant) -> tuple:
    """The grant's row; ``state`` holds what the worklists need of each tranche without loading the grant."""
    tranches = {}
    for t in grant.tranches:
        live = grant.live_payment(t.number) or {}
        tranches[str(t.number)] = {
            "amount_rp": t.amount_rp, "status": grant.tranche_status(t.number),
            "failed": sum(1 for p in grant.payments_of(t.number) if p["status"] == "failed"),
            "lpj": grant.lpj.get(t.number, {}).get("status"), "payment_id": live.get("payment_id"),
            "paid_on": live.get("paid_on")}
    state = {"approved_at": utc_iso(grant.created_on), "tranches": tranches}
    return (grant.id, grant.proposal_id, grant.group_id, grant.village_code, grant.amount_rp, grant.form,
            grant.disbursed_rp, grant.refunded_rp, Jsonb(state))


def payable(number: int, status: str, earlier: list[TrancheProgress], gate_open: bool) -> dict:
    """Whether a tranche can be paid now and, when a payment rule blocks it, the rule. One with a payment under
    way or done is neither payable nor blocked."""
    if status != "pending":
        return {"payable": False, "blocked_by": None}
    try:
        check_tranche_order(number, earlier, gate_open)
    except RuleViolated as refusal:
        return {"payable": False, "blocked_by": refusal.rule}
    return {"payable": True, "blocked_by": None}


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def payment_result(payment: dict, repeated: bool) -> dict:
    return {**jsonable(payment), "repeated": repeated}


# --- public events ----------------------------------------------------------------------------------------------

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



GrantsApplication.audited_tables = (
    AuditedTable("proposals", ("proposal_id", "status", "requested_rp", "approved_rp", "flagged", "times_returned"),
                 lambda aggregates: ((p.id, p.status, p.requested_rp, (p.approval or {}).get("amount_rp"),
                                      bool(p.flags), p.times_returned)
                                     for p in aggregates if isinstance(p, Proposal))),
    AuditedTable("budgets", ("budget_id", "ceiling_rp", "committed_rp"),
                 lambda aggregates: ((b.id, b.ceiling_rp, b.committed_rp)
                                     for b in aggregates if isinstance(b, Budget))),
    AuditedTable("grants", ("grant_id", "amount_rp", "disbursed_rp", "refunded_rp"),
                 lambda aggregates: ((g.id, g.amount_rp, g.disbursed_rp, g.refunded_rp)
                                     for g in aggregates if isinstance(g, Grant))),
)
